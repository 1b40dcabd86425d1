import { describe, expect, it } from 'vitest';
import { HEAD_SUMMARY_FIELDS, HEAD_SUMMARY_STRIDE, type HeadSummaryOptions, headSummary } from '../../src/kernels/head-summary.js';
import { headSummaryRef } from '../../src/kernels/head-summary.ref.js';
import { expectClose, randn, rng, useGpu } from '../helpers.js';

/** Causal softmax rows [H, T, Tk] (row i sees keys ≤ qoff + i), from seeded logits. */
function causalProbs(h: number, t: number, tk: number, qoff: number, seed: number): Float32Array {
  const logits = randn(h * t * tk, seed, 2);
  const probs = new Float32Array(h * t * tk);
  for (let r = 0; r < h * t; r++) {
    const visible = Math.min(tk, qoff + (r % t) + 1);
    let sum = 0;
    for (let j = 0; j < visible; j++) sum += Math.exp(logits[r * tk + j]!);
    for (let j = 0; j < visible; j++) probs[r * tk + j] = Math.exp(logits[r * tk + j]!) / sum;
  }
  return probs;
}

/** Tokens from a small alphabet, so duplicate and induction patterns occur. */
const tokensOf = (tk: number, seed: number) => {
  const r = rng(seed);
  return Uint32Array.from({ length: tk }, () => Math.floor(r() * 5));
};

describe('headSummary', () => {
  const gpu = useGpu();
  const cases: [string, number, number, number, number, HeadSummaryOptions][] = [
    ['square, no options', 3, 33, 33, 0, {}],
    ['exclude BOS and current token', 2, 65, 65, 0, { excludeBos: true, excludeCurrentToken: true }],
    ['probe n = 20 (T = 40)', 4, 40, 40, 0, { probeN: 20 }],
    ['KV cache: T = 7 queries after 70 keys', 2, 7, 77, 70, { probeN: 30 }],
    ['one token', 1, 1, 1, 0, { probeN: 1 }],
  ];
  for (const [name, h, t, tk, qoff, options] of cases) {
    it(`equals the float64 reference within 1e-5 of each mean (${name})`, async () => {
      const ctx = gpu();
      const probs = causalProbs(h, t, tk, qoff, t + h);
      const tokens = tokensOf(tk, tk);
      const out = headSummary(ctx, { probs: ctx.upload(probs, [h, t, tk]), tokens: ctx.upload(tokens), ...options });
      const got = await ctx.readF32(out);
      const want = headSummaryRef(probs, h, t, tk, tokens, options);
      expect(got.length).toBe(h * HEAD_SUMMARY_STRIDE);
      // The atlas uses means over rows: compare sums / T at 1e-5.
      expectClose(
        got.map((x) => x / t),
        want.map((x) => x / t),
        1e-5,
      );
      // The fields are not all zero: the patterns and diagonals occur in these cases.
      if (t > 20) for (const k of [3, 4, 5, 6, 10]) expect(want[k]).toBeGreaterThan(0);
    });
  }

  it('known values: a previous-token map scores 1 on the previous diagonal and 0 on self', async () => {
    const ctx = gpu();
    const t = 9;
    const probs = new Float32Array(t * t);
    probs[0] = 1;
    for (let i = 1; i < t; i++) probs[i * t + i - 1] = 1;
    const tokens = Uint32Array.from([1, 2, 3, 1, 2, 3, 1, 2, 3]);
    const got = await ctx.readF32(headSummary(ctx, { probs: ctx.upload(probs, [1, t, t]), tokens: ctx.upload(tokens), probeN: 3 }));
    const f = (name: (typeof HEAD_SUMMARY_FIELDS)[number]) => got[HEAD_SUMMARY_FIELDS.indexOf(name)]!;
    expect(f('diagPrevious')).toBe(t - 1);
    expect(f('self')).toBe(1);
    expect(f('distance')).toBe(t - 1);
    expect(f('entropy')).toBe(0);
    expect(f('kept')).toBe(t);
    expect(f('mulPrevious')).toBe(t - 1);
    // Induction pattern: P[i, j] = 1 iff tok[j−1] = tok[i]; j = i − 2 for i ≥ 3 here, never i − 1.
    expect(f('mulInduction')).toBe(0);
    expect(f('diagInduction')).toBe(0);
  });
});
