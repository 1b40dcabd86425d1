import { describe, expect, it } from 'vitest';
import { type GateActivation, gatedProduct } from '../../src/kernels/gated-product.js';
import { gatedProductRef } from '../../src/kernels/gated-product.ref.js';
import { expectClose, ODD_SIZES, randn, useGpu } from '../helpers.js';

const ACTS: GateActivation[] = ['silu', 'gelu_tanh', 'gelu_erf'];

describe('gatedProduct', () => {
  const gpu = useGpu();

  for (const act of ACTS) {
    for (const rows of [1, 7]) {
      for (const dim of [...ODD_SIZES, 344]) {
        it(`${act} rows=${rows} dim=${dim}`, async () => {
          const ctx = gpu();
          const gate = randn(rows * dim, rows * 31 + dim, 4);
          const up = randn(rows * dim, rows * 37 + dim + 1);
          const y = gatedProduct(ctx, { gate: ctx.upload(gate, [rows, dim]), up: ctx.upload(up, [rows, dim]), act });
          expect(y.shape).toEqual([rows, dim]);
          expectClose(await ctx.readF32(y), gatedProductRef(gate, up, act), 1e-5);
        });
      }
    }
  }

  it('gate values out to ±20 (activation tails)', async () => {
    const ctx = gpu();
    const gate = new Float32Array(401).map((_, i) => -20 + i * 0.1);
    const up = randn(401, 3);
    for (const act of ACTS) {
      const y = gatedProduct(ctx, { gate: ctx.upload(gate), up: ctx.upload(up), act });
      expectClose(await ctx.readF32(y), gatedProductRef(gate, up, act), 1e-5);
    }
  });

  it('in place into gate and into up', async () => {
    const ctx = gpu();
    const gate = randn(3 * 65, 11, 2);
    const up = randn(3 * 65, 12);
    const ref = gatedProductRef(gate, up, 'silu');
    const g = ctx.upload(gate, [3, 65]);
    expect(gatedProduct(ctx, { gate: g, up: ctx.upload(up, [3, 65]), act: 'silu', out: g })).toBe(g);
    expectClose(await ctx.readF32(g), ref, 1e-5);
    const u = ctx.upload(up, [3, 65]);
    gatedProduct(ctx, { gate: ctx.upload(gate, [3, 65]), up: u, act: 'silu', out: u });
    expectClose(await ctx.readF32(u), ref, 1e-5);
  });

  it('gate and up the same tensor (x · act(x))', async () => {
    const ctx = gpu();
    const x = randn(33, 13);
    const t = ctx.upload(x);
    expectClose(await ctx.readF32(gatedProduct(ctx, { gate: t, up: t, act: 'gelu_tanh' })), gatedProductRef(x, x, 'gelu_tanh'), 1e-5);
    gatedProduct(ctx, { gate: t, up: t, act: 'gelu_tanh', out: t });
    expectClose(await ctx.readF32(t), gatedProductRef(x, x, 'gelu_tanh'), 1e-5);
  });

  it('rejects mismatched sizes and relu (not a gate activation)', () => {
    const ctx = gpu();
    const a = ctx.upload(new Float32Array(4));
    expect(() => gatedProduct(ctx, { gate: a, up: ctx.upload(new Float32Array(5)), act: 'silu' })).toThrow(/gate has 4/);
    expect(() => gatedProduct(ctx, { gate: a, up: a, act: 'relu' as GateActivation })).toThrow(/unknown activation/);
  });
});
