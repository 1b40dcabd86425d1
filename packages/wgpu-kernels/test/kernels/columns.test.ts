import { describe, expect, it } from 'vitest';
import { concatColumns, splitColumns } from '../../src/kernels/columns.js';
import { randn, useGpu } from '../helpers.js';

/** Column block [c0, c0 + w) of a row-major [rows, width] matrix. */
function block(x: Float32Array, rows: number, width: number, c0: number, w: number): Float32Array {
  const out = new Float32Array(rows * w);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * width + c0, r * width + c0 + w), r * w);
  return out;
}

describe('columns', () => {
  const gpu = useGpu();

  it('splitColumns gives each block of columns, in order (GQA widths 12 | 4 | 4, 5 rows)', async () => {
    const ctx = gpu();
    const x = randn(5 * 20, 3);
    const parts = splitColumns(ctx, ctx.upload(x, [5, 20]), [12, 4, 4]);
    expect(parts.map((p) => p.shape)).toEqual([
      [5, 12],
      [5, 4],
      [5, 4],
    ]);
    expect(await ctx.readF32(parts[0]!)).toEqual(block(x, 5, 20, 0, 12));
    expect(await ctx.readF32(parts[1]!)).toEqual(block(x, 5, 20, 12, 4));
    expect(await ctx.readF32(parts[2]!)).toEqual(block(x, 5, 20, 16, 4));
  });

  it('concatColumns is the inverse (weights [7, 3 | 5 | 2] and a bias row)', async () => {
    const ctx = gpu();
    const a = randn(7 * 3, 4);
    const b = randn(7 * 5, 5);
    const c = randn(7 * 2, 6);
    const joined = concatColumns(ctx, [ctx.upload(a, [7, 3]), ctx.upload(b, [7, 5]), ctx.upload(c, [7, 2])], 7);
    expect(joined.shape).toEqual([7, 10]);
    const got = await ctx.readF32(joined);
    expect(block(got, 7, 10, 0, 3)).toEqual(a);
    expect(block(got, 7, 10, 3, 5)).toEqual(b);
    expect(block(got, 7, 10, 8, 2)).toEqual(c);
    const bias = concatColumns(ctx, [ctx.upload(Float32Array.of(1, 2)), ctx.upload(Float32Array.of(3))], 1);
    expect(bias.shape).toEqual([3]);
    expect(Array.from(await ctx.readF32(bias))).toEqual([1, 2, 3]);
  });

  it('refuses widths that do not add up to the columns', () => {
    const ctx = gpu();
    expect(() => splitColumns(ctx, ctx.createTensor([2, 6]), [3, 2])).toThrow(/add up to the 6 columns/);
  });
});
