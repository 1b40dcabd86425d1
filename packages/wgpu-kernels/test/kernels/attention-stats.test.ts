import { describe, expect, it } from 'vitest';
import { attention } from '../../src/kernels/attention.js';
import { attentionStats } from '../../src/kernels/attention-stats.js';
import { attentionStatsRef } from '../../src/kernels/attention-stats.ref.js';
import type { GpuContext } from '../../src/runtime/context.js';
import { expectClose, ODD_SIZES, randn, rng, useGpu } from '../helpers.js';

const TOL = 1e-5;

/** Causal softmax rows [H, T, Tk] with some exact zeros (masked keys) and, on every 5th row, exact ties. */
function causalProbs(h: number, t: number, tk: number, qo: number, seed: number): Float32Array {
  const logits = randn(h * t * tk, seed, 2);
  const r = rng(seed + 1);
  const probs = new Float32Array(h * t * tk);
  for (let head = 0; head < h; head++) {
    for (let i = 0; i < t; i++) {
      const base = (head * t + i) * tk;
      const visible = Math.min(tk, qo + i + 1);
      const tie = i % 5 === 4;
      const w: number[] = [];
      let sum = 0;
      for (let j = 0; j < visible; j++) {
        const masked = j > 0 && r() < 0.15;
        const x = masked ? 0 : tie ? 1 : Math.exp(logits[base + j]!);
        w.push(x);
        sum += x;
      }
      for (let j = 0; j < visible; j++) probs[base + j] = w[j]! / sum;
    }
  }
  return probs;
}

async function compare(ctx: GpuContext, probs: Float32Array, h: number, t: number, tk: number, qo?: number): Promise<void> {
  const s = attentionStats(ctx, { probs: ctx.upload(probs, [h, t, tk]), queryOffset: qo });
  const ref = attentionStatsRef(probs, h, t, tk, qo);
  expectClose(await ctx.readF32(s.colMean), ref.colMean, TOL);
  expectClose(await ctx.readF32(s.entropy), ref.entropy, TOL);
  expectClose(await ctx.readF32(s.firstMass), ref.firstMass, 0);
  expect([...(await ctx.readU32(s.argmax))]).toEqual([...ref.argmax]);
}

describe('attentionStats', () => {
  const gpu = useGpu();

  for (const t of ODD_SIZES) {
    for (const h of [1, 3]) {
      it(`H=${h} T=${t} (square, queryOffset 0)`, async () => {
        await compare(gpu(), causalProbs(h, t, t, 0, t * 10 + h), h, t, t);
      });
    }
    it(`H=2 T=${t} Tk=${t + 70} (KV cache, default queryOffset)`, async () => {
      const tk = t + 70;
      await compare(gpu(), causalProbs(2, t, tk, tk - t, t + 3), 2, t, tk);
    });
  }

  it('queryOffset below Tk − T: keys no row can see get colMean 0', async () => {
    const [h, t, tk, qo] = [2, 7, 20, 5];
    const probs = causalProbs(h, t, tk, qo, 77);
    await compare(gpu(), probs, h, t, tk, qo);
    const col = await gpu().readF32(attentionStats(gpu(), { probs: gpu().upload(probs, [h, t, tk]), queryOffset: qo }).colMean);
    for (let j = qo + t; j < tk; j++) expect(col[j]).toBe(0);
  });

  it('ties pick the first index; a uniform row has entropy ln n; an all-zero row gives 0 and argmax 0', async () => {
    const ctx = gpu();
    const tk = 300; // more keys than threads: ties span thread strides
    const probs = new Float32Array(3 * tk);
    probs.fill(1 / tk, 0, tk);
    probs[tk + 290] = 0.5;
    probs[tk + 3] = 0.5;
    const s = attentionStats(ctx, { probs: ctx.upload(probs, [1, 3, tk]), queryOffset: tk - 3 });
    expect([...(await ctx.readU32(s.argmax))]).toEqual([0, 3, 0]);
    const ent = await ctx.readF32(s.entropy);
    expect(Math.abs(ent[0]! - Math.log(tk))).toBeLessThan(TOL);
    expect(Math.abs(ent[1]! - Math.log(2))).toBeLessThan(TOL);
    expect(ent[2]).toBe(0);
  });

  it('matches the reference on maps captured by attention (GQA, hooks on)', async () => {
    const ctx = gpu();
    const [t, hq, hkv, d] = [33, 4, 2, 16];
    const bias = new Float32Array(hq * t);
    bias[0] = Math.log(3);
    bias[t + 5] = -1e30;
    const capture = ctx.createTensor([hq, t, t], 'f32', 'capture');
    attention(ctx, {
      q: ctx.upload(randn(t * hq * d, 1), [t, hq * d]),
      k: ctx.upload(randn(t * hkv * d, 2), [t, hkv * d]),
      v: ctx.upload(randn(t * hkv * d, 3), [t, hkv * d]),
      numHeads: hq,
      numKvHeads: hkv,
      headDim: d,
      logitBias: ctx.upload(bias, [hq, t]),
      capture,
    });
    await compare(ctx, await ctx.readF32(capture), hq, t, t);
  });
});
