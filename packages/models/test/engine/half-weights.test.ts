/**
 * 16-bit checkpoints: conformance fixtures rewritten as BF16 and F16 safetensors (here, in TypeScript), loaded
 * with their matrices kept at 16 bits and forced to f32. Both hold the same values, so the two forward passes
 * must agree within the conformance bounds (logits ≤ 1e-4, attention ≤ 1e-5), and the 16-bit load must take
 * about half the weight memory.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWeightMemory, encodeSafetensors, inspectModel, type LoadedModel, loadModel, ovCircuit } from '../../src/index.js';
import { NodeDirSource } from '../../src/node.js';
import { FIXTURES } from '../helpers/hidden-sink-model.js';
import { maxAbsDiff, readFixtureReference, readTensors } from '../helpers/reference.js';

const OTHER_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];

/** A copy of a fixture whose float tensors are stored as `dtype` (rounded to nearest even). */
async function writeHalfCopy(name: string, dtype: 'F16' | 'BF16', root: string): Promise<string> {
  const src = join(FIXTURES, name);
  const dir = join(root, `${name}-${dtype}`);
  rmSync(dir, { recursive: true, force: true });
  const tensors = await readTensors(src, 'model.safetensors');
  const out = [...tensors].map(([n, t]) => ({ name: n, shape: t.shape, data: t.data, ...(t.data instanceof Float32Array ? { dtype } : {}) }));
  mkdirSync(dir);
  writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(out));
  for (const f of OTHER_FILES) if (existsSync(join(src, f))) copyFileSync(join(src, f), join(dir, f));
  return dir;
}

// GPT-2 (tied unembedding, learned positions, fused c_attn split on load), Llama with GQA and an untied
// unembedding, Gemma 2 (scaled embedding, soft-caps, sandwich norms, tied).
const CASES: { name: string; dtype: 'F16' | 'BF16' }[] = [
  { name: 'gpt2', dtype: 'BF16' },
  { name: 'llama_gqa', dtype: 'BF16' },
  { name: 'gemma2', dtype: 'F16' },
];

let ctx: GpuContext;
let root: string;
beforeAll(async () => {
  ctx = await createNodeContext();
  root = mkdtempSync(join(tmpdir(), 'headscope-half-'));
});
afterAll(() => {
  ctx?.destroy();
  if (root) rmSync(root, { recursive: true, force: true });
});

for (const { name, dtype } of CASES) {
  describe(`${name} stored as ${dtype}`, () => {
    let dir: string;
    let half: LoadedModel;
    let full: LoadedModel;
    beforeAll(async () => {
      dir = await writeHalfCopy(name, dtype, root);
      half = await loadModel(ctx, new NodeDirSource(dir));
      full = await loadModel(ctx, new NodeDirSource(dir), { weightPrecision: 'f32' });
    });
    afterAll(() => {
      half?.dispose();
      full?.dispose();
    });

    it('keeps the matrices at 16 bits: about half the weight bytes of the f32 load, as inspection predicts', async () => {
      const fmt = dtype === 'F16' ? 'f16' : 'bf16';
      const h = half.weightMemory;
      const f = full.weightMemory;
      console.log(`${name} ${dtype}: ${describeWeightMemory(h)}; forced f32: ${f.bytes} B; 16-bit: ${h.bytes} B (${(h.bytes / f.bytes).toFixed(3)}×)`);
      expect(h.dtypes[0]).toBe(fmt);
      expect(f.dtypes).toEqual(['f32']);
      expect(f.bytes).toBe(f.fp32Bytes);
      expect(h.fp32Bytes).toBe(f.bytes);
      // Norm weights, biases and learned positions stay f32, so a little over half.
      expect(h.bytes / f.bytes).toBeGreaterThan(0.5);
      expect(h.bytes / f.bytes).toBeLessThan(0.6);
      const inspected = await inspectModel(new NodeDirSource(dir));
      expect(inspected.gpuWeights).toEqual(h);
      expect((await inspectModel(new NodeDirSource(dir), { weightPrecision: 'f32' })).gpuWeights.bytes).toBe(f.bytes);
      expect(half.transformer.weights.layers[0]!.mlpIn.w.dtype).toBe(fmt);
      expect(half.transformer.weights.embed.dtype).toBe(fmt);
      // The fused QKV projection the forward pass builds is 16-bit too.
      expect(half.transformer.weights.layers[0]!.qkv?.w.dtype).toBe(fmt);
      expect(half.transformer.weights.lnFinal.w?.dtype).toBe('f32');
    });

    it('16-bit and f32 loads agree: logits ≤ 1e-4, every head’s attention ≤ 1e-5, same greedy tokens', async () => {
      const ref = await readFixtureReference(join(FIXTURES, name));
      const ids = ref.input_ids;
      const a = half.run(ids);
      const b = full.run(ids);
      const logitErr = maxAbsDiff(await ctx.readF32(a.logits), await ctx.readF32(b.logits));
      let attnErr = 0;
      for (let l = 0; l < half.config.nLayers; l++) attnErr = Math.max(attnErr, maxAbsDiff(await a.attention.layer(l), await b.attention.layer(l)));
      console.log(`${name} ${dtype}: max |Δ logits| ${logitErr.toExponential(2)}, max |Δ attention| ${attnErr.toExponential(2)}`);
      expect(logitErr).toBeLessThanOrEqual(1e-4);
      expect(attnErr).toBeLessThanOrEqual(1e-5);
      for (const r of [a, b]) {
        ctx.release(r.logits);
        r.attention.release();
      }
      // Decoding reads the weights through the few-rows matmul kernel.
      const g = await half.generate(ids, { maxNewTokens: 4 });
      const h = await full.generate(ids, { maxNewTokens: 4 });
      expect(g.ids).toEqual(h.ids);
      for (const s of [g.prefill, ...g.steps, h.prefill, ...h.steps]) s.release();
    });

    it('weight-space reads unpack to the same floats; OV scores read the 16-bit matrices', async () => {
      const [hw, fw] = await Promise.all([half.weights.head(0, 1), full.weights.head(0, 1)]);
      for (const k of ['W_Q', 'W_K', 'W_V', 'W_O'] as const) expect(hw[k].data).toEqual(fw[k].data);
      expect((await half.weights.unembedding()).data).toEqual((await full.weights.unembedding()).data);
      expect(await half.weights.embeddingRow(5)).toEqual(await full.weights.embeddingRow(5));
      const tokens = [3, 7, 11, 19];
      const input = { tokens, groups: [[0, 1, 2, 3]] };
      const oh = await ovCircuit(half.transformer, input, { embedding: 'mlp0+embedding', biases: true });
      const of = await ovCircuit(full.transformer, input, { embedding: 'mlp0+embedding', biases: true });
      let err = 0;
      for (let l = 0; l < half.config.nLayers; l++)
        for (let hd = 0; hd < half.config.nHeads; hd++) err = Math.max(err, maxAbsDiff(await oh.block(l, hd, 0), await of.block(l, hd, 0)));
      expect(err).toBeLessThanOrEqual(1e-4);
      oh.release();
      of.release();
    });
  });
}
