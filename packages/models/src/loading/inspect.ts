/**
 * The size/parameter report made before any weight is downloaded: config.json plus the safetensors
 * headers (two small Range requests per file over HTTP). It also resolves and validates every canonical
 * tensor against the checkpoint, so a mismatched or incomplete model fails here, cheaply.
 */
import { MissingFileError, MissingTensorError, ModelTooLargeError, TensorMismatchError } from '../errors.js';
import { canonicalShape } from '../families/canonical.js';
import { parseModelConfig } from '../families/registry.js';
import type { FamilySpec, ModelConfig, TensorMapping } from '../families/types.js';
import { findWeightFiles, readCheckpointHeaders, readTextIfExists, type TensorLocation } from './checkpoint.js';
import { DTYPE_BYTES, isFloatDtype } from './dtype.js';
import { dataLength, type SafetensorsHeader } from './safetensors.js';
import type { FileSource, ReadOptions } from './source.js';
import { type StoredDtype, storedBytes, storedDtype, type WeightMemory, type WeightPrecision, weightMemoryOf } from './weight-storage.js';

export interface InspectOptions extends ReadOptions {
  /** The GPU's largest single buffer (min of maxBufferSize and maxStorageBufferBindingSize), in bytes. */
  maxBufferBytes?: number;
  /** A budget for all weights together on the GPU, in bytes. */
  maxTotalBytes?: number;
  /** Keep F16/BF16 matrices at 16 bits on the GPU ('checkpoint', the default) or widen them to f32. */
  weightPrecision?: WeightPrecision;
}

export interface ResolvedTensor {
  mapping: TensorMapping;
  /** The checkpoint tensor it comes from. */
  from: TensorLocation;
}

export interface ModelInspection {
  source: string;
  config: ModelConfig;
  spec: FamilySpec;
  files: { name: string; bytes: number }[];
  headers: Map<string, SafetensorsHeader>;
  /** Parameters stored in the checkpoint (float tensors; a tied embedding counts once). */
  parameters: number;
  parametersByDtype: Record<string, number>;
  /** Bytes of all weight files. */
  checkpointBytes: number;
  /** What the canonical tensors take on the GPU as fp32 (a tied W_U is not counted: the engine reads W_E transposed). */
  fp32Bytes: number;
  /** What the canonical tensors take on the GPU as loaded (16-bit matrices of F16/BF16 checkpoints halve it). */
  gpuWeights: WeightMemory;
  /** The largest canonical tensor as fp32: it must fit one GPU buffer. */
  largestTensor: { name: string; shape: number[]; bytes: number };
  /** The largest canonical tensor as loaded (a 16-bit matrix takes half its fp32 bytes): the one GPU buffer limit that applies. */
  largestStored: { name: string; shape: number[]; bytes: number; dtype: StoredDtype };
  tensors: ResolvedTensor[];
}

export async function inspectModel(source: FileSource, options: InspectOptions = {}): Promise<ModelInspection> {
  const read = options.signal ? { signal: options.signal } : undefined;
  const configText = await readTextIfExists(source, 'config.json', read);
  if (configText === undefined) throw new MissingFileError('config.json', source.name);
  const { spec, config } = parseModelConfig(configText);
  const weights = await findWeightFiles(source, read);
  const { headers, tensors } = await readCheckpointHeaders(source, weights, read);

  const resolved = spec.tensors(config).map((m) => resolveTensor(m, tensors, config));
  let parameters = 0;
  const parametersByDtype: Record<string, number> = {};
  for (const { info } of tensors.values()) {
    if (!isFloatDtype(info.dtype)) continue;
    const n = (info.end - info.begin) / DTYPE_BYTES[info.dtype]!;
    parameters += n;
    parametersByDtype[info.dtype] = (parametersByDtype[info.dtype] ?? 0) + n;
  }
  let fp32Bytes = 0;
  const stored: { elements: number; dtype: StoredDtype }[] = [];
  let largest = { name: '', shape: [] as number[], bytes: 0 };
  let largestStored = { ...largest, dtype: 'f32' as StoredDtype };
  // loadModel and loadModelCpu skip a tied unembedding (a 262k × 640 vocabulary would otherwise count twice).
  const tiedUnembed = config.tiedEmbeddings && !config.unembedBias;
  for (const { mapping, from } of resolved) {
    if (tiedUnembed && mapping.canonical === 'unembed.W_U') continue;
    const bytes = 4 * mapping.shape.reduce((a, b) => a * b, 1);
    fp32Bytes += bytes;
    const dtype = storedDtype(mapping.canonical, from.info.dtype, options.weightPrecision);
    stored.push({ elements: bytes / 4, dtype });
    const kept = storedBytes(bytes / 4, dtype);
    if (kept > largestStored.bytes) largestStored = { name: mapping.canonical, shape: mapping.shape, bytes: kept, dtype };
    if (bytes > largest.bytes) largest = { name: mapping.canonical, shape: mapping.shape, bytes };
  }
  const files = [...headers.values()].map((h) => ({ name: h.file, bytes: h.fileSize ?? h.dataStart + dataLength(h) }));
  const report: ModelInspection = {
    source: source.name,
    config,
    spec,
    files,
    headers,
    parameters,
    parametersByDtype,
    checkpointBytes: files.reduce((s, f) => s + f.bytes, 0),
    fp32Bytes,
    gpuWeights: weightMemoryOf(stored),
    largestTensor: largest,
    largestStored,
    tensors: resolved,
  };
  checkLimits(report, options);
  return report;
}

/** Throws ModelTooLargeError when the report exceeds the limits passed in. */
export function checkLimits(report: ModelInspection, limits: { maxBufferBytes?: number; maxTotalBytes?: number }): void {
  const { largestStored: t } = report;
  if (limits.maxBufferBytes !== undefined && t.bytes > limits.maxBufferBytes) {
    throw new ModelTooLargeError(
      `The largest weight (${t.name}, [${t.shape.join(', ')}])`,
      t.bytes,
      limits.maxBufferBytes,
      "this GPU's largest buffer",
      t.dtype === 'f32' ? 'fp32' : t.dtype,
    );
  }
  if (limits.maxTotalBytes !== undefined && report.gpuWeights.bytes > limits.maxTotalBytes) {
    const half = report.gpuWeights.dtypes.find((d) => d !== 'f32');
    throw new ModelTooLargeError('This model', report.gpuWeights.bytes, limits.maxTotalBytes, 'the GPU memory budget', half ? `${half} matrices` : 'fp32');
  }
}

function resolveTensor(m: TensorMapping, tensors: ReadonlyMap<string, TensorLocation>, config: ModelConfig): ResolvedTensor {
  const name = m.source.find((s) => tensors.has(s));
  if (name === undefined) throw new MissingTensorError(m.canonical, m.source);
  const from = tensors.get(name)!;
  const { info } = from;
  if (!isFloatDtype(info.dtype)) throw new TensorMismatchError(name, 'a float tensor (F32, F16, BF16)', `${info.dtype}[${info.shape.join(', ')}]`);
  if (!sameShape(info.shape, m.sourceShape)) {
    throw new TensorMismatchError(name, `shape [${m.sourceShape.join(', ')}] (for ${m.canonical})`, `shape [${info.shape.join(', ')}]`);
  }
  // A spec whose transform does not land on the canonical shape is a bug here, not in the user's files.
  const canonical = canonicalShape(m.canonical, config);
  if (!canonical || !sameShape(canonical, m.shape)) throw new Error(`family spec bug: ${m.canonical} maps to [${m.shape}] instead of [${canonical}]`);
  return { mapping: m, from };
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
