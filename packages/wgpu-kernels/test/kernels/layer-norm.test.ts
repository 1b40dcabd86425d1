import { describe, expect, it } from 'vitest';
import { layerNorm, layerNormRef, rmsNorm, rmsNormRef } from '../../src/index.js';
import { expectClose, ODD_SIZES, randn, useGpu } from '../helpers.js';

describe('layerNorm / rmsNorm', () => {
  const gpu = useGpu();
  const dims = [...ODD_SIZES, 256, 768, 1000];

  for (const dim of dims) {
    for (const rows of [1, 7, 33]) {
      it(`layerNorm rows=${rows} dim=${dim}`, async () => {
        const ctx = gpu();
        const x = randn(rows * dim, rows * 1000 + dim, 3);
        for (let i = 0; i < x.length; i++) x[i] = x[i]! + 5; // offset mean: exercises the two-pass variance
        const w = randn(dim, 7);
        const b = randn(dim, 8);
        const y = layerNorm(ctx, { x: ctx.upload(x, [rows, dim]), weight: ctx.upload(w), bias: ctx.upload(b), eps: 1e-5 });
        expectClose(await ctx.readF32(y), layerNormRef(x, dim, w, b, 1e-5), 1e-5);
      });
      it(`rmsNorm rows=${rows} dim=${dim}`, async () => {
        const ctx = gpu();
        const x = randn(rows * dim, rows * 77 + dim, 2);
        const w = randn(dim, 9);
        const y = rmsNorm(ctx, { x: ctx.upload(x, [rows, dim]), weight: ctx.upload(w), eps: 1e-6 });
        expectClose(await ctx.readF32(y), rmsNormRef(x, dim, w, 1e-6), 1e-5);
      });
    }
  }

  it('layerNorm without affine parameters normalises each row to mean 0, variance 1', async () => {
    const ctx = gpu();
    const x = randn(4 * 33, 3, 10);
    const y = await ctx.readF32(layerNorm(ctx, { x: ctx.upload(x, [4, 33]), eps: 0 }));
    for (let r = 0; r < 4; r++) {
      const row = y.subarray(r * 33, r * 33 + 33);
      const mean = row.reduce((a, v) => a + v, 0) / 33;
      const v = row.reduce((a, x) => a + (x - mean) ** 2, 0) / 33;
      expect(Math.abs(mean)).toBeLessThan(1e-5);
      expect(Math.abs(v - 1)).toBeLessThan(1e-4);
    }
  });

  it('rmsNorm weightOffset (Gemma-style 1+w)', async () => {
    const ctx = gpu();
    const x = randn(3 * 65, 4);
    const w = randn(65, 5, 0.1);
    const y = rmsNorm(ctx, { x: ctx.upload(x, [3, 65]), weight: ctx.upload(w), eps: 1e-6, weightOffset: 1 });
    expectClose(await ctx.readF32(y), rmsNormRef(x, 65, w, 1e-6, 1), 1e-5);
  });
});
