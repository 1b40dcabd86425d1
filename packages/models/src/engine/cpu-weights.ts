/**
 * The weights of the CPU reference path: plain Float32Arrays on the host, in the same layout as the GPU
 * weights (linear weights [in, out]; a tied unembed reads W_E [vocab, d_model] transposed).
 */
import type { ModelConfig } from '../families/types.js';
import type { CanonicalTensor as LoadedTensor } from '../loading/load-model.js';
import { assembleWeights, type LinearOf, type ModelWeightsOf, type NormOf } from './weights.js';

type CanonicalTensor = Pick<LoadedTensor, 'name' | 'shape' | 'data'>;

/** y = x·W (+ b) with W [in, out], or W [out, in] when `transB`; dimensions follow from x and W. */
export type CpuLinear = LinearOf<Float32Array>;
export type CpuNorm = NormOf<Float32Array>;
export type CpuModelWeights = ModelWeightsOf<Float32Array>;

/** Collects the streamed canonical tensors into host arrays, in the shape the CPU forward pass reads. */
export async function hostWeights(config: ModelConfig, tensors: AsyncIterable<CanonicalTensor>): Promise<CpuModelWeights> {
  const host = new Map<string, Float32Array>();
  for await (const t of tensors) host.set(t.name, t.data);
  return assembleWeights(config, host);
}

/**
 * y = x·W (+ b) for `rows` rows of x, accumulated in float64 and rounded to float32 as matmulRef does; the
 * loops run along contiguous memory (row-times-matrix for [in, out], dot products for transposed weights)
 * so that a ~30M-parameter model stays usable.
 */
export function linearCpu(x: Float32Array, rows: number, lin: CpuLinear): Float32Array {
  const { w, b } = lin;
  const k = x.length / rows;
  const n = w.length / k;
  if (!Number.isInteger(k) || !Number.isInteger(n)) throw new Error(`linearCpu: x has ${x.length} values for ${rows} rows, W has ${w.length}`);
  const y = new Float32Array(rows * n);
  if (lin.transB) {
    for (let i = 0; i < rows; i++) {
      const xo = i * k;
      for (let j = 0; j < n; j++) {
        const wo = j * k;
        let s = b ? b[j]! : 0;
        for (let t = 0; t < k; t++) s += x[xo + t]! * w[wo + t]!;
        y[i * n + j] = s;
      }
    }
    return y;
  }
  const acc = new Float64Array(n);
  for (let i = 0; i < rows; i++) {
    if (b) for (let j = 0; j < n; j++) acc[j] = b[j]!;
    else acc.fill(0);
    for (let t = 0; t < k; t++) {
      const a = x[i * k + t]!;
      if (a === 0) continue;
      const wo = t * n;
      for (let j = 0; j < n; j++) acc[j] = acc[j]! + a * w[wo + j]!;
    }
    y.set(acc, i * n);
  }
  return y;
}
