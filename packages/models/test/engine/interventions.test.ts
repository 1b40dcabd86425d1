/**
 * The hook points through the whole model: at layer 0 the input to attention does not depend on any
 * intervention, so the captured maps must relate to the baseline by the closed forms of methods.md.
 */
import { join, resolve } from 'node:path';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileInterventions, type LoadedModel, loadModel, zeroTuning } from '../../src/index.js';
import { NodeDirSource } from '../../src/node.js';

const FIXTURES = resolve(__dirname, '../../../../test/fixtures/models');

let ctx: GpuContext;
let model: LoadedModel;
let ids: number[];
let base0: Float32Array;
let baseLogits: Float32Array;
beforeAll(async () => {
  ctx = await createNodeContext();
  model = await loadModel(ctx, new NodeDirSource(join(FIXTURES, 'llama_gqa')));
  ids = model.encode('The old keeper watched the boats come home.');
  const r = model.run(ids);
  base0 = await r.attention.layer(0);
  baseLogits = await ctx.readF32(r.logits);
  r.attention.release();
  ctx.release(r.logits);
});
afterAll(() => {
  model?.dispose();
  ctx?.destroy();
});

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('interventions through the model', () => {
  it('ZeroTuning γ = 2 on L0H1 gives A′[i,0] = γA/D_i, A′[i,j] = A/D_i there, and leaves other heads alone', async () => {
    const T = ids.length;
    const gamma = 2;
    const r = model.run(ids, { interventions: zeroTuning([{ layer: 0, head: 1 }], gamma) });
    const a = await r.attention.layer(0);
    for (let h = 0; h < model.config.nHeads; h++) {
      const off = h * T * T;
      if (h !== 1) {
        expect(maxAbs(a.subarray(off, off + T * T), base0.subarray(off, off + T * T))).toBeLessThanOrEqual(1e-6);
        continue;
      }
      for (let i = 0; i < T; i++) {
        const A0 = base0[off + i * T]!;
        const D = 1 + (gamma - 1) * A0;
        expect(a[off + i * T]).toBeCloseTo((gamma * A0) / D, 5);
        for (let j = 1; j <= i; j++) expect(a[off + i * T + j]).toBeCloseTo(base0[off + i * T + j]! / D, 5);
      }
    }
    expect(maxAbs(await ctx.readF32(r.logits), baseLogits)).toBeGreaterThan(1e-4);
    r.attention.release();
    ctx.release(r.logits);
  });

  it('ACT keyScale β = 0.4 on keys 2,3 of L0H0: β·A on them, the rest rescaled proportionally; pre-rewrite capture = baseline', async () => {
    const T = ids.length;
    const beta = 0.4;
    const r = model.run(ids, { interventions: [{ kind: 'keyScale', layer: 0, head: 0, keys: [2, 3], beta }], capture: { layers: [0], pre: true } });
    const post = await r.attention.layer(0);
    const pre = await r.attention.layer(0, { pre: true });
    expect(maxAbs(pre, base0)).toBeLessThanOrEqual(1e-6);
    for (let i = 0; i < T; i++) {
      const row = base0.subarray(i * T, i * T + T);
      const S = [2, 3].filter((j) => j <= i);
      const removed = S.reduce((s, j) => s + (1 - beta) * row[j]!, 0);
      const rest = row.reduce((s, v, j) => (j <= i && !S.includes(j) ? s + v : s), 0);
      let sum = 0;
      for (let j = 0; j <= i; j++) {
        const want = S.includes(j) ? beta * row[j]! : rest > 0 ? row[j]! + (removed * row[j]!) / rest : row[j]!;
        expect(post[i * T + j]).toBeCloseTo(want, 5);
        sum += post[i * T + j]!;
      }
      expect(sum).toBeCloseTo(1, 5);
    }
    r.attention.release();
    ctx.release(r.logits);
  });

  it('head scale 1 is the identity; 0 ablates (layer-0 maps unchanged, logits change)', async () => {
    const same = model.run(ids, { interventions: [{ kind: 'headScale', layer: 1, head: 'all', scale: 1 }], capture: { layers: 'none' } });
    expect(maxAbs(await ctx.readF32(same.logits), baseLogits)).toBeLessThanOrEqual(1e-6);
    const abl = model.run(ids, { interventions: [{ kind: 'headScale', layer: 0, head: 2, scale: 0 }], capture: { layers: [0] } });
    expect(maxAbs(await abl.attention.layer(0), base0)).toBeLessThanOrEqual(1e-6);
    expect(maxAbs(await ctx.readF32(abl.logits), baseLogits)).toBeGreaterThan(1e-3);
    for (const r of [same, abl]) {
      r.attention.release();
      ctx.release(r.logits);
    }
  });

  it('a −∞ logit bias masks a key: its column is 0 and rows renormalise over the rest', async () => {
    const T = ids.length;
    const r = model.run(ids, {
      interventions: [{ kind: 'logitBias', layer: 0, head: 'all', key: 1, value: Number.NEGATIVE_INFINITY }],
      capture: { layers: [0] },
    });
    const a = await r.attention.layer(0);
    for (let h = 0; h < model.config.nHeads; h++) {
      for (let i = 1; i < T; i++) {
        const off = h * T * T + i * T;
        expect(a[off + 1]).toBe(0);
        const keep = 1 - base0[off + 1]!;
        expect(a[off]).toBeCloseTo(base0[off]! / keep, 5);
      }
    }
    r.attention.release();
    ctx.release(r.logits);
  });

  it('rejects interventions outside the model', () => {
    expect(() => compileInterventions([{ kind: 'headScale', layer: 9, head: 0, scale: 0 }], 3, 4, 8)).toThrow(/layers 0..2/);
    expect(() => compileInterventions([{ kind: 'headScale', layer: 0, head: 4, scale: 0 }], 3, 4, 8)).toThrow(/heads 0..3/);
    expect(() => zeroTuning([{ layer: 0, head: 0 }], 0)).toThrow(/γ > 0/);
  });
});
