/**
 * Retrieval decoding keeps only each step's attention row per head (and its argmax, reduced on the GPU).
 * Those rows must be the rows a full recompute of prompt + emitted tokens gives (methods.md §4 scores them).
 */
import { join, resolve } from 'node:path';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  act,
  decodeTrace,
  estimateRunCost,
  type LoadedModel,
  loadModel,
  PREFILL_SCORE_BYTES,
  prefillChunkFor,
  prefillChunkForModel,
  uniformMasks,
} from '../../src/index.js';
import { NodeDirSource } from '../../src/node.js';

const FIXTURES = resolve(__dirname, '../../../../test/fixtures/models');

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createNodeContext();
});
afterAll(() => ctx?.destroy());

async function check(name: string, masked: boolean, prefillChunk?: number) {
  const model: LoadedModel = await loadModel(ctx, new NodeDirSource(join(FIXTURES, name)));
  try {
    const c = model.transformer.config;
    const prompt = model.encode('The old keeper watched the boats come home, and the gulls');
    const interventions = masked ? uniformMasks([{ layer: c.nLayers - 1, head: 1 }]) : undefined;
    const trace = await decodeTrace(model.transformer, prompt, {
      maxNewTokens: 6,
      keepRows: true,
      ...(interventions ? { interventions } : {}),
      ...(prefillChunk ? { prefillChunk } : {}),
    });
    expect(trace.ids.length).toBe(6);
    // The same greedy tokens as the engine's own generate (prefill split differently, same model).
    const gen = await model.generate(prompt, { maxNewTokens: 6, capture: { layers: 'none' }, ...(interventions ? { interventions } : {}) });
    gen.prefill.release();
    for (const s of gen.steps) s.release();
    expect(trace.ids).toEqual(gen.ids);

    const all = [...prompt, ...trace.ids.slice(0, -1)];
    const full = model.run(all, { capture: { layers: 'all' }, ...(interventions ? { interventions } : {}) });
    const N = all.length;
    const H = c.nHeads;
    let worst = 0;
    for (let l = 0; l < c.nLayers; l++) {
      const maps = await full.attention.layer(l);
      for (let t = 0; t < trace.ids.length; t++) {
        const i = prompt.length - 1 + t;
        const keys = i + 1;
        const row = trace.rows![t]!;
        for (let h = 0; h < H; h++) {
          const ref = maps.subarray((h * N + i) * N, (h * N + i) * N + keys);
          const got = row.subarray((l * H + h) * keys, (l * H + h + 1) * keys);
          let best = 0;
          for (let j = 0; j < keys; j++) {
            worst = Math.max(worst, Math.abs(got[j]! - ref[j]!));
            if (ref[j]! > ref[best]!) best = j;
          }
          // The GPU argmax is the argmax of the captured row (ties to the lower key).
          let own = 0;
          for (let j = 0; j < keys; j++) if (got[j]! > got[own]!) own = j;
          expect(trace.argmax[t]![l * H + h]).toBe(own);
          if (ref[best]! - [...ref].sort((a, b) => b - a)[1]! > 1e-4) expect(own).toBe(best);
        }
      }
    }
    full.attention.release();
    ctx.release(full.logits);
    expect(worst).toBeLessThanOrEqual(1e-5);
    return worst;
  } finally {
    model.dispose();
  }
}

describe('decodeTrace', () => {
  it('per-step rows and argmaxes equal a full recompute (gpt2, learned positions)', async () => {
    await check('gpt2', false);
  });
  it('the same with rotary GQA (llama_gqa) and a head masked to uniform attention', async () => {
    await check('llama_gqa', true);
  });
  it('the same with the prompt prefilled in chunks of 3 tokens (long prompts keep the score buffer bounded)', async () => {
    expect(prefillChunkFor(12, 1024, PREFILL_SCORE_BYTES)).toBe(5461);
    await check('llama_gqa', true, 3);
  });
  it('without materialising layers the chunk is bounded by one layer of activations, not by T² scores', async () => {
    const model = await loadModel(ctx, new NodeDirSource(join(FIXTURES, 'llama_gqa')));
    try {
      const t = model.transformer;
      const budget = 4 * 2 ** 20;
      const chunk = prefillChunkForModel(t, 100_000, budget);
      const oneLayer = (n: number) => estimateRunCost({ ...t.runShape, nLayers: 1 }, { tokens: n, logits: 'last', capture: { layers: 'none' } }).totalBytes;
      expect(oneLayer(chunk)).toBeLessThanOrEqual(budget);
      expect(oneLayer(chunk + 1)).toBeGreaterThan(budget);
      // The score rule would allow budget / (H · 4 · keys) = 2 tokens here.
      expect(prefillChunkFor(t.config.nHeads, 100_000, budget)).toBeLessThan(4);
      expect(chunk).toBeGreaterThan(100);
      expect(prefillChunkForModel(t, 50, budget)).toBe(50);
      // ACT rewrites rows after the softmax, so those layers materialise scores: the score rule applies too.
      expect(prefillChunkForModel(t, 100_000, budget, act([{ layer: 0, head: 0 }]))).toBe(prefillChunkFor(t.config.nHeads, 100_000, budget));
    } finally {
      model.dispose();
    }
  });
});
