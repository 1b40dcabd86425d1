/** CPU reference for gatherColumns: out[i, r] = table[r, ids[i]] ([n, R]); an index ≥ C gives zeros. */
export function gatherColumnsRef(table: Float32Array, rows: number, ids: ArrayLike<number>): Float32Array {
  const cols = table.length / rows;
  const out = new Float32Array(ids.length * rows);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < cols) for (let r = 0; r < rows; r++) out[i * rows + r] = table[r * cols + id]!;
  }
  return out;
}

/** CPU reference for groupedHeadLogits (same layouts); returns each head's block and each row's argmax. */
export function groupedHeadLogitsRef(
  v: Float32Array,
  ou: Float32Array,
  rows: Uint32Array,
  cols: Uint32Array,
  o: { numHeads: number; numKvHeads: number; headDim: number; blockSize: number; colBias?: Float32Array },
): { logits: Float32Array; argmax: Uint32Array } {
  const { numHeads: H, numKvHeads: KV, headDim: dh, blockSize } = o;
  const N = v.length / (KV * dh);
  const R = rows.length / 4;
  const logits = new Float32Array(H * blockSize);
  const argmax = new Uint32Array(H * R);
  for (let h = 0; h < H; h++) {
    const kv = Math.floor(h / (H / KV));
    for (let r = 0; r < R; r++) {
      const [tok, first, count, offset] = [rows[4 * r]!, rows[4 * r + 1]!, rows[4 * r + 2]!, rows[4 * r + 3]!];
      let best = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < count; c++) {
        const j = cols[first + c]!;
        let s = o.colBias?.[j] ?? 0;
        for (let k = 0; k < dh; k++) s += v[tok * KV * dh + kv * dh + k]! * ou[(h * dh + k) * N + j]!;
        logits[h * blockSize + offset + c] = s;
        if (c === 0 || s > best) {
          best = s;
          argmax[h * R + r] = c;
        }
      }
    }
  }
  return { logits, argmax };
}
