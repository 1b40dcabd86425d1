/** CPU references for layerNorm / rmsNorm (float64 accumulation, float32 results). */
export function layerNormRef(x: Float32Array, dim: number, w: Float32Array | null, b: Float32Array | null, eps: number): Float32Array {
  const rows = x.length / dim;
  const y = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < dim; i++) mean += x[r * dim + i]!;
    mean /= dim;
    let v = 0;
    for (let i = 0; i < dim; i++) v += (x[r * dim + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / dim + eps);
    for (let i = 0; i < dim; i++) y[r * dim + i] = (x[r * dim + i]! - mean) * inv * (w ? w[i]! : 1) + (b ? b[i]! : 0);
  }
  return y;
}

export function rmsNormRef(x: Float32Array, dim: number, w: Float32Array | null, eps: number, weightOffset = 0): Float32Array {
  const rows = x.length / dim;
  const y = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[r * dim + i]! ** 2;
    const inv = 1 / Math.sqrt(ss / dim + eps);
    for (let i = 0; i < dim; i++) y[r * dim + i] = x[r * dim + i]! * inv * (w ? w[i]! + weightOffset : 1);
  }
  return y;
}
