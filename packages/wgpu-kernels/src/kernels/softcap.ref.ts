/** CPU reference for softcap: cap·tanh(x/cap) in float64, rounded to float32. */
export function softcapRef(x: Float32Array, cap: number): Float32Array {
  return x.map((v) => cap * Math.tanh(v / cap));
}
