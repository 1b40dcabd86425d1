/**
 * Which canonical tensors stay at 16 bits on the GPU. A checkpoint stored as F16 or BF16 keeps its large
 * matrices (attention and MLP projections, embedding, unembedding) in that format: the kernels unpack them
 * and accumulate in f32, so memory and weight reads halve while every value is the checkpoint's own.
 * Norm weights, biases and learned positions stay f32: they are small, and the kernels reading them are f32.
 */
import { formatSize } from '../errors.js';

/** 'checkpoint' keeps 16-bit matrices at 16 bits (default); 'f32' widens everything (for comparisons). */
export type WeightPrecision = 'checkpoint' | 'f32';

export type StoredDtype = 'f32' | 'f16' | 'bf16';

const HALF_MATRICES = /^(embed\.W_E|unembed\.W_U|blocks\.\d+\.attn\.W_[QKVO]|blocks\.\d+\.mlp\.W_(in|gate|out))$/;

/** The GPU dtype of a canonical tensor loaded from a checkpoint tensor of `checkpointDtype`. */
export function storedDtype(canonical: string, checkpointDtype: string, precision: WeightPrecision = 'checkpoint'): StoredDtype {
  if (precision === 'f32' || !HALF_MATRICES.test(canonical)) return 'f32';
  return checkpointDtype === 'F16' ? 'f16' : checkpointDtype === 'BF16' ? 'bf16' : 'f32';
}

/** Bytes of `elements` values stored as `dtype` (16-bit tensors are whole u32 words). */
export function storedBytes(elements: number, dtype: StoredDtype): number {
  return dtype === 'f32' ? elements * 4 : Math.ceil(elements / 2) * 4;
}

/** GPU memory of the weights as kept, and what fp32 would take. */
export interface WeightMemory {
  bytes: number;
  fp32Bytes: number;
  /** The stored dtypes of the weights, largest share first ("bf16", "f32"): what `bytes` is "as". */
  dtypes: StoredDtype[];
}

/** "weights 1.9 GiB as bf16 (3.8 GiB as f32)", or "weights 3.8 GiB as f32" when nothing is kept at 16 bits. */
export function describeWeightMemory(m: WeightMemory): string {
  const as = m.dtypes.find((d) => d !== 'f32');
  if (!as) return `weights ${formatSize(m.fp32Bytes)} as f32`;
  return `weights ${formatSize(m.bytes)} as ${as} (${formatSize(m.fp32Bytes)} as f32)`;
}

/** Adds up stored tensors (elements and dtype each) into a WeightMemory. */
export function weightMemoryOf(tensors: Iterable<{ elements: number; dtype: StoredDtype }>): WeightMemory {
  const byDtype = new Map<StoredDtype, number>();
  let bytes = 0;
  let fp32Bytes = 0;
  for (const t of tensors) {
    const b = storedBytes(t.elements, t.dtype);
    bytes += b;
    fp32Bytes += t.elements * 4;
    byDtype.set(t.dtype, (byDtype.get(t.dtype) ?? 0) + b);
  }
  const dtypes = [...byDtype.entries()].sort((x, y) => y[1] - x[1]).map(([d]) => d);
  return { bytes, fp32Bytes, dtypes };
}
