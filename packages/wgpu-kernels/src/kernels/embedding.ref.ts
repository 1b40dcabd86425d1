/** CPU reference for embedding: gathered rows (+ position rows); ids outside [0, V) give zero rows. */
export function embeddingRef(
  ids: Uint32Array | Int32Array,
  table: Float32Array,
  dim: number,
  positions?: { table: Float32Array; offset: number },
  scale = 1,
): Float32Array {
  const vocab = table.length / dim;
  const y = new Float32Array(ids.length * dim);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t]!;
    const ok = id >= 0 && id < vocab;
    for (let d = 0; d < dim; d++) {
      let v = ok ? Math.fround(table[id * dim + d]! * scale) : 0;
      if (positions) v += positions.table[(positions.offset + t) * dim + d]!;
      y[t * dim + d] = v;
    }
  }
  return y;
}
