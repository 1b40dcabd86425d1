import { describe, expect, it } from 'vitest';
import type { ActivationOp } from '../../src/kernels/activation.js';
import { activationScalar } from '../../src/kernels/activation.ref.js';
import { type MatmulPlan, matmul, matmulWithPlan, TILE_SMALL } from '../../src/kernels/matmul.js';
import { matmulRef } from '../../src/kernels/matmul.ref.js';
import type { GpuContext } from '../../src/runtime/context.js';
import { expectClose, randn, useGpu } from '../helpers.js';

/** One product with an epilogue, at one of the kernel's write sites. */
interface Case {
  what: string;
  m: number;
  n: number;
  k: number;
  transB?: boolean;
  activation?: ActivationOp;
  accumulate?: boolean;
  plan?: MatmulPlan;
}

const cases: Case[] = [
  // The tiled kernel's vec4 stores (every dimension a tile multiple) and its masked scalar stores.
  { what: 'tiled, whole tiles', m: 64, n: 64, k: 32, activation: 'gelu_tanh', accumulate: true, plan: { kind: 'tiled', tile: TILE_SMALL, splitK: 1 } },
  { what: 'tiled, edges', m: 33, n: 65, k: 33, transB: true, activation: 'silu', plan: { kind: 'tiled', tile: TILE_SMALL, splitK: 1 } },
  // Split K: the epilogue runs in the sum pass, not on the partial sums.
  { what: 'split-K sum', m: 65, n: 33, k: 130, activation: 'gelu_tanh', accumulate: true, plan: { kind: 'tiled', tile: TILE_SMALL, splitK: 3 } },
  { what: 'split-K sum, accumulate only', m: 40, n: 64, k: 128, transB: true, accumulate: true, plan: { kind: 'tiled', tile: TILE_SMALL, splitK: 2 } },
  // The few-rows kernel, both B layouts.
  { what: 'few rows, transB', m: 3, n: 65, k: 64, transB: true, activation: 'gelu_erf', accumulate: true },
  { what: 'few rows, [K, N]', m: 2, n: 64, k: 33, activation: 'relu', accumulate: true },
];

let seed = 900;

/** Random A, B and bias for a case, their product with bias in float64 (the reference), and the GPU inputs. */
function operands(ctx: GpuContext, c: Pick<Case, 'm' | 'n' | 'k' | 'transB'>) {
  const a = randn(c.m * c.k, seed++, 1 / Math.sqrt(c.k));
  const b = randn(c.k * c.n, seed++);
  const bias = randn(c.n, seed++);
  const product = matmulRef(a, b, { m: c.m, n: c.n, k: c.k, batch: 1, aRows: c.m, transB: c.transB ?? false, bBatched: false }, bias);
  const inputs = {
    a: ctx.upload(a, [c.m, c.k]),
    b: ctx.upload(b, c.transB ? [c.n, c.k] : [c.k, c.n]),
    transB: c.transB ?? false,
    bias: ctx.upload(bias),
  };
  return { product, inputs };
}

describe('matmul epilogue', () => {
  const gpu = useGpu();
  for (const c of cases) {
    const label = `${c.what}: ${c.m}×${c.k}·${c.k}×${c.n}${c.activation ? ` ${c.activation}` : ''}${c.accumulate ? ' +=' : ''}`;
    it(label, async () => {
      const ctx = gpu();
      const { product, inputs } = operands(ctx, c);
      const before = randn(c.m * c.n, seed++);
      const want = product.map((v, i) => (c.accumulate ? (before[i] as number) : 0) + (c.activation ? activationScalar(c.activation, v) : v));
      const out = ctx.upload(before, [c.m, c.n]);
      const args = {
        ...inputs,
        out,
        ...(c.activation ? { activation: c.activation } : {}),
        ...(c.accumulate ? { accumulate: true } : {}),
      };
      if (c.plan) matmulWithPlan(ctx, args, c.plan);
      else matmul(ctx, args);
      const got = await ctx.readF32(out);
      expectClose(got, Float32Array.from(want), 1e-4);
      // Not a no-op: the epilogue moved every checked output away from the plain product.
      let moved = 0;
      for (let i = 0; i < got.length; i++) if (Math.abs((got[i] as number) - (product[i] as number)) > 1e-3) moved++;
      expect(moved).toBeGreaterThan(got.length / 4);
    });
  }

  // Split outputs: the columns go to three tensors in order (a fused Q|K|V product), at every write site.
  const splits: (Omit<Case, 'what' | 'accumulate'> & { what: string; widths: number[] })[] = [
    { what: 'tiled, whole tiles', m: 64, n: 64, k: 32, widths: [32, 16, 16], plan: { kind: 'tiled', tile: TILE_SMALL, splitK: 1 } },
    { what: 'tiled, edges', m: 33, n: 68, k: 33, widths: [36, 16, 16], activation: 'gelu_tanh', plan: { kind: 'tiled', tile: TILE_SMALL, splitK: 1 } },
    { what: 'split-K sum', m: 40, n: 48, k: 128, widths: [16, 16, 16], plan: { kind: 'tiled', tile: TILE_SMALL, splitK: 2 } },
    { what: 'few rows, [K, N]', m: 3, n: 24, k: 16, widths: [8, 8, 8] },
    { what: 'few rows, transB', m: 1, n: 20, k: 16, transB: true, widths: [8, 4, 8] },
  ];
  for (const c of splits) {
    it(`split into ${c.widths.join(' | ')} columns, ${c.what}: ${c.m}×${c.k}·${c.k}×${c.n}`, async () => {
      const ctx = gpu();
      const { product, inputs } = operands(ctx, c);
      const outs = c.widths.map((w) => ctx.upload(new Float32Array(c.m * w).fill(9), [c.m, w]));
      const args = {
        ...inputs,
        outs,
        ...(c.activation ? { activation: c.activation } : {}),
      };
      if (c.plan) matmulWithPlan(ctx, args, c.plan);
      else matmul(ctx, args);
      let start = 0;
      for (const [i, w] of c.widths.entries()) {
        const want = new Float32Array(c.m * w);
        for (let r = 0; r < c.m; r++)
          for (let j = 0; j < w; j++) {
            const v = product[r * c.n + start + j] as number;
            want[r * w + j] = c.activation ? activationScalar(c.activation, v) : v;
          }
        expectClose(await ctx.readF32(outs[i]!), want, 1e-4);
        start += w;
      }
    });
  }

  it('refuses split outputs that do not add up, are not multiples of 4, or come with out', () => {
    const ctx = gpu();
    const a = ctx.createTensor([4, 8]);
    const b = ctx.createTensor([8, 12]);
    const part = (w: number) => ctx.createTensor([4, w]);
    expect(() => matmul(ctx, { a, b, outs: [part(4), part(4)] })).toThrow(/adding up to N = 12/);
    expect(() => matmul(ctx, { a, b, outs: [part(6), part(6)] })).toThrow(/multiples of 4/);
    expect(() => matmul(ctx, { a, b, outs: [part(4), part(8)], out: ctx.createTensor([4, 12]) })).toThrow(/outs replaces out/);
  });

  it('refuses accumulate without out, and unknown activations', () => {
    const ctx = gpu();
    const a = ctx.createTensor([4, 8]);
    const b = ctx.createTensor([8, 4]);
    expect(() => matmul(ctx, { a, b, accumulate: true })).toThrow(/out must be given/);
    expect(() => matmul(ctx, { a, b, activation: 'tanh' as ActivationOp })).toThrow(/unknown activation/);
  });
});
