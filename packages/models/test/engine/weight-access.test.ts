import { join, resolve } from 'node:path';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, streamTensors } from '../../src/index.js';
import { NodeDirSource } from '../../src/node.js';

const FIXTURES = resolve(__dirname, '../../../../test/fixtures/models');

/** The checkpoint's own tensors, read independently of the family specs. */
async function checkpoint(dir: string): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for await (const t of streamTensors(new NodeDirSource(dir), ['model.safetensors']))
    if (t.data instanceof Float32Array) out.set(t.name, { shape: t.shape, data: t.data });
  return out;
}

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createNodeContext();
});
afterAll(() => ctx?.destroy());

describe('weight access', () => {
  it('llama GQA (HF Linear [out, in]): per-head W_Q/W_K/W_V/W_O, MLP0 and norms equal the checkpoint slices', async () => {
    const dir = join(FIXTURES, 'llama_gqa');
    const model = await loadModel(ctx, new NodeDirSource(dir));
    const ck = await checkpoint(dir);
    const { dModel: d, dHead: dh, nHeads, nKvHeads } = model.config;
    expect(nKvHeads).toBeLessThan(nHeads);
    for (const [layer, head] of [
      [0, 0],
      [1, 3],
      [2, 2],
    ] as const) {
      const hw = await model.weights.head(layer, head);
      const kv = Math.floor(head / (nHeads / nKvHeads));
      expect(hw.kvHead).toBe(kv);
      const p = `model.layers.${layer}.self_attn`;
      const q = ck.get(`${p}.q_proj.weight`)!.data; // [H·dh, d]
      const k = ck.get(`${p}.k_proj.weight`)!.data;
      const v = ck.get(`${p}.v_proj.weight`)!.data;
      const o = ck.get(`${p}.o_proj.weight`)!.data; // [d, H·dh]
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < dh; j++) {
          expect(hw.W_Q.data[i * dh + j]).toBe(q[(head * dh + j) * d + i]);
          expect(hw.W_K.data[i * dh + j]).toBe(k[(kv * dh + j) * d + i]);
          expect(hw.W_V.data[i * dh + j]).toBe(v[(kv * dh + j) * d + i]);
          expect(hw.W_O.data[j * d + i]).toBe(o[i * nHeads * dh + head * dh + j]);
        }
      }
    }
    const mlp = await model.weights.mlp(0);
    const up = ck.get('model.layers.0.mlp.up_proj.weight')!;
    const gate = ck.get('model.layers.0.mlp.gate_proj.weight')!;
    const ff = up.shape[0]!;
    expect(mlp.W_in.cols).toBe(ff);
    expect(mlp.W_in.data[5 * ff + 7]).toBe(up.data[7 * d + 5]);
    expect(mlp.W_gate!.data[3 * ff + 1]).toBe(gate.data[1 * d + 3]);
    expect(Array.from((await model.weights.norm(1, 'ln2')).w!)).toEqual(Array.from(ck.get('model.layers.1.post_attention_layernorm.weight')!.data));
    expect(Array.from((await model.weights.norm('final')).w!)).toEqual(Array.from(ck.get('model.norm.weight')!.data));
    const wu = await model.weights.unembedding();
    const lm = ck.get('lm_head.weight')!.data; // [V, d]
    expect(wu.data[3 * model.config.vocabSize + 11]).toBe(lm[11 * d + 3]);
    model.dispose();
  });

  it('qwen2 (bf16, biases, tied): biases per head, W_U = W_Eᵀ', async () => {
    const dir = join(FIXTURES, 'qwen2');
    const model = await loadModel(ctx, new NodeDirSource(dir));
    const ck = await checkpoint(dir);
    const { dHead: dh, vocabSize: V, dModel: d } = model.config;
    const hw = await model.weights.head(1, 3);
    expect(Array.from(hw.b_Q!)).toEqual(Array.from(ck.get('model.layers.1.self_attn.q_proj.bias')!.data.subarray(3 * dh, 4 * dh)));
    expect(Array.from(hw.b_K!)).toEqual(Array.from(ck.get('model.layers.1.self_attn.k_proj.bias')!.data.subarray(hw.kvHead * dh, (hw.kvHead + 1) * dh)));
    const we = await model.weights.embedding();
    const wu = await model.weights.unembedding();
    expect(we.rows).toBe(V);
    for (const [t, i] of [
      [0, 0],
      [17, 5],
      [V - 1, d - 1],
    ] as const)
      expect(wu.data[i * V + t]).toBe(we.data[t * d + i]);
    expect(Array.from(await model.weights.embeddingRow(17))).toEqual(Array.from(we.data.subarray(17 * d, 18 * d)));
    model.dispose();
  });

  it('gpt2 (Conv1D [in, out], fused c_attn): W_V of head 2 is the right column block', async () => {
    const dir = join(FIXTURES, 'gpt2');
    const model = await loadModel(ctx, new NodeDirSource(dir));
    const ck = await checkpoint(dir);
    const { dModel: d, dHead: dh } = model.config;
    const cAttn = ck.get('transformer.h.0.attn.c_attn.weight')!.data; // [d, 3d]
    const hw = await model.weights.head(0, 2);
    for (let i = 0; i < d; i++) for (let j = 0; j < dh; j++) expect(hw.W_V.data[i * dh + j]).toBe(cAttn[i * 3 * d + 2 * d + 2 * dh + j]);
    await expect(model.weights.head(0, 99)).rejects.toThrow(RangeError);
    model.dispose();
  });
});
