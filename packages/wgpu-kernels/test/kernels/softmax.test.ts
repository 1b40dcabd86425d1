import { describe, expect, it } from 'vitest';
import { softmax } from '../../src/kernels/softmax.js';
import { softmaxRef } from '../../src/kernels/softmax.ref.js';
import { expectClose, maxAbsDiff, ODD_SIZES, randn, useGpu } from '../helpers.js';

describe('softmax', () => {
  const gpu = useGpu();

  for (const rows of [1, 7, 33]) {
    for (const cols of [...ODD_SIZES, 256, 1000]) {
      it(`rows=${rows} cols=${cols}`, async () => {
        const ctx = gpu();
        const x = randn(rows * cols, rows * 1000 + cols, 4);
        const y = softmax(ctx, { x: ctx.upload(x, [rows, cols]) });
        expect(y.shape).toEqual([rows, cols]);
        expectClose(await ctx.readF32(y), softmaxRef(x, cols), 1e-5);
      });
    }
  }

  for (const temperature of [0.3, 0.7, 1, 2.5]) {
    it(`temperature ${temperature}, large offset logits`, async () => {
      const ctx = gpu();
      const cols = 65;
      const x = randn(3 * cols, 17, 6);
      for (let i = 0; i < x.length; i++) x[i] = x[i]! + 80; // softmax is shift-invariant; large logits stress rounding
      const y = await ctx.readF32(softmax(ctx, { x: ctx.upload(x, [3, cols]), temperature }));
      expectClose(y, softmaxRef(x, cols, temperature), 1e-5);
    });
  }

  it('a vocabulary-sized row (50257), GPT-2-like logits', async () => {
    const ctx = gpu();
    const cols = 50257;
    const x = randn(2 * cols, 5, 3);
    x[123] = 25; // one confident token
    const y = await ctx.readF32(softmax(ctx, { x: ctx.upload(x, [2, cols]) }));
    const ref = softmaxRef(x, cols);
    expectClose(y, ref, 1e-5);
    let sum = 0;
    for (let i = 0; i < cols; i++) sum += y[i]!;
    expect(Math.abs(sum - 1)).toBeLessThan(1e-4);
    console.log(`softmax 2×50257: max abs error ${maxAbsDiff(y, ref).toExponential(2)}`);
  });

  it('a 200k row (largest vocabularies)', async () => {
    const ctx = gpu();
    const cols = 200_000;
    const x = randn(cols, 6, 2);
    expectClose(await ctx.readF32(softmax(ctx, { x: ctx.upload(x, [1, cols]), temperature: 0.8 })), softmaxRef(x, cols, 0.8), 1e-5);
  });

  it('in place, 3D input, and −1e30 masked entries', async () => {
    const ctx = gpu();
    const x = randn(2 * 3 * 33, 9);
    for (let i = 0; i < x.length; i += 5) x[i] = -1e30;
    const t = ctx.upload(x, [2, 3, 33]);
    expect(softmax(ctx, { x: t, out: t })).toBe(t);
    const y = await ctx.readF32(t);
    expectClose(y, softmaxRef(x, 33), 1e-5);
    expect(y[0]).toBe(0);
  });

  it('rejects a non-positive temperature', () => {
    const ctx = gpu();
    const x = ctx.upload(new Float32Array(4), [1, 4]);
    expect(() => softmax(ctx, { x, temperature: 0 })).toThrow(/temperature/);
    expect(() => softmax(ctx, { x, temperature: -1 })).toThrow(/temperature/);
  });
});
