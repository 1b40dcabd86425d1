/** CPU reference for headScale: x[t, h·D + d] · scales[h]. */
export function headScaleRef(x: Float32Array, scales: ArrayLike<number>, headDim: number): Float32Array {
  const y = new Float32Array(x.length);
  const heads = scales.length;
  for (let i = 0; i < x.length; i++) y[i] = x[i]! * scales[Math.floor(i / headDim) % heads]!;
  return y;
}
