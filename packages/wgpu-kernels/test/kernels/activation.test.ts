import { describe, expect, it } from 'vitest';
import { type ActivationOp, activation } from '../../src/kernels/activation.js';
import { activationRef, erfRef } from '../../src/kernels/activation.ref.js';
import { expectClose, maxAbsDiff, ODD_SIZES, randn, useGpu } from '../helpers.js';

const OPS: ActivationOp[] = ['gelu_tanh', 'gelu_erf', 'silu', 'relu'];

/** A sweep over [−20, 20] plus tiny magnitudes, zeros and the region where GELU's tail bends. */
function sweep(): Float32Array {
  const v: number[] = [0, -0, 1e-30, -1e-30, 1e-7, -1e-7, 1e-3, -1e-3, 20, -20, 19.99, -19.99, 88, -88, 100, -100];
  for (let i = 0; i <= 4000; i++) v.push(-20 + i * 0.01);
  for (let e = -38; e <= 1; e++) v.push(10 ** e, -(10 ** e), 3 * 10 ** e, -3 * 10 ** e);
  return new Float32Array(v);
}

describe('erfRef', () => {
  it('matches tabulated erf values and is odd', () => {
    const table: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [1.5, 0.9661051464753108],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [4, 0.9999999845827421],
    ];
    for (const [x, v] of table) {
      expect(Math.abs(erfRef(x) - v)).toBeLessThan(1e-15);
      expect(erfRef(-x)).toBe(-erfRef(x));
    }
  });
});

describe('activation', () => {
  const gpu = useGpu();

  for (const op of OPS) {
    it(`${op} on a sweep of [-20, 20], tiny and large values`, async () => {
      const ctx = gpu();
      const x = sweep();
      const y = await ctx.readF32(activation(ctx, { x: ctx.upload(x), op }));
      const ref = activationRef(x, op);
      expectClose(y, ref, 1e-5);
      // Tails: gelu(−20) and silu(−100) are ~0, gelu(20) = 20 to the last bit or two.
      for (let i = 0; i < x.length; i++) expect(Number.isFinite(y[i]!), `${op}(${x[i]}) = ${y[i]}`).toBe(true);
      console.log(`${op}: max abs error ${maxAbsDiff(y, ref).toExponential(2)}`);
    });

    for (const n of [...ODD_SIZES, 1000]) {
      it(`${op} n=${n}`, async () => {
        const ctx = gpu();
        const x = randn(n, n * 13 + op.length, 3);
        const y = await ctx.readF32(activation(ctx, { x: ctx.upload(x, [n]), op }));
        expectClose(y, activationRef(x, op), 1e-5);
      });
    }
  }

  it('works in place and on 2D shapes', async () => {
    const ctx = gpu();
    const x = randn(7 * 65, 5, 2);
    const t = ctx.upload(x, [7, 65]);
    const y = activation(ctx, { x: t, op: 'gelu_erf', out: t });
    expect(y).toBe(t);
    expect(y.shape).toEqual([7, 65]);
    expectClose(await ctx.readF32(t), activationRef(x, 'gelu_erf'), 1e-5);
  });

  it('writes into a given out tensor', async () => {
    const ctx = gpu();
    const x = randn(33, 6);
    const out = ctx.createTensor([33]);
    expect(activation(ctx, { x: ctx.upload(x), op: 'silu', out })).toBe(out);
    expectClose(await ctx.readF32(out), activationRef(x, 'silu'), 1e-5);
  });

  it('rejects an unknown op and a mismatched out', () => {
    const ctx = gpu();
    const x = ctx.upload(new Float32Array(4));
    expect(() => activation(ctx, { x, op: 'tanh' as ActivationOp })).toThrow(/unknown activation/);
    expect(() => activation(ctx, { x, op: 'relu', out: ctx.createTensor([5]) })).toThrow(/out has 5/);
  });
});
