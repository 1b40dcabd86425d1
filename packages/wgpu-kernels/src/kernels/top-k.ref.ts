/** CPU reference for topK: per row, the k largest values (ties: lower index first) and their indices. */
export function topKRef(x: Float32Array, cols: number, k: number): { values: Float32Array; indices: Uint32Array } {
  const rows = x.length / cols;
  const values = new Float32Array(rows * k);
  const indices = new Uint32Array(rows * k);
  const order = new Uint32Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let i = 0; i < cols; i++) order[i] = i;
    // Equal values (including −0 and +0, or two infinities) compare as ties and fall back to the index.
    order.sort((a, b) => {
      const va = x[o + a]!;
      const vb = x[o + b]!;
      return va > vb ? -1 : va < vb ? 1 : a - b;
    });
    for (let j = 0; j < k; j++) {
      indices[r * k + j] = order[j]!;
      values[r * k + j] = x[o + order[j]!]!;
    }
  }
  return { values, indices };
}
