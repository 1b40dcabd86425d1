/**
 * Which files hold the weights (model.safetensors, or shards listed by model.safetensors.index.json), and
 * their headers merged into one name → location table.
 */
import { CheckpointIndexError, MissingFileError, MissingWeightsError } from '../errors.js';
import { readSafetensorsHeader, type SafetensorsHeader, type TensorInfo } from './safetensors.js';
import { type FileSource, isPlainFileName, type ReadOptions } from './source.js';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export interface WeightFiles {
  files: string[];
  /** tensor name → shard, from the index (sharded checkpoints only). */
  weightMap?: ReadonlyMap<string, string>;
}

/** Reads a small text file; undefined when it does not exist (one request, no existence probe first). */
export async function readTextIfExists(source: FileSource, file: string, options?: ReadOptions): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await source.read(file, undefined, options));
  } catch (e) {
    if (e instanceof MissingFileError) return undefined;
    throw e;
  }
}

export async function findWeightFiles(source: FileSource, options?: ReadOptions): Promise<WeightFiles> {
  if ((await source.size(SINGLE_FILE, options)) !== undefined) return { files: [SINGLE_FILE] };
  const indexText = await readTextIfExists(source, INDEX_FILE, options);
  if (indexText !== undefined) return parseIndex(indexText);
  // A folder with shards but no index (hand-assembled): take every .safetensors file in name order.
  const listed = (await source.list?.())?.filter((f) => f.endsWith('.safetensors')).sort();
  if (listed?.length) return { files: listed };
  throw new MissingWeightsError(source.name);
}

export function parseIndex(text: string): WeightFiles {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointIndexError(`${INDEX_FILE} is not valid JSON (${(e as Error).message})`);
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new CheckpointIndexError(`${INDEX_FILE} has no "weight_map" object`);
  const weightMap = new Map<string, string>();
  for (const [name, file] of Object.entries(map)) {
    if (typeof file !== 'string' || !isPlainFileName(file) || !file.endsWith('.safetensors')) {
      throw new CheckpointIndexError(`"${name}" maps to ${JSON.stringify(file)}, not a .safetensors file name`);
    }
    weightMap.set(name, file);
  }
  if (weightMap.size === 0) throw new CheckpointIndexError(`${INDEX_FILE} lists no tensors`);
  return { files: [...new Set(weightMap.values())].sort(), weightMap };
}

export interface TensorLocation {
  file: string;
  info: TensorInfo;
}

/** Reads every file's header and merges them; checks the index against what the shards really hold. */
export async function readCheckpointHeaders(
  source: FileSource,
  weights: WeightFiles,
  options?: ReadOptions,
): Promise<{ headers: Map<string, SafetensorsHeader>; tensors: Map<string, TensorLocation> }> {
  // All shards at once: over HTTP each header is two small round trips, and a model may have dozens of shards.
  const read = await Promise.all(
    weights.files.map((file) =>
      readSafetensorsHeader(source, file, options).catch((e: unknown) => {
        if (e instanceof MissingFileError && weights.weightMap) throw new CheckpointIndexError(`the shard "${file}" it lists is missing`);
        throw e;
      }),
    ),
  );
  const headers = new Map<string, SafetensorsHeader>();
  const tensors = new Map<string, TensorLocation>();
  for (const [i, h] of read.entries()) {
    const file = weights.files[i]!;
    headers.set(file, h);
    for (const info of h.tensors) {
      const prev = tensors.get(info.name);
      if (prev) throw new CheckpointIndexError(`tensor "${info.name}" is in both "${prev.file}" and "${file}"`);
      tensors.set(info.name, { file, info });
    }
  }
  if (weights.weightMap) {
    for (const [name, file] of weights.weightMap) {
      const at = tensors.get(name);
      if (!at) throw new CheckpointIndexError(`tensor "${name}" is listed in "${file}" but no shard holds it`);
      if (at.file !== file) throw new CheckpointIndexError(`tensor "${name}" is listed in "${file}" but found in "${at.file}"`);
    }
  }
  return { headers, tensors };
}
