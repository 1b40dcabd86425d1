import { describe, expect, it } from 'vitest';
import { add, addInto } from '../../src/kernels/add.js';
import { addRef } from '../../src/kernels/add.ref.js';
import { expectClose, ODD_SIZES, randn, useGpu } from '../helpers.js';

describe('add / addInto', () => {
  const gpu = useGpu();

  for (const rows of [1, 7, 33]) {
    for (const dim of [...ODD_SIZES, 768]) {
      it(`add rows=${rows} dim=${dim}`, async () => {
        const ctx = gpu();
        const a = randn(rows * dim, rows + dim * 3);
        const b = randn(rows * dim, rows + dim * 3 + 1);
        const y = add(ctx, { a: ctx.upload(a, [rows, dim]), b: ctx.upload(b, [rows, dim]) });
        expect(y.shape).toEqual([rows, dim]);
        expectClose(await ctx.readF32(y), addRef(a, b), 0);
      });
    }
  }

  it('addInto accumulates in place (residual stream)', async () => {
    const ctx = gpu();
    const h = randn(7 * 65, 1);
    const d1 = randn(7 * 65, 2);
    const d2 = randn(7 * 65, 3);
    const t = ctx.upload(h, [7, 65]);
    expect(addInto(ctx, t, ctx.upload(d1))).toBe(t);
    addInto(ctx, t, ctx.upload(d2));
    expectClose(await ctx.readF32(t), addRef(addRef(h, d1), d2), 0);
  });

  it('out may be b, or a and b may be the same tensor', async () => {
    const ctx = gpu();
    const a = randn(33, 4);
    const b = randn(33, 5);
    const tb = ctx.upload(b);
    add(ctx, { a: ctx.upload(a), b: tb, out: tb });
    expectClose(await ctx.readF32(tb), addRef(a, b), 0);
    const ta = ctx.upload(a);
    addInto(ctx, ta, ta);
    expectClose(await ctx.readF32(ta), addRef(a, a), 0);
  });

  it('large sizes use a 2D grid (more than 65535 workgroups)', async () => {
    const ctx = gpu();
    const n = 65536 * 256 + 77;
    const a = randn(n, 8);
    const b = randn(n, 9);
    const y = await ctx.readF32(add(ctx, { a: ctx.upload(a), b: ctx.upload(b) }));
    expectClose(y, addRef(a, b), 0);
  });

  it('rejects tensors of different sizes', () => {
    const ctx = gpu();
    expect(() => add(ctx, { a: ctx.upload(new Float32Array(3)), b: ctx.upload(new Float32Array(4)) })).toThrow(/a has 3 values/);
  });
});
