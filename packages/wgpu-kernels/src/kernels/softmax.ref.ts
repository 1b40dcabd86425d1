/** CPU reference for softmax: softmax(x / temperature) per row of `cols`, float64 accumulation. */
export function softmaxRef(x: Float32Array, cols: number, temperature = 1): Float32Array {
  const rows = cols === 0 ? 0 : x.length / cols;
  const y = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < cols; i++) m = Math.max(m, x[o + i]! / temperature);
    let s = 0;
    for (let i = 0; i < cols; i++) s += Math.exp(x[o + i]! / temperature - m);
    for (let i = 0; i < cols; i++) y[o + i] = Math.exp(x[o + i]! / temperature - m) / s;
  }
  return y;
}
