/** CPU reference for matmul (float64 accumulation, float32 results). */
export interface MatmulRefDims {
  /** Rows used per batch (the `m` argument); a holds `aRows` ≥ m rows per batch. */
  m: number;
  n: number;
  k: number;
  batch?: number;
  aRows?: number;
  transB?: boolean;
  /** b has its own matrix per batch (else one b for all). */
  bBatched?: boolean;
}

/** C[bi, i, j] = Σ_k A[bi, i, k]·B[k, j] (+ bias[j]); B indexed [j, k] when transB. Returns [batch, m, n]. */
export function matmulRef(a: Float32Array, b: Float32Array, d: MatmulRefDims, bias?: Float32Array | null): Float32Array {
  const batch = d.batch ?? 1;
  const aRows = d.aRows ?? d.m;
  const { m, n, k } = d;
  const c = new Float32Array(batch * m * n);
  for (let bi = 0; bi < batch; bi++) {
    const aOff = bi * aRows * k;
    const bOff = d.bBatched ? bi * k * n : 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = bias ? bias[j]! : 0;
        for (let t = 0; t < k; t++) {
          const bv = d.transB ? b[bOff + j * k + t]! : b[bOff + t * n + j]!;
          s += a[aOff + i * k + t]! * bv;
        }
        c[(bi * m + i) * n + j] = s;
      }
    }
  }
  return c;
}
