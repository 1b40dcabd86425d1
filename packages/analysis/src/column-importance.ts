import type { AttentionMap } from './finding.js';

/**
 * imp[j] = (1/(N−j)) Σ_{i≥j} A[i,j]: the mean attention key j receives from the queries that can see it
 * (methods.md §1). The GPU computes the same reduction (attentionStats); this is the host version for
 * maps already read back, and the reference the GPU path is tested against.
 */
export function columnImportance(map: AttentionMap): Float64Array {
  const { n, data } = map;
  const imp = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) imp[j]! += data[i * n + j]!;
  for (let j = 0; j < n; j++) imp[j] = imp[j]! / (n - j);
  return imp;
}
