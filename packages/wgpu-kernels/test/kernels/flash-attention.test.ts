import { describe, expect, it } from 'vitest';
import { attention } from '../../src/kernels/attention.js';
import { attentionRef } from '../../src/kernels/attention.ref.js';
import { attentionStats } from '../../src/kernels/attention-stats.js';
import { attentionStatsRef } from '../../src/kernels/attention-stats.ref.js';
import { type FlashAttentionArgs, flashAttention } from '../../src/kernels/flash-attention.js';
import type { GpuContext } from '../../src/runtime/context.js';
import { expectClose, randn, useGpu } from '../helpers.js';

/** The bound: the online softmax equals the materialising kernel on attention outputs. */
const OUT_TOL = 1e-5;
const STATS_TOL = 1e-5;

interface Case {
  t: number;
  hq: number;
  hkv: number;
  d: number;
  tk?: number;
  /** K/V buffer rows (≥ tk); rows past tk hold 1e6 so a stray read shows. */
  tmax?: number;
  queryOffset?: number;
  scale?: number;
  logitBias?: Float32Array;
  headScale?: Float32Array;
  seed: number;
}

/**
 * Runs the online-softmax kernel (with stats and two heads' maps), the materialising kernel (with capture, then
 * attentionStats on the maps) and the float64 CPU references on the same inputs, and compares all three.
 */
async function check(ctx: GpuContext, c: Case): Promise<void> {
  const tk = c.tk ?? c.t;
  const tmax = c.tmax ?? tk;
  const q = randn(c.t * c.hq * c.d, c.seed + 1);
  const k = randn(tmax * c.hkv * c.d, c.seed + 2);
  const v = randn(tmax * c.hkv * c.d, c.seed + 3);
  for (let i = tk * c.hkv * c.d; i < k.length; i++) {
    k[i] = 1e6;
    v[i] = 1e6;
  }
  const args: FlashAttentionArgs = {
    q: ctx.upload(q, [c.t, c.hq * c.d]),
    k: ctx.upload(k, [tmax, c.hkv * c.d]),
    v: ctx.upload(v, [tmax, c.hkv * c.d]),
    numHeads: c.hq,
    numKvHeads: c.hkv,
    headDim: c.d,
    kvLength: tk,
    ...(c.queryOffset !== undefined ? { queryOffset: c.queryOffset } : {}),
    ...(c.scale !== undefined ? { scale: c.scale } : {}),
    ...(c.logitBias ? { logitBias: ctx.upload(c.logitBias, [c.hq, tk]) } : {}),
    ...(c.headScale ? { headScale: ctx.upload(c.headScale) } : {}),
  };
  // Maps of the first and last head, each in its own buffer (filled with garbage: every entry must be written).
  const heads = [...new Set([0, c.hq - 1])];
  const maps = heads.map((head) => ({ head, out: ctx.upload(new Float32Array(c.t * tk).fill(7), [c.t, tk]) }));
  const flash = flashAttention(ctx, { ...args, stats: true, maps });
  const capture = ctx.createTensor([c.hq, c.t, tk]);
  const dense = attention(ctx, { ...args, capture });
  const denseStats = attentionStats(ctx, { probs: capture, ...(c.queryOffset !== undefined ? { queryOffset: c.queryOffset } : {}) });
  const ref = attentionRef({
    q,
    k,
    v,
    numHeads: c.hq,
    numKvHeads: c.hkv,
    headDim: c.d,
    kvLength: tk,
    queryOffset: c.queryOffset,
    scale: c.scale,
    logitBias: c.logitBias,
    headScale: c.headScale,
  });
  const refStats = attentionStatsRef(ref.probs, c.hq, c.t, tk, c.queryOffset);

  const out = await ctx.readF32(flash.out);
  expectClose(out, await ctx.readF32(dense), OUT_TOL);
  expectClose(out, ref.out, OUT_TOL);
  const s = flash.stats!;
  for (const key of ['colMean', 'entropy', 'firstMass'] as const) {
    const got = await ctx.readF32(s[key]);
    expectClose(got, await ctx.readF32(denseStats[key]), STATS_TOL);
    expectClose(got, refStats[key], STATS_TOL);
  }
  expect([...(await ctx.readU32(s.argmax))]).toEqual([...refStats.argmax]);
  const denseMaps = await ctx.readF32(capture);
  for (const m of maps) {
    const n = c.t * tk;
    expectClose(await ctx.readF32(m.out), denseMaps.subarray(m.head * n, (m.head + 1) * n), STATS_TOL);
  }
}

describe('flashAttention (online softmax) equals the materialising kernel and the CPU reference', () => {
  const gpu = useGpu();

  for (const [t, d, hq, hkv] of [
    [1, 16, 2, 2],
    [7, 20, 3, 1],
    [33, 64, 6, 2],
    [65, 16, 4, 4],
    [130, 72, 2, 1],
  ] as const) {
    it(`T=${t} D=${d} Hq=${hq} Hkv=${hkv}`, async () => {
      await check(gpu(), { t, hq, hkv, d, seed: t * 7 + d });
    });
  }

  it('decode step and short chunk against a long KV cache (offset rows, buffer longer than kvLength)', async () => {
    await check(gpu(), { t: 1, hq: 4, hkv: 1, d: 16, tk: 150, tmax: 160, seed: 3 });
    await check(gpu(), { t: 5, hq: 6, hkv: 2, d: 64, tk: 200, queryOffset: 120, seed: 4 });
  });

  it('logit bias with −1e30 and −∞ masks (a row with no live key gives 0), head scale with an ablated head, custom scale', async () => {
    const t = 40;
    const hq = 4;
    const bias = randn(hq * t, 11, 2);
    for (let h = 0; h < hq; h++) {
      bias[h * t + 3] = -1e30;
      bias[h * t + 10 + h] = Number.NEGATIVE_INFINITY;
    }
    bias[0] = -1e30; // head 0, row 0 sees only key 0: no live key
    await check(gpu(), { t, hq, hkv: 2, d: 16, logitBias: bias, headScale: new Float32Array([0, 0.5, 1, 2]), scale: 0.3, seed: 9 });
  });

  it('refuses a head dim past 256 with a typed error', () => {
    const ctx = gpu();
    const x = ctx.createTensor([1, 300]);
    expect(() => flashAttention(ctx, { q: x, k: x, v: x, numHeads: 1, numKvHeads: 1, headDim: 300 })).toThrow(/headDim 300/);
  });
});
