import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AttentionMap,
  columnImportance,
  detectionScore,
  diagonalMean,
  firstTokenSinkHeads,
  hiddenSinks,
  patternMatrix,
  probeScores,
  repeatedRandomTokens,
  sinkRate,
} from '../src/index.js';

/** A causal map from a row function (normalised per row). */
function mapFrom(n: number, row: (i: number) => number[]): AttentionMap {
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const r = row(i);
    const s = r.reduce((a, b) => a + b, 0);
    for (let j = 0; j <= i; j++) data[i * n + j] = (r[j] ?? 0) / s;
  }
  return { n, data };
}
const uniform = (n: number) => mapFrom(n, (i) => Array(i + 1).fill(1));
const firstToken = (n: number) => mapFrom(n, () => [1]);

describe('column importance', () => {
  it('uniform causal attention: imp[j] = (1/(N−j)) Σ_{i≥j} 1/(i+1)', () => {
    const imp = columnImportance(uniform(4));
    expect(imp[3]).toBeCloseTo(1 / 4, 6);
    expect(imp[2]).toBeCloseTo((1 / 3 + 1 / 4) / 2, 6);
    expect(imp[0]).toBeCloseTo((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4, 6);
  });
});

describe('attention sinks', () => {
  it('sink rate counts (prompt, layer, head) with imp[0] > ε, as a percentage', () => {
    // 2 prompts × 2 layers × 4 heads; 5 of the 16 are first-token sinks.
    const n = 64;
    const prompt = (sinks: number[][]) => sinks.map((layer) => layer.map((s) => (s ? firstToken(n) : uniform(n))));
    const r = sinkRate([
      prompt([
        [1, 0, 0, 1],
        [0, 1, 0, 0],
      ]),
      prompt([
        [0, 0, 0, 1],
        [1, 0, 0, 0],
      ]),
    ]);
    expect(r).toMatchObject({ count: 5, total: 16, epsilon: 0.3, key: 0 });
    expect(r.rate).toBeCloseTo(31.25, 10);
    // Uniform attention at N = 64 puts imp[0] = H_64/64 ≈ 0.074 on key 0: below ε.
    expect(columnImportance(uniform(64))[0]).toBeLessThan(0.3);
  });

  it('flags first-token sink heads and hidden sinks (ignoring the last keys)', () => {
    const n = 64; // uniform background: imp[j] ≤ 0.06 for every j ≥ 1, below τ = 0.1
    // Rows that can see key 5 give it half their mass; the rest is uniform.
    const hidden = mapFrom(n, (i) => (i < 5 ? Array(i + 1).fill(1) : Array.from({ length: i + 1 }, (_, j) => (j === 5 ? i : 1))));
    // A column near the end that every row seeing it attends to: must be ignored (last 4 keys).
    const late = mapFrom(n, (i) => Array.from({ length: i + 1 }, (_, j) => (j === 61 ? 100 : 1)));
    const layers = [[firstToken(n), hidden, late]];
    expect(firstTokenSinkHeads(layers).map((f) => [f.layer, f.head])).toEqual([[0, 0]]);
    const hs = hiddenSinks(layers);
    expect(hs.map((f) => [f.head, f.evidence?.key])).toEqual([[1, 5]]);
    expect(hs[0]!.score).toBeCloseTo(columnImportance(hidden)[5]!, 10);
    expect(hiddenSinks(layers, { ignoreLastKeys: 0 }).some((f) => f.head === 2 && f.evidence?.key === 61)).toBe(true);
    expect(hiddenSinks(layers, { mode: 'relative', alpha: 5 }).every((f) => f.threshold === 5 / n)).toBe(true);
  });
});

describe('head detector (TransformerLens semantics)', () => {
  it('a perfect previous-token head scores (N−1)/N in mul mode, 1 when the current token is excluded', () => {
    const n = 10;
    const tokens = Array.from({ length: n }, (_, i) => i);
    const prev = mapFrom(n, (i) => (i === 0 ? [1] : Array.from({ length: i + 1 }, (_, j) => (j === i - 1 ? 1 : 0))));
    const P = patternMatrix('previous-token', tokens);
    expect(detectionScore(prev, P)).toBeCloseTo((n - 1) / n, 6);
    expect(detectionScore(prev, P, { excludeCurrentToken: true })).toBeCloseTo(1, 6);
    // abs: |A − P| is 1 only at (0,0): 1 − round(1/N, 3).
    expect(detectionScore(prev, P, { mode: 'abs' })).toBeCloseTo(1 - 0.1, 6);
    expect(detectionScore(uniform(n), P)).toBeLessThan(0.35);
  });

  it('induction and duplicate patterns on a repeated sequence', () => {
    const tokens = [7, 3, 9, 4, 7, 3, 9, 4];
    const ind = patternMatrix('induction', tokens);
    const dup = patternMatrix('duplicate-token', tokens);
    // Row 4 (token 7) → induction key 1 (after the earlier 7); duplicate key 0.
    expect(ind[4 * 8 + 1]).toBe(1);
    expect(dup[4 * 8 + 0]).toBe(1);
    expect(ind.reduce((a, b) => a + b, 0)).toBe(4);
    expect(dup.reduce((a, b) => a + b, 0)).toBe(4);
    // A head that does induction on rows 4..7 and attends to itself elsewhere.
    const head = mapFrom(8, (i) => Array.from({ length: i + 1 }, (_, j) => (i >= 4 ? (j === i - 3 ? 1 : 0) : j === i ? 1 : 0)));
    expect(detectionScore(head, ind)).toBeCloseTo(4 / 8, 6);
    expect(detectionScore(head, ind, { excludeCurrentToken: true })).toBeCloseTo(1, 6);
    expect(detectionScore(head, dup)).toBeCloseTo(0, 6);
  });

  it('the repeated-random-token probe reads induction at offset −(n−1), duplicate at −n', () => {
    const n = 12;
    const tokens = repeatedRandomTokens(n, 100, 1000, 42);
    expect(tokens.slice(0, n)).toEqual(tokens.slice(n));
    expect(repeatedRandomTokens(n, 100, 1000, 42)).toEqual(tokens);
    const N = 2 * n;
    const induction = mapFrom(N, (i) => Array.from({ length: i + 1 }, (_, j) => (i >= n ? (j === i - (n - 1) ? 1 : 0) : j === 0 ? 1 : 0)));
    expect(probeScores(induction, n)).toEqual({ previousToken: expect.any(Number), duplicateToken: 0, induction: 1 });
    expect(diagonalMean(induction, n - 1, n)).toBe(1);
    // The probe agrees with the pattern-matrix score where the first half attends elsewhere.
    expect(detectionScore(induction, patternMatrix('induction', tokens), { excludeBos: true })).toBeCloseTo(1, 6);
  });

  it('mul scores lie in [0, 1] for any causal stochastic map (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom('previous-token', 'duplicate-token', 'induction'),
        (n, seed, pat) => {
          let s = seed;
          const rand = () => {
            s = (s * 1103515245 + 12345) % 2 ** 31;
            return s / 2 ** 31 + 1e-3;
          };
          const map = mapFrom(n, (i) => Array.from({ length: i + 1 }, rand));
          const tokens = Array.from({ length: n }, () => Math.floor(rand() * 3));
          const score = detectionScore(map, patternMatrix(pat as 'induction', tokens));
          return score >= 0 && score <= 1 + 1e-9;
        },
      ),
    );
  });
});
