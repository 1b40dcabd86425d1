/**
 * Capture as a budget: reductions without maps, maps for chosen layers only, the run-cost estimate and
 * its refusal. The online-softmax path must equal the materialising one where both fit, and a 4,096-token
 * prompt must run inside SwiftShader's 1 GiB binding limit where keeping its maps would not.
 */
import { type GpuContext, shapeSize } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateRunCost, type LoadedModel, loadModel, RunTooLargeError } from '../../src/index.js';
import { NodeDirSource } from '../../src/node.js';
import { maxAbsDiff } from '../helpers/reference.js';
import { tinyLlama, writeTokenizedModelDir } from '../helpers/tiny-models.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createNodeContext();
});
afterAll(() => ctx?.destroy());

function promptIds(n: number, vocab: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7 + 3) % vocab);
}

describe('reductions without maps equal the materialising path', () => {
  let model: LoadedModel;
  beforeAll(async () => {
    model = await loadModel(ctx, new NodeDirSource(writeTokenizedModelDir(tinyLlama())));
  });
  afterAll(() => model?.dispose());

  it('45 tokens: maps of layer 1 only, reductions of both layers; logits ≤ 1e-4, kept maps and reductions ≤ 1e-5', async () => {
    const ids = promptIds(45, 10);
    const dense = model.run(ids);
    const budget = model.run(ids, { capture: { layers: [1], stats: 'all' } });
    expect(budget.attention.capturedLayers).toEqual([1]);
    expect(budget.attention.statsLayers).toEqual([0, 1]);
    expect(maxAbsDiff(await ctx.readF32(budget.logits), await ctx.readF32(dense.logits))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(await budget.attention.layer(1), await dense.attention.layer(1))).toBeLessThanOrEqual(1e-5);
    await expect(budget.attention.layer(0)).rejects.toThrow(/reductions only/);
    for (const layer of [0, 1]) {
      for (let h = 0; h < 4; h++) {
        const [a, b] = await Promise.all([budget.attention.stats(layer, h), dense.attention.stats(layer, h)]);
        for (const key of ['colMean', 'entropy', 'firstMass'] as const) expect(maxAbsDiff(a[key], b[key]), `L${layer}H${h} ${key}`).toBeLessThanOrEqual(1e-5);
        expect([...a.argmax]).toEqual([...b.argmax]);
      }
    }
    // No capture at all: the same logits, nothing kept.
    const bare = model.run(ids, { capture: { layers: 'none' } });
    expect(bare.attention.statsLayers).toEqual([]);
    expect(maxAbsDiff(await ctx.readF32(bare.logits), await ctx.readF32(dense.logits))).toBeLessThanOrEqual(1e-4);
    for (const r of [dense, budget, bare]) {
      ctx.release(r.logits);
      r.attention.release();
    }
  });

  it('a memory budget below the estimate is refused before anything runs, with the estimate', () => {
    const ids = promptIds(20, 10);
    const cost = model.transformer.estimate(ids.length);
    let err: unknown;
    try {
      model.run(ids, { memoryBudgetBytes: cost.totalBytes - 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunTooLargeError);
    expect((err as RunTooLargeError).cost.totalBytes).toBe(cost.totalBytes);
    expect((err as RunTooLargeError).message).toMatch(/memory budget/);
  });
});

describe('a 4,096-token prompt inside the 1 GiB binding limit', () => {
  const at = (heads: number) => ({ d: 8, heads, kvHeads: 1, headDim: 4, ff: 16, layers: 1, vocab: 32, nCtx: 4096 });
  const ids = promptIds(4096, 32);

  it('keeping the maps is refused before anything runs, with a typed error naming the maps and the fix', async () => {
    // 18 heads: one layer's maps at 4,096 tokens are 18·4096²·4 B = 1.125 GiB, above SwiftShader's 1 GiB.
    const model = await loadModel(ctx, new NodeDirSource(writeTokenizedModelDir(tinyLlama({ shape: at(18) }))));
    try {
      expect(() => model.run(ids)).toThrow(RunTooLargeError);
      expect(() => model.run(ids)).toThrow(/attention maps.*capture stats/);
      expect(model.transformer.estimate(4096, { capture: { layers: 'none', stats: 'all' } }).largestBuffer.bytes).toBeLessThan(
        ctx.limits.maxStorageBufferBindingSize,
      );
    } finally {
      model.dispose();
    }
  });

  it('reductions of every head run, within the estimate the engine gives beforehand', async () => {
    // One head keeps the T² work of this test small on SwiftShader; what is checked does not depend on H.
    const model = await loadModel(ctx, new NodeDirSource(writeTokenizedModelDir(tinyLlama({ shape: at(1) }))));
    const options = { capture: { layers: 'none', stats: 'all' }, logits: 'last' } as const;
    const cost = model.transformer.estimate(ids.length, options);
    expect(cost.largestBuffer.bytes).toBeLessThanOrEqual(ctx.limits.maxStorageBufferBindingSize);
    // What the app and CLI show comes from the config alone and agrees:
    expect(
      estimateRunCost({ nLayers: 1, nHeads: 1, nKvHeads: 1, dModel: 8, dHead: 4, dFF: 16, vocabSize: 32, gatedMlp: true }, { tokens: 4096, ...options }),
    ).toEqual(cost);

    await ctx.sync();
    ctx.pool.resetPeak();
    const before = ctx.pool.stats.liveBytes;
    const { logits, attention } = model.run(ids, options);
    const stats = await attention.stats(0, 0);
    const peak = ctx.pool.stats.peakLiveBytes - before;
    expect(shapeSize(logits.shape)).toBe(32);
    // Every row is a distribution: entropy within [0, ln(keys seen)], first-key mass within [0, 1],
    // argmax a visible key; column means within [0, 1].
    for (let i = 0; i < 4096; i += 97) {
      expect(stats.entropy[i]!).toBeGreaterThanOrEqual(-1e-5);
      expect(stats.entropy[i]!).toBeLessThanOrEqual(Math.log(i + 1) + 1e-4);
      expect(stats.firstMass[i]!).toBeGreaterThanOrEqual(0);
      expect(stats.firstMass[i]!).toBeLessThanOrEqual(1);
      expect(stats.argmax[i]!).toBeLessThanOrEqual(i);
    }
    expect(stats.firstMass[0]).toBeCloseTo(1, 6);
    expect(Math.max(...stats.colMean)).toBeLessThanOrEqual(1 + 1e-6);
    expect(peak, `measured peak ${peak} B vs estimate ${cost.totalBytes} B`).toBeLessThanOrEqual(cost.totalBytes);
    expect(peak).toBeGreaterThan(cost.totalBytes * 0.5);
    ctx.release(logits);
    attention.release();
    model.dispose();
  }, 300_000);
});

describe('a pass of 256 tokens or more without capture writes its scores to one shared buffer', () => {
  const shape = { d: 8, heads: 2, kvHeads: 1, headDim: 4, ff: 16, layers: 2, vocab: 32, nCtx: 512 };
  const ids = promptIds(300, 32);
  let model: LoadedModel;
  beforeAll(async () => {
    model = await loadModel(ctx, new NodeDirSource(writeTokenizedModelDir(tinyLlama({ shape }))));
  });
  afterAll(() => model?.dispose());

  it('same logits as keeping every map (same scores, softmax finished in P·V) and as the online softmax; the scratch is in the estimate and the measured peak', async () => {
    const dense = model.run(ids);
    const online = model.run(ids, { capture: { layers: 'none', stats: 'all' } });
    await ctx.sync();
    ctx.pool.resetPeak();
    const before = ctx.pool.stats.liveBytes;
    const bare = model.run(ids, { capture: { layers: 'none' } });
    await ctx.sync();
    const peak = ctx.pool.stats.peakLiveBytes - before;
    const [d, o, b] = await Promise.all([dense, online, bare].map((r) => ctx.readF32(r.logits)));
    // Kept maps are normalised as P·V loads them; without capture P·V divides by the row sums at the end:
    // the same scores, so only rounding apart.
    expect(maxAbsDiff(b!, d!)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(b!, o!)).toBeLessThanOrEqual(1e-4);
    const scores = shape.heads * ids.length * ids.length * 4;
    const cost = model.transformer.estimate(ids.length, { capture: { layers: 'none' } });
    expect(peak, `measured peak ${peak} B`).toBeGreaterThanOrEqual(scores);
    expect(peak, `measured peak ${peak} B vs estimate ${cost.totalBytes} B`).toBeLessThanOrEqual(cost.totalBytes);
    for (const r of [dense, online, bare]) {
      ctx.release(r.logits);
      r.attention.release();
    }
  }, 120_000);

  it("logits on demand (logits: 'none'): any rows of the final norm's output equal those rows of the full logits", async () => {
    const dense = model.run(ids);
    const deferred = model.transformer.forward(ids, { logits: 'none' });
    expect(deferred.final.shape).toEqual([ids.length, shape.d]);
    const all = await ctx.readF32(dense.logits);
    const V = shape.vocab;
    const rows = model.transformer.logitsOf(deferred.final, 5, 3);
    expect(rows.shape).toEqual([3, V]);
    expect(maxAbsDiff(await ctx.readF32(rows), all.subarray(5 * V, 8 * V))).toBe(0);
    const whole = model.transformer.logitsOf(deferred.final);
    expect(maxAbsDiff(await ctx.readF32(whole), all)).toBe(0);
    expect(() => model.transformer.logitsOf(deferred.final, 299, 2)).toThrow(RangeError);
    expect(model.transformer.estimate(ids.length, { logits: 'none' }).logitsBytes).toBe(0);
    ctx.release(dense.logits, deferred.final, rows, whole);
    dense.attention.release();
    deferred.attention.release();
  }, 120_000);
});
