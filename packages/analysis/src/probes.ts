import { mulberry32 } from '@headscope/models';
import type { AttentionMap } from './finding.js';

/** Seeded generator (mulberry32, shared with seeded sampling) so probes repeat exactly. */
export const seededRandom = mulberry32;

/** n random token ids from [low, high), repeated twice (length 2n, no BOS): the diagnostic probe of §3. */
export function repeatedRandomTokens(n: number, low: number, high: number, seed: number): number[] {
  if (!(high > low) || n < 2) throw new RangeError('repeatedRandomTokens needs n ≥ 2 and high > low');
  const r = seededRandom(seed);
  const half = Array.from({ length: n }, () => low + Math.floor(r() * (high - low)));
  return [...half, ...half];
}

/** Mean of the diagonal at offset −k (A[i, i−k]) over rows i ≥ k. */
export function diagonalMean(map: AttentionMap, k: number, fromRow = k): number {
  const { n, data } = map;
  let s = 0;
  let c = 0;
  for (let i = Math.max(k, fromRow); i < n; i++) {
    s += data[i * n + i - k]!;
    c++;
  }
  return c === 0 ? 0 : s / c;
}

export interface ProbeScores {
  previousToken: number;
  duplicateToken: number;
  induction: number;
}

/**
 * On a 2n-token repeated-random probe: previous-token = mean of diagonal −1, duplicate = −n, induction
 * = −(n−1), the last two over the second repeat (rows ≥ n), where the pattern exists.
 */
export function probeScores(map: AttentionMap, n: number): ProbeScores {
  return { previousToken: diagonalMean(map, 1), duplicateToken: diagonalMean(map, n, n), induction: diagonalMean(map, n - 1, n) };
}
