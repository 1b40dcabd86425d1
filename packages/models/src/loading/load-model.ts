/**
 * One code path for every source: inspect (config + headers, size check) → tokenizer → canonical tensors
 * streamed one checkpoint tensor at a time, transformed to the canonical orientation and shape-checked.
 */
import { MissingTensorError, TensorMismatchError } from '../errors.js';
import { applyTransform } from '../families/transform.js';
import type { FamilySpec, ModelConfig } from '../families/types.js';
import { type HeadscopeTokenizer, loadTokenizer } from '../tokenizer/tokenizer.js';
import { readTextIfExists } from './checkpoint.js';
import { type InspectOptions, inspectModel, type ModelInspection, type ResolvedTensor, sameShape } from './inspect.js';
import type { LoadProgress } from './progress.js';
import type { FileSource } from './source.js';
import { streamTensors } from './stream-tensors.js';

export interface CanonicalTensor {
  /** e.g. "blocks.0.attn.W_Q" (orientation: families/types.ts). */
  name: string;
  shape: number[];
  data: Float32Array;
  /** The checkpoint tensor it came from, and that tensor's stored dtype (F32, F16, BF16, F64). */
  source: string;
  sourceDtype: string;
}

export interface LoadModelOptions extends InspectOptions {
  onProgress?: (p: LoadProgress) => void;
  /** Canonical tensors not to produce (e.g. "unembed.W_U" when a tied unembed reuses W_E with a transposed matmul). */
  skip?: (canonical: string) => boolean;
  /** 'auto' follows the source (ranges for disk/File, one sequential pass per file over HTTP). */
  access?: 'auto' | 'ranges' | 'sequential';
}

export interface GenerationConfig {
  bosTokenId: number | null;
  eosTokenIds: number[];
  /** The file as parsed, for settings the app may honour (temperature, top_p …). */
  raw: Record<string, unknown>;
}

export interface LoadedModelFiles {
  /** Normalised config; `addBos`, BOS and EOS ids reflect the tokenizer and generation_config.json. */
  config: ModelConfig;
  spec: FamilySpec;
  tokenizer: HeadscopeTokenizer;
  generationConfig: GenerationConfig | undefined;
  inspection: ModelInspection;
  /**
   * Every canonical tensor once (in checkpoint order), validated. Iterate once: each iteration streams the
   * weights again. Peak host memory is one checkpoint tensor and what it produces.
   */
  tensors: AsyncIterable<CanonicalTensor>;
}

export async function loadModelFiles(source: FileSource, options: LoadModelOptions = {}): Promise<LoadedModelFiles> {
  const read = options.signal ? { signal: options.signal } : undefined;
  const inspection = await inspectModel(source, options);
  const generationConfig = parseGenerationConfig(await readTextIfExists(source, 'generation_config.json', read));
  let config = inspection.config;
  const eosTokenIds = [...new Set([...config.eosTokenIds, ...(generationConfig?.eosTokenIds ?? [])])];
  const tokenizer = await loadTokenizer(source, {
    nCtx: config.nCtx,
    bosTokenId: config.bosTokenId ?? generationConfig?.bosTokenId ?? null,
    eosTokenIds,
    ...(read ?? {}),
  });
  config = {
    ...config,
    addBos: tokenizer.addBosDefault,
    bosTokenId: tokenizer.bosTokenId ?? config.bosTokenId,
    eosTokenIds: [...new Set([...eosTokenIds, ...tokenizer.eosTokenIds])],
  };
  return {
    config,
    spec: inspection.spec,
    tokenizer,
    generationConfig,
    inspection,
    tensors: { [Symbol.asyncIterator]: () => canonicalTensors(source, inspection, options)[Symbol.asyncIterator]() },
  };
}

/** Streams the checkpoint tensors the spec needs and turns each into its canonical tensor(s). */
export async function* canonicalTensors(source: FileSource, inspection: ModelInspection, options: LoadModelOptions = {}): AsyncGenerator<CanonicalTensor> {
  const wanted = inspection.tensors.filter((t) => !options.skip?.(t.mapping.canonical));
  const bySource = new Map<string, ResolvedTensor[]>();
  for (const t of wanted) {
    const list = bySource.get(t.from.info.name) ?? [];
    list.push(t);
    bySource.set(t.from.info.name, list);
  }
  const files = inspection.files.map((f) => f.name).filter((f) => wanted.some((t) => t.from.file === f));
  const seen = new Set<string>();
  for await (const raw of streamTensors(source, files, {
    headers: inspection.headers,
    filter: (info) => bySource.has(info.name),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.access ? { access: options.access } : {}),
  })) {
    // Sequential access re-parses the header from the stream: it could differ from the inspected one.
    const targets = bySource.get(raw.name) ?? [];
    if (!(raw.data instanceof Float32Array) || !targets.every((t) => sameShape(t.mapping.sourceShape, raw.shape))) {
      throw new TensorMismatchError(raw.name, `[${targets[0]?.mapping.sourceShape.join(', ')}] float`, `${raw.dtype}[${raw.shape.join(', ')}]`);
    }
    for (const t of targets) {
      const out = applyTransform(raw.data, raw.shape, t.mapping.transform);
      seen.add(t.mapping.canonical);
      yield { name: t.mapping.canonical, shape: out.shape, data: out.data, source: raw.name, sourceDtype: raw.dtype };
    }
  }
  for (const t of wanted) if (!seen.has(t.mapping.canonical)) throw new MissingTensorError(t.mapping.canonical, t.mapping.source);
}

function parseGenerationConfig(text: string | undefined): GenerationConfig | undefined {
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // Optional file: a broken one is ignored rather than blocking the model.
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const ids = (v: unknown): number[] => (Array.isArray(v) ? v : [v]).filter((x): x is number => Number.isSafeInteger(x) && (x as number) >= 0);
  return { bosTokenId: ids(r['bos_token_id'])[0] ?? null, eosTokenIds: ids(r['eos_token_id']), raw: r };
}
