import { describe, expect, it } from 'vitest';
import {
  type MatmulPlan,
  type MatmulTile,
  matmul,
  matmulDims,
  matmulEdges,
  matmulWithPlan,
  planMatmul,
  TILE_LARGE,
  TILE_MID,
  TILE_SMALL,
  TILE_TALL,
  TILE_WIDE,
} from '../../src/kernels/matmul.js';
import { matmulRef } from '../../src/kernels/matmul.ref.js';
import type { GpuContext } from '../../src/runtime/context.js';
import { expectClose, randn, useGpu } from '../helpers.js';

const TOL = 1e-4;

interface Case {
  m: number;
  n: number;
  k: number;
  transB?: boolean;
  bias?: boolean;
  batch?: number;
  bBatched?: boolean;
  /** a holds this many rows per batch; only the first m are used */
  aRows?: number;
  /** out holds this many rows per batch */
  outRows?: number;
  plan?: MatmulPlan;
}

let seed = 1;

async function check(ctx: GpuContext, c: Case): Promise<void> {
  const batch = c.batch ?? 1;
  const aRows = c.aRows ?? c.m;
  const batched = c.batch !== undefined;
  // Entries ~ N(0, 1/K) keep the outputs O(1), so an absolute tolerance is meaningful.
  const a = randn(batch * aRows * c.k, seed++, 1 / Math.sqrt(Math.max(1, c.k)));
  const b = randn((c.bBatched ? batch : 1) * c.k * c.n, seed++);
  const bias = c.bias ? randn(c.n, seed++) : null;
  const bShape = c.transB ? [c.n, c.k] : [c.k, c.n];
  const args = {
    a: ctx.upload(a, batched ? [batch, aRows, c.k] : [aRows, c.k]),
    b: ctx.upload(b, c.bBatched ? [batch, ...bShape] : bShape),
    transB: c.transB ?? false,
    ...(bias ? { bias: ctx.upload(bias) } : {}),
    ...(c.aRows !== undefined ? { m: c.m } : {}),
  };
  const want = matmulRef(a, b, { m: c.m, n: c.n, k: c.k, batch, aRows, transB: c.transB ?? false, bBatched: c.bBatched ?? false }, bias);
  if (c.outRows !== undefined) {
    // A larger out: rows past m must keep their previous contents.
    const outRows = c.outRows;
    const sentinel = new Float32Array(batch * outRows * c.n).fill(7);
    const out = ctx.upload(sentinel, batched ? [batch, outRows, c.n] : [outRows, c.n]);
    const run = { ...args, out };
    if (c.plan) matmulWithPlan(ctx, run, c.plan);
    else matmul(ctx, run);
    const got = await ctx.readF32(out);
    const used = new Float32Array(batch * c.m * c.n);
    for (let bi = 0; bi < batch; bi++) {
      used.set(got.subarray(bi * outRows * c.n, (bi * outRows + c.m) * c.n), bi * c.m * c.n);
      for (let i = (bi * outRows + c.m) * c.n; i < (bi + 1) * outRows * c.n; i++) expect(got[i]).toBe(7);
    }
    expectClose(used, want, TOL);
    return;
  }
  const y = c.plan ? matmulWithPlan(ctx, args, c.plan) : matmul(ctx, args);
  expect(y.shape).toEqual(batched ? [batch, c.m, c.n] : [c.m, c.n]);
  expectClose(await ctx.readF32(y), want, TOL);
}

const name = (c: Case): string =>
  `${c.batch ? `${c.batch}×` : ''}${c.m}×${c.k}·${c.k}×${c.n}${c.transB ? ' transB' : ''}${c.bias ? ' +bias' : ''}${c.aRows ? ` m<${c.aRows}` : ''}` +
  `${c.outRows ? ` out${c.outRows}` : ''}${c.bBatched ? ' b batched' : ''}${c.plan ? ` ${planName(c.plan)}` : ''}`;
const planName = (p: MatmulPlan): string => (p.kind === 'small' ? 'small' : `${p.tile.bm}x${p.tile.bn}x${p.tile.bk} ${p.tile.tm}x${p.tile.tn}/${p.splitK}`);
const tiled = (tile: MatmulTile, splitK = 1): MatmulPlan => ({ kind: 'tiled', tile, splitK });

describe('matmul', () => {
  const gpu = useGpu();
  const sizes = [1, 7, 33, 65, 130];

  // Every (M, N) pair with K cycling through the sizes; transB and bias alternate.
  let i = 0;
  for (const m of sizes) {
    for (const n of sizes) {
      const c: Case = { m, n, k: sizes[(i * 3 + 1) % sizes.length] as number, transB: i % 2 === 1, bias: i % 3 !== 0 };
      i++;
      it(name(c), () => check(gpu(), c));
    }
  }

  // Each tile shape, on edge sizes: checked loads (K not a tile multiple) with plain B and transposed B with
  // bias; clamped loads (K a tile multiple, M and N not) both ways; and exact tile multiples (the unchecked
  // fast path) both ways. Each case compiles its own pipeline, seconds apiece on SwiftShader, so the other
  // edge combinations are left to the sweep above.
  // 16 outputs per thread along m as well as n (the generator's other 16-wide case).
  for (const tile of [TILE_LARGE, { ...TILE_LARGE, tm: 16, tn: 8 } as MatmulTile, TILE_MID, TILE_WIDE, TILE_TALL, TILE_SMALL]) {
    for (const c of [
      { m: 130, n: 65, k: 33, transB: false },
      { m: 33, n: 130, k: 7, bias: true, transB: true },
      { m: 130, n: 68, k: 64, transB: false },
      { m: 33, n: 130, k: 32, bias: true, transB: true },
      { m: 128, n: 128, k: 64, bias: true, transB: false },
      { m: 128, n: 128, k: 64, bias: true, transB: true },
    ]) {
      const cc: Case = { ...c, plan: tiled(tile) };
      it(name(cc), () => check(gpu(), cc));
    }
  }

  const extra: Case[] = [
    // split K: partial sums added by a second pass (bias there), uneven last split, batches
    { m: 65, n: 33, k: 130, bias: true, plan: tiled(TILE_SMALL, 3) },
    { m: 64, n: 64, k: 128, transB: true, plan: tiled(TILE_SMALL, 2) },
    { m: 65, n: 130, k: 130, transB: true, bias: true, plan: tiled(TILE_MID, 2) },
    { m: 65, n: 130, k: 128, transB: true, bias: true, plan: tiled(TILE_MID, 2) },
    { m: 33, n: 65, k: 33, plan: tiled({ ...TILE_SMALL, bk: 32, flat: true }) },
    { m: 33, n: 7, k: 130, batch: 2, bias: true, transB: true, plan: tiled(TILE_SMALL, 4) },
    // batched, shared and per-batch b
    { m: 33, n: 65, k: 7, batch: 3, bias: true },
    { m: 65, n: 33, k: 33, batch: 2, bBatched: true, transB: true },
    { m: 7, n: 33, k: 65, batch: 2, bBatched: true },
    { m: 1, n: 65, k: 33, batch: 2, bBatched: true, transB: true, bias: true },
    // fewer rows than the buffer holds (KV-cache steps), larger out
    { m: 33, n: 65, k: 33, aRows: 40, bias: true },
    { m: 1, n: 130, k: 65, aRows: 16, outRows: 16, transB: true, bias: true },
    { m: 5, n: 64, k: 64, aRows: 9, outRows: 12, batch: 2 },
    { m: 20, n: 33, k: 65, aRows: 33, outRows: 40, batch: 2, transB: true, bias: true },
    { m: 0, n: 33, k: 7, aRows: 5 },
    // the tiled kernels on few rows and the few-rows kernel at its upper end
    { m: 1, n: 65, k: 130, transB: true, plan: tiled(TILE_LARGE) },
    { m: 7, n: 64, k: 64, plan: tiled(TILE_SMALL) },
    { m: 8, n: 130, k: 130, bias: true },
    { m: 8, n: 128, k: 128, transB: true },
  ];
  for (const c of extra) it(name(c), () => check(gpu(), c));

  // The plans the H100 benchmark chose (bench/README.md); shapes only, nothing is allocated.
  it('plans the benchmarked shapes as measured', () => {
    const ctx = gpu();
    const plan = (M: number, K: number, N: number, transB = false): MatmulPlan =>
      planMatmul(ctx, matmulDims({ a: { shape: [M, K] } as never, b: { shape: transB ? [N, K] : [K, N] } as never, transB }));
    expect(plan(4096, 4096, 4096)).toEqual({ kind: 'tiled', tile: TILE_LARGE, splitK: 1 });
    expect(plan(1024, 768, 2304)).toEqual({ kind: 'tiled', tile: TILE_MID, splitK: 1 });
    expect(plan(1024, 768, 3072, true)).toEqual({ kind: 'tiled', tile: TILE_MID, splitK: 1 });
    expect(plan(1024, 3072, 768)).toEqual({ kind: 'tiled', tile: TILE_MID, splitK: 4 });
    expect(plan(4096, 1024, 1024)).toEqual({ kind: 'tiled', tile: TILE_TALL, splitK: 1 });
    // Few rows, short K: split so more workgroups run (H200 sweep, 128×768·768×768 on 64×64 tiles: 0.055 ms unsplit, 0.030 split 4).
    expect(plan(20, 256, 256)).toEqual({ kind: 'tiled', tile: TILE_SMALL, splitK: 2 });
    expect(plan(128, 768, 768)).toEqual({ kind: 'tiled', tile: TILE_SMALL, splitK: 4 });
    expect(plan(20, 64, 256)).toEqual({ kind: 'tiled', tile: TILE_SMALL, splitK: 1 });
    expect(plan(8, 256, 256)).toEqual({ kind: 'small' });
  });

  // Which loads each shape gets: a check per load only where K leaves a partial tile or rows are not vec4s.
  it('clamps rows at the edges when K is whole tiles', () => {
    const dims = (M: number, K: number, N: number, transB: boolean) =>
      matmulDims({ a: { shape: [M, K] } as never, b: { shape: transB ? [N, K] : [K, N] } as never, transB });
    expect(matmulEdges(TILE_LARGE, dims(1024, 768, 50304, true))).toBe('none');
    expect(matmulEdges(TILE_LARGE, dims(1024, 768, 50257, true))).toBe('clamp');
    expect(matmulEdges(TILE_MID, dims(1000, 768, 2304, true))).toBe('clamp');
    expect(matmulEdges(TILE_MID, dims(1000, 768, 2304, false))).toBe('clamp');
    expect(matmulEdges(TILE_SMALL, dims(130, 64, 65, false))).toBe('select'); // rows of B are not whole vec4s
    expect(matmulEdges(TILE_SMALL, dims(64, 36, 64, true))).toBe('select'); // a partial K tile
  });

  it('rejects mismatched shapes', () => {
    const ctx = gpu();
    const a = ctx.createTensor([4, 8]);
    expect(() => matmul(ctx, { a, b: ctx.createTensor([7, 3]) })).toThrow(/K = 8/);
    expect(() => matmul(ctx, { a, b: ctx.createTensor([3, 8]), transB: true, bias: ctx.createTensor([4]) })).toThrow(/bias/);
    expect(() => matmul(ctx, { a, b: ctx.createTensor([8, 3]), m: 5 })).toThrow(/m = 5/);
    expect(() => matmul(ctx, { a, b: ctx.createTensor([8, 3]), out: ctx.createTensor([3, 3]) })).toThrow(/out/);
  });
});
