/** Applies a TensorTransform to host data: transposes and the splits of fused QKV tensors. */
import { transformShape } from './canonical.js';
import type { TensorTransform } from './types.js';

export interface HostTensor {
  data: Float32Array;
  shape: number[];
}

export function applyTransform(data: Float32Array, shape: readonly number[], t: TensorTransform): HostTensor {
  switch (t.kind) {
    case 'copy':
      return { data, shape: [...shape] };
    case 'transpose':
      return shape.length === 2 ? { data: transpose2d(data, shape[0]!, shape[1]!), shape: [shape[1]!, shape[0]!] } : { data, shape: [...shape] };
    case 'split': {
      const picked = pick(data, shape, t.axis, partIndices(t));
      const s = transformShape(shape, { ...t, transpose: false });
      if (!t.transpose || s.length !== 2) return { data: picked, shape: s };
      return { data: transpose2d(picked, s[0]!, s[1]!), shape: [s[1]!, s[0]!] };
    }
  }
}

/**
 * Indices along the fused axis that belong to part `index`, as [start, length] runs. GPT-NeoX's fused
 * query_key_value rows are grouped by head: head h owns rows [h·3·d_head, (h+1)·3·d_head), inside which q,
 * k and v follow each other (HF reshapes the projection to [.., n_heads, 3·d_head] and splits the last
 * axis in three). GPT-2's c_attn is blocked: all q columns, then all k, then all v.
 */
function partIndices(t: Extract<TensorTransform, { kind: 'split' }>): [number, number][] {
  if (t.layout === 'blocked') {
    let start = 0;
    for (let i = 0; i < t.index; i++) start += t.sizes[i]!;
    return [[start, t.sizes[t.index]!]];
  }
  const runs: [number, number][] = [];
  for (let h = 0; h < t.nHeads; h++) runs.push([(h * t.parts + t.index) * t.headDim, t.headDim]);
  return runs;
}

/** Gathers the given runs along `axis` (0 = rows, 1 = columns; a 1-D tensor has only axis 0). */
function pick(data: Float32Array, shape: readonly number[], axis: 0 | 1, runs: [number, number][]): Float32Array {
  const width = runs.reduce((s, r) => s + r[1], 0);
  if (shape.length === 1 || axis === 0) {
    const inner = shape.length === 1 ? 1 : shape[1]!;
    const out = new Float32Array(width * inner);
    let o = 0;
    for (const [start, len] of runs) {
      out.set(data.subarray(start * inner, (start + len) * inner), o);
      o += len * inner;
    }
    return out;
  }
  const rows = shape[0]!;
  const cols = shape[1]!;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    let o = r * width;
    for (const [start, len] of runs) {
      out.set(data.subarray(r * cols + start, r * cols + start + len), o);
      o += len;
    }
  }
  return out;
}

const TILE = 32;

/** [rows, cols] → [cols, rows], in tiles so both sides stay in cache for big matrices. */
export function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(cols, c0 + TILE);
      for (let r = r0; r < r1; r++) {
        const row = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = src[row + c]!;
      }
    }
  }
  return out;
}
