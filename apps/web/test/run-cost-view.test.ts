/** The prompt editor's run cost: the engine's estimate as is, and the engine's refusal (with its fix) when a buffer cannot be bound. */
import { estimateRunCost, type RunShape } from '@headscope/models';
import { describe, expect, it } from 'vitest';
import { runCostView } from '../src/engine/run-cost-view.js';

const GPT2: RunShape = { nLayers: 12, nHeads: 12, nKvHeads: 12, dModel: 768, dHead: 64, dFF: 3072, vocabSize: 50257, gatedMlp: false };
const QWEN05B: RunShape = { nLayers: 24, nHeads: 14, nKvHeads: 2, dModel: 896, dHead: 64, dFF: 4864, vocabSize: 151936, gatedMlp: true };
const TWO_GIB = 2 ** 31 - 4;

describe('runCostView', () => {
  it('carries the estimate of a run that fits', () => {
    const cost = estimateRunCost(GPT2, { tokens: 1024, logits: 'all' });
    const v = runCostView(cost, TWO_GIB);
    expect(v.refusal).toBeUndefined();
    expect(v).toMatchObject({ tokens: 1024, totalBytes: cost.totalBytes, mapsBytes: cost.mapsBytes, mapLayers: 12, limitBytes: TWO_GIB });
    // Twelve layers of [12, 1024, 1024] maps.
    expect(v.mapsBytes).toBe(12 * 12 * 1024 * 1024 * 4);
    expect(v.largest.bytes).toBeLessThanOrEqual(TWO_GIB);
  });

  it('refuses a run whose maps exceed one buffer, with the fix', () => {
    // One layer of Qwen2.5-0.5B maps at 8,192 tokens: 14 · 8192² · 4 bytes = 3.76 GB.
    const v = runCostView(estimateRunCost(QWEN05B, { tokens: 8192, logits: 'all' }), TWO_GIB);
    expect(v.largest).toEqual({ what: 'the logits', bytes: expect.any(Number) });
    expect(v.refusal?.message).toMatch(/8192 tokens needs .* for the logits/);
    expect(v.refusal?.fix).toMatch(/last position's logits|shorter prompt/);
    const maps = runCostView(estimateRunCost(QWEN05B, { tokens: 8192, logits: 'last' }), TWO_GIB);
    expect(maps.largest.what).toBe('one layer of attention maps');
    expect(maps.refusal?.message).toMatch(/for one layer of attention maps/);
    expect(maps.refusal?.fix).toMatch(/fewer layers or heads/);
    expect(maps.refusal?.message).not.toContain(maps.refusal!.fix);
  });
});
