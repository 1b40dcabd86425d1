/** CPU reference for add: float32 sum of equal-length arrays (exactly what the GPU computes). */
export function addRef(a: Float32Array, b: Float32Array): Float32Array {
  if (a.length !== b.length) throw new Error(`addRef: lengths ${a.length} and ${b.length} differ`);
  const y = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i]! + b[i]!;
  return y;
}
