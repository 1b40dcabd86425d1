/**
 * The hook points through the whole model: at layer 0 the input to attention does not depend on any
 * intervention, so the captured maps must relate to the baseline by the closed forms of methods.md.
 */
import { join, resolve } from 'node:path';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { act, compileInterventions, type LoadedModel, loadModel, loadModelCpu, uniformMasks, zeroTuning } from '../../src/index.js';
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
    // Without capture every layer runs the online softmax: compare with a plain run on the same path.
    const plain = model.run(ids, { capture: { layers: 'none' } });
    const same = model.run(ids, { interventions: [{ kind: 'headScale', layer: 1, head: 'all', scale: 1 }], capture: { layers: 'none' } });
    expect(maxAbs(await ctx.readF32(same.logits), await ctx.readF32(plain.logits))).toBeLessThanOrEqual(1e-6);
    expect(maxAbs(await ctx.readF32(same.logits), baseLogits)).toBeLessThanOrEqual(1e-4);
    const abl = model.run(ids, { interventions: [{ kind: 'headScale', layer: 0, head: 2, scale: 0 }], capture: { layers: [0] } });
    expect(maxAbs(await abl.attention.layer(0), base0)).toBeLessThanOrEqual(1e-6);
    expect(maxAbs(await ctx.readF32(abl.logits), baseLogits)).toBeGreaterThan(1e-3);
    for (const r of [plain, same, abl]) {
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

  it('ACT on L0H2 (τ = 0.1, β = 0.4) = the method applied by hand to the pre-rewrite maps; CPU path agrees', async () => {
    const T = ids.length;
    const iv = act([
      { layer: 0, head: 2 },
      { layer: 2, head: 'all' },
    ]);
    const r = model.run(ids, { interventions: iv, capture: { layers: [0], pre: true } });
    const pre = await r.attention.layer(0, { pre: true });
    const post = await r.attention.layer(0);
    expect(maxAbs(pre, base0)).toBeLessThanOrEqual(1e-6);
    const off = 2 * T * T;
    const imp = Array.from({ length: T }, (_, j) => {
      let s = 0;
      for (let i = j; i < T; i++) s += pre[off + i * T + j]!;
      return s / (T - j);
    });
    const S = imp.flatMap((v, j) => (v > 0.1 ? [j] : [])).slice(1);
    expect(S.length).toBeGreaterThan(0); // a no-op would prove nothing
    for (let i = 0; i < T; i++) {
      const row = pre.subarray(off + i * T, off + i * T + T);
      const inS = (j: number) => S.includes(j) && j <= i;
      const removed = row.reduce((a, v, j) => (inS(j) ? a + 0.6 * v : a), 0);
      const rest = row.reduce((a, v, j) => (j <= i && !inS(j) ? a + v : a), 0);
      for (let j = 0; j <= i; j++) {
        const want = rest === 0 ? row[j]! : inS(j) ? 0.4 * row[j]! : row[j]! + (removed * row[j]!) / rest;
        expect(Math.abs(post[off + i * T + j]! - want)).toBeLessThan(1e-6);
      }
    }
    for (const h of [0, 1, 3]) expect(maxAbs(post.subarray(h * T * T, (h + 1) * T * T), base0.subarray(h * T * T, (h + 1) * T * T))).toBeLessThanOrEqual(1e-6);
    const logits = await ctx.readF32(r.logits);
    expect(maxAbs(logits, baseLogits)).toBeGreaterThan(1e-3);

    const cpu = await loadModelCpu(new NodeDirSource(join(FIXTURES, 'llama_gqa')));
    const c = cpu.run(ids, { interventions: iv, capture: { layers: [0], pre: true } });
    expect(maxAbs(c.logits, logits)).toBeLessThanOrEqual(1e-4);
    expect(maxAbs(await c.attention.layer(0), post)).toBeLessThanOrEqual(1e-5);
    r.attention.release();
    ctx.release(r.logits);
  });

  it('uniform masks a head: its row is 1/(i+1) over the visible keys; other heads unchanged', async () => {
    const T = ids.length;
    const r = model.run(ids, { interventions: uniformMasks([{ layer: 0, head: 3 }]), capture: { layers: [0] } });
    const a = await r.attention.layer(0);
    for (let h = 0; h < model.config.nHeads; h++) {
      const off = h * T * T;
      if (h !== 3) {
        expect(maxAbs(a.subarray(off, off + T * T), base0.subarray(off, off + T * T))).toBeLessThanOrEqual(1e-6);
        continue;
      }
      for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) expect(a[off + i * T + j]).toBeCloseTo(j <= i ? 1 / (i + 1) : 0, 6);
    }
    expect(maxAbs(await ctx.readF32(r.logits), baseLogits)).toBeGreaterThan(1e-4);
    r.attention.release();
    ctx.release(r.logits);
  });

  it('ACT acts on prefill only: a KV-cache step with ACT equals one without', async () => {
    const prompt = ids.slice(0, 8);
    const runSteps = async (withAct: boolean) => {
      const cache = model.transformer.createCache(16);
      const interventions = withAct ? act([{ layer: 1, head: 'all' }], { tau: 0.05 }) : [];
      const first = model.run(prompt, { cache, interventions, capture: { layers: 'none' } });
      const step = model.run([ids[8]!], { cache, interventions, capture: { layers: 'none' } });
      const out = [await ctx.readF32(first.logits), await ctx.readF32(step.logits)];
      ctx.release(first.logits, step.logits);
      model.transformer.releaseCache(cache);
      return out;
    };
    const [a, b] = [await runSteps(true), await runSteps(false)];
    expect(maxAbs(a[0]!, b[0]!)).toBeGreaterThan(1e-4); // prefill calibrated …
    // … and the step differs only through the calibrated prefill's cache, not by ACT on the step itself.
    const cache = model.transformer.createCache(16);
    const calibrated = model.run(prompt, { cache, interventions: act([{ layer: 1, head: 'all' }], { tau: 0.05 }), capture: { layers: 'none' } });
    ctx.release(calibrated.logits);
    const plainStep = model.run([ids[8]!], { cache, capture: { layers: 'none' } });
    expect(maxAbs(await ctx.readF32(plainStep.logits), a[1]!)).toBe(0);
    ctx.release(plainStep.logits);
    model.transformer.releaseCache(cache);
  });

  it('rejects interventions outside the model', () => {
    expect(() => compileInterventions(act([{ layer: 0, head: 0 }], { beta: 1.5 }), 3, 4, 8)).toThrow(/β must be in \[0, 1\]/);
    expect(() => compileInterventions(act([{ layer: 0, head: 0 }], { tau: -1 }), 3, 4, 8)).toThrow(/τ must be/);
    expect(compileInterventions(act([{ layer: 0, head: 1 }], { tau: 2, tauMode: 'relative' }), 3, 4, 8).get(0)!.act![4 + 1]).toBeCloseTo(0.25);
    expect(() => compileInterventions([{ kind: 'headScale', layer: 9, head: 0, scale: 0 }], 3, 4, 8)).toThrow(/layers 0..2/);
    expect(() => compileInterventions([{ kind: 'headScale', layer: 0, head: 4, scale: 0 }], 3, 4, 8)).toThrow(/heads 0..3/);
    expect(() => zeroTuning([{ layer: 0, head: 0 }], 0)).toThrow(/γ > 0/);
  });
});
