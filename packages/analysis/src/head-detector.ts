import type { AttentionMap } from './finding.js';

export type HeadPattern = 'previous-token' | 'duplicate-token' | 'induction';

/**
 * The 0/1 lower-triangular pattern matrices of TransformerLens' head detector (methods.md §3):
 * previous-token P[i,i−1]; duplicate-token P[i,j] iff tok[j] = tok[i], j < i; induction P[i,j] iff
 * tok[j−1] = tok[i] with j−1 < i (the key right after an earlier occurrence of the current token).
 */
export function patternMatrix(pattern: HeadPattern, tokens: readonly number[]): Float32Array {
  const n = tokens.length;
  const p = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let on = false;
      if (pattern === 'previous-token') on = j === i - 1;
      else if (pattern === 'duplicate-token') on = j < i && tokens[j] === tokens[i];
      else on = j >= 1 && j - 1 < i && tokens[j - 1] === tokens[i];
      if (on) p[i * n + j] = 1;
    }
  }
  return p;
}

export interface DetectOptions {
  /** 'mul' (default): Σ(A⊙P)/ΣA. 'abs': 1 − round(Σ|A−P|/N, 3). */
  mode?: 'mul' | 'abs';
  /** Zero column 0 before scoring. Default false. */
  excludeBos?: boolean;
  /** Zero the diagonal before scoring. Default false. */
  excludeCurrentToken?: boolean;
}

/** How well one head's map matches a pattern, with TransformerLens semantics. */
export function detectionScore(map: AttentionMap, pattern: Float32Array, options: DetectOptions = {}): number {
  const { n, data } = map;
  const mode = options.mode ?? 'mul';
  const keep = (i: number, j: number) => !((options.excludeBos && j === 0) || (options.excludeCurrentToken && i === j));
  if (mode === 'mul') {
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (!keep(i, j)) continue;
        const a = data[i * n + j]!;
        num += a * pattern[i * n + j]!;
        den += a;
      }
    }
    return den === 0 ? 0 : num / den;
  }
  let dist = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (keep(i, j)) dist += Math.abs(data[i * n + j]! - pattern[i * n + j]!);
  return 1 - Math.round((dist / n) * 1000) / 1000;
}
