/**
 * Conformance against Hugging Face transformers: every family fixture (tools/reference/make_fixtures.py)
 * and the real pretrained babyllama-tok105 run through loadModel + the WebGPU forward pass (Dawn here)
 * and must give the same token ids, logits, attention probabilities and greedy continuation.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedModel, loadModel } from '../../src/index.js';
import { NodeDirSource } from '../../src/node.js';
import { type FixtureReference, maxAbsDiff, maxAttentionDiff, readFixtureReference } from '../helpers/reference.js';

const FIXTURES = resolve(__dirname, '../../../../test/fixtures/models');
const SHARED_BABYLLAMA = resolve(__dirname, '../../../../../shared/models/babyllama-tok105');

const CASES: Array<{ name: string; weights: string }> = [
  ...[
    'gpt2',
    'gpt2_sharded',
    'gpt_neox',
    'gpt_neox_seq',
    'llama_gqa',
    'llama3_rope',
    'llama_linear_rope',
    'qwen2',
    // Issue 16's families: windows shorter than the prompt, soft-caps, q/k norms, NoPE, a nested gemma3 config.
    'gemma3_text',
    'gemma3_nested',
    'gemma2',
    'qwen3',
    'olmo2',
    'smollm3',
  ].map((name) => ({
    name,
    weights: join(FIXTURES, name),
  })),
  { name: 'babyllama-tok105', weights: SHARED_BABYLLAMA },
];

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createNodeContext();
});
afterAll(() => ctx?.destroy());

for (const { name, weights } of CASES) {
  describe.runIf(existsSync(weights))(`${name} matches transformers`, () => {
    let model: LoadedModel;
    let ref: FixtureReference;
    beforeAll(async () => {
      model = await loadModel(ctx, new NodeDirSource(weights));
      ref = await readFixtureReference(join(FIXTURES, name));
    });
    afterAll(() => model?.dispose());

    it('tokenizes the prompt to the same ids (BOS policy included)', () => {
      expect(model.config.addBos).toBe(ref.bos_prepended);
      expect(model.encode(ref.prompt)).toEqual(ref.input_ids);
    });

    it('logits within 1e-4 and every layer/head attention within 1e-5', async () => {
      const ids = Array.from(ref.tensors.get('input_ids')!.data);
      const { logits, attention } = model.run(ids);
      const want = ref.tensors.get('logits')!;
      expect(logits.shape).toEqual(want.shape);
      const logitErr = maxAbsDiff(await ctx.readF32(logits), want.data);
      expect(logitErr, `logits max abs error ${logitErr}`).toBeLessThanOrEqual(1e-4);
      const attnErr = await maxAttentionDiff(attention, ref, model.config, ids.length);
      expect(attnErr, `attention max abs error ${attnErr}`).toBeLessThanOrEqual(1e-5);
      ctx.release(logits);
      attention.release();
    });

    it('the 20-token greedy continuation is identical, token for token (KV cache)', async () => {
      const ids = Array.from(ref.tensors.get('input_ids')!.data);
      const { ids: got, prefill, steps } = await model.generate(ids, { maxNewTokens: 20 });
      expect(got).toEqual(Array.from(ref.tensors.get('greedy_ids')!.data));
      prefill.release();
      for (const s of steps) s.release();
    });

    it('KV-cache decoding equals a full recompute (logits and attention rows)', async () => {
      const prompt = Array.from(ref.tensors.get('input_ids')!.data);
      const all = [...prompt, ...Array.from(ref.tensors.get('greedy_ids')!.data).slice(0, 6)];
      const full = model.run(all);
      const fullLogits = await ctx.readF32(full.logits);
      const V = model.config.vocabSize;
      const t = model.transformer;
      const cache = t.createCache(all.length);
      // Prefill with the prompt, then one token at a time.
      let pos = 0;
      for (const chunk of [prompt, ...all.slice(prompt.length).map((x) => [x])]) {
        const step = t.forward(chunk, { cache });
        const got = await ctx.readF32(step.logits);
        expect(maxAbsDiff(got, fullLogits.subarray(pos * V, (pos + chunk.length) * V))).toBeLessThanOrEqual(1e-4);
        for (let l = 0; l < model.config.nLayers; l++) {
          for (let h = 0; h < model.config.nHeads; h++) {
            const rows = await step.attention.head(l, h);
            const fullHead = await full.attention.head(l, h);
            for (let r = 0; r < chunk.length; r++) {
              const i = pos + r;
              const want = fullHead.subarray(i * all.length, i * all.length + i + 1);
              expect(maxAbsDiff(rows.subarray(r * step.attention.keys, r * step.attention.keys + i + 1), want)).toBeLessThanOrEqual(1e-5);
            }
          }
        }
        ctx.release(step.logits);
        step.attention.release();
        pos += chunk.length;
      }
      t.releaseCache(cache);
      ctx.release(full.logits);
      full.attention.release();
    });
  });
}
