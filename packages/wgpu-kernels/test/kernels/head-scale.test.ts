import { describe, expect, it } from 'vitest';
import { KernelArgumentError } from '../../src/index.js';
import { headScale } from '../../src/kernels/head-scale.js';
import { headScaleRef } from '../../src/kernels/head-scale.ref.js';
import { expectClose, randn, useGpu } from '../helpers.js';

describe('headScale', () => {
  const gpu = useGpu();

  it('scales each head slice of every row, in place; 0 zeroes exactly that head', async () => {
    const ctx = gpu();
    const [rows, heads, d] = [5, 3, 7];
    const x = randn(rows * heads * d, 11);
    const scales = [1, 0, -2.5];
    const t = ctx.upload(x, [rows, heads * d]);
    expect(headScale(ctx, { x: t, scales: ctx.upload(Float32Array.from(scales)), headDim: d, out: t })).toBe(t);
    const y = await ctx.readF32(t);
    expectClose(y, headScaleRef(x, scales, d), 0);
    for (let r = 0; r < rows; r++) for (let k = 0; k < d; k++) expect(Math.abs(y[r * heads * d + d + k]!)).toBe(0);
    expect(y[0]).toBe(x[0]);
  });

  it('refuses a tensor whose width is not heads × headDim', () => {
    const ctx = gpu();
    expect(() => headScale(ctx, { x: ctx.upload(new Float32Array(10)), scales: ctx.upload(new Float32Array(3)), headDim: 4 })).toThrow(KernelArgumentError);
  });
});
