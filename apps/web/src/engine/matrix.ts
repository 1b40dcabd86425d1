/**
 * Pure helpers the worker uses to turn read-back attention into what the main thread draws: windows of a
 * head's matrix (exact, or max-pooled for long prompts), grid thumbnails, per-head metrics from the GPU
 * reductions, and top-k predictions from a logits row. No GPU, no DOM: unit-tested in Node.
 */
import type { MatrixWindow, WindowRequest } from './protocol.js';

/** Clamps a request to a [T, K] matrix and cuts out its window, each cell the max over stride×stride values. */
export function cutWindow(full: Float32Array, T: number, K: number, req: WindowRequest): MatrixWindow {
  const stride = Math.max(1, Math.floor(req.stride));
  const q0 = clamp(Math.floor(req.q0), 0, T);
  const k0 = clamp(Math.floor(req.k0), 0, K);
  const q1 = clamp(Math.ceil(req.q1), q0, T);
  const k1 = clamp(Math.ceil(req.k1), k0, K);
  const rows = Math.ceil((q1 - q0) / stride);
  const cols = Math.ceil((k1 - k0) / stride);
  const values = new Float32Array(rows * cols);
  if (stride === 1) {
    for (let r = 0; r < rows; r++) values.set(full.subarray((q0 + r) * K + k0, (q0 + r) * K + k1), r * cols);
    return { q0, k0, rows, cols, stride, values };
  }
  for (let r = 0; r < rows; r++) {
    const qa = q0 + r * stride;
    const qb = Math.min(q1, qa + stride);
    for (let c = 0; c < cols; c++) {
      const ka = k0 + c * stride;
      const kb = Math.min(k1, ka + stride);
      let m = 0;
      for (let q = qa; q < qb; q++) {
        const base = q * K;
        for (let k = ka; k < kb; k++) {
          const v = full[base + k]!;
          if (v > m) m = v;
        }
      }
      values[r * cols + c] = m;
    }
  }
  return { q0, k0, rows, cols, stride, values };
}

/** Max-pools every head of a layer [H, T, K] to [H, size, size] (bins of fractional width, so any T fits). */
export function thumbnails(
  layer: Float32Array,
  H: number,
  T: number,
  K: number,
  size: number,
  out = new Float32Array(H * size * size),
  offset = 0,
): Float32Array {
  for (let h = 0; h < H; h++) {
    const base = h * T * K;
    for (let r = 0; r < size; r++) {
      const qa = Math.floor((r * T) / size);
      const qb = Math.max(qa + 1, Math.floor(((r + 1) * T) / size));
      for (let c = 0; c < size; c++) {
        const ka = Math.floor((c * K) / size);
        const kb = Math.max(ka + 1, Math.floor(((c + 1) * K) / size));
        let m = 0;
        for (let q = qa; q < Math.min(qb, T); q++) {
          for (let k = ka; k < Math.min(kb, K); k++) {
            const v = layer[base + q * K + k]!;
            if (v > m) m = v;
          }
        }
        out[offset + (h * size + r) * size + c] = m;
      }
    }
  }
  return out;
}

/** The grid's per-head numbers from one head's GPU reductions. */
export function headMetricValues(stats: { entropy: Float32Array; firstMass: Float32Array; colMean: Float32Array }): {
  entropy: number;
  firstMass: number;
  maxColumn: number;
} {
  const T = stats.entropy.length;
  let e = 0;
  for (let i = 0; i < T; i++) e += stats.entropy[i]!;
  // Query 0 can only attend to key 0: leave it out of the first-token mass unless it is the only query.
  let f = 0;
  const from = T > 1 ? 1 : 0;
  for (let i = from; i < T; i++) f += stats.firstMass[i]!;
  let m = 0;
  for (const v of stats.colMean) if (v > m) m = v;
  return { entropy: T ? e / T : 0, firstMass: T - from ? f / (T - from) : 0, maxColumn: m };
}

/** Softmax of a logits row and its k most probable ids (ties: lower id first). */
export function topKFromLogits(row: Float32Array, k: number): { id: number; prob: number }[] {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of row) if (v > max) max = v;
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  const n = Math.min(k, row.length);
  const best: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (best.length === n && v <= row[best[n - 1]!]!) continue;
    let at = best.length;
    while (at > 0 && row[best[at - 1]!]! < v) at--;
    best.splice(at, 0, i);
    if (best.length > n) best.pop();
  }
  return best.map((id) => ({ id, prob: Math.exp(row[id]! - max) / sum }));
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
