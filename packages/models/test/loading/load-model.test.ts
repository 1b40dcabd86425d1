import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CheckpointIndexError,
  MissingFileError,
  MissingTensorError,
  MissingTokenizerError,
  MissingWeightsError,
  ModelTooLargeError,
  TensorMismatchError,
} from '../../src/errors.js';
import { canonicalShape, requiredCanonicalNames } from '../../src/families/canonical.js';
import { transpose2d } from '../../src/families/transform.js';
import { BrowserFilesSource } from '../../src/loading/browser-files-source.js';
import { inspectModel } from '../../src/loading/inspect.js';
import { type CanonicalTensor, loadModelFiles } from '../../src/loading/load-model.js';
import { NodeDirSource } from '../../src/loading/node-dir-source.js';
import { buildSafetensors, f32, sameBits, u16 } from '../helpers/safetensors.js';
import { modelFiles, tinyGpt2, tinyLlama, tinyNeox, writeModelDir, writeTokenizedModelDir } from '../helpers/tiny-models.js';

const BABYLLAMA = fileURLToPath(new URL('../../../../../shared/models/babyllama-tok105', import.meta.url));
const TOKENIZER = join(BABYLLAMA, 'tokenizer.json');

async function all(it: AsyncIterable<CanonicalTensor>): Promise<Map<string, CanonicalTensor>> {
  const m = new Map<string, CanonicalTensor>();
  for await (const t of it) {
    expect(m.has(t.name), `${t.name} yielded twice`).toBe(false);
    m.set(t.name, t);
  }
  return m;
}

/** A tiny model folder with the babyllama tokenizer copied in (tokenizers are not what these tests are about). */
const dirFor = writeTokenizedModelDir;

describe('babyllama-tok105 from disk', () => {
  it('parses config → llama spec and yields every canonical tensor with its shape', async () => {
    const loaded = await loadModelFiles(new NodeDirSource(BABYLLAMA));
    const c = loaded.config;
    expect(loaded.spec.family).toBe('llama');
    expect(c).toMatchObject({ nLayers: 5, nHeads: 8, nKvHeads: 4, dModel: 128, dHead: 16, dFF: 352, vocabSize: 105, nCtx: 256, tiedEmbeddings: true });
    expect(c.addBos).toBe(true);
    expect(c.bosTokenId).toBe(1);
    expect(c.eosTokenIds).toEqual([2]);
    expect(loaded.inspection.parameters).toBe(936_448);
    expect(loaded.inspection.largestTensor).toEqual({ name: 'blocks.0.mlp.W_gate', shape: [128, 352], bytes: 128 * 352 * 4 });
    const tensors = await all(loaded.tensors);
    expect([...tensors.keys()].sort()).toEqual(requiredCanonicalNames(c).sort());
    for (const t of tensors.values()) expect(t.shape, t.name).toEqual(canonicalShape(t.name, c));
    // Tied: W_U is W_E transposed.
    const we = tensors.get('embed.W_E')!;
    expect(sameBits(tensors.get('unembed.W_U')!.data, transpose2d(we.data, 105, 128))).toBe(true);
    expect(tensors.get('blocks.0.attn.W_K')!.shape).toEqual([128, 64]);
    expect(loaded.tokenizer.encode('Once upon a time').length).toBe(18);
  });

  it('can skip the tied unembed (the forward pass may read W_E transposed instead)', async () => {
    const loaded = await loadModelFiles(new NodeDirSource(BABYLLAMA), { skip: (n) => n === 'unembed.W_U' });
    const tensors = await all(loaded.tensors);
    expect(tensors.has('unembed.W_U')).toBe(false);
    expect(tensors.size).toBe(requiredCanonicalNames(loaded.config).length - 1);
  });
});

describe('each family end to end from a folder', () => {
  it('GPT-2 (bare names): Conv1D weights kept, c_attn split into q|k|v blocks', async () => {
    const m = tinyGpt2('');
    const loaded = await loadModelFiles(new NodeDirSource(dirFor(m)));
    expect(loaded.config.addBos).toBe(true); // babyllama's tokenizer was copied in: the tokenizer decides
    const t = await all(loaded.tensors);
    const cAttn = m.tensors.get('h.1.attn.c_attn.weight')!.data; // [8, 24]
    const wv = t.get('blocks.1.attn.W_V')!;
    expect(wv.shape).toEqual([8, 8]);
    for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) expect(wv.data[r * 8 + c]).toBe(cAttn[r * 24 + 16 + c]);
    expect([...t.get('blocks.1.attn.b_K')!.data]).toEqual([...m.tensors.get('h.1.attn.c_attn.bias')!.data.subarray(8, 16)]);
    expect(sameBits(t.get('blocks.0.mlp.W_in')!.data, m.tensors.get('h.0.mlp.c_fc.weight')!.data)).toBe(true);
    expect(sameBits(t.get('unembed.W_U')!.data, transpose2d(m.tensors.get('wte.weight')!.data, 11, 8))).toBe(true);
    expect(t.get('pos_embed.W_pos')!.shape).toEqual([16, 8]);
  });

  it('GPT-NeoX: per-head fused query_key_value split, Linear weights transposed, untied embed_out', async () => {
    const m = tinyNeox();
    const loaded = await loadModelFiles(new NodeDirSource(dirFor(m)));
    expect(loaded.config.rotary).toMatchObject({ dim: 2 });
    const t = await all(loaded.tensors);
    const qkv = m.tensors.get('gpt_neox.layers.0.attention.query_key_value.weight')!.data; // [24, 8]: rows h·12 + part·4 + i
    const wk = t.get('blocks.0.attn.W_K')!; // [8 in, 8 = 2 heads × 4]
    for (let h = 0; h < 2; h++)
      for (let i = 0; i < 4; i++) for (let inp = 0; inp < 8; inp++) expect(wk.data[inp * 8 + h * 4 + i]).toBe(qkv[(h * 12 + 4 + i) * 8 + inp]);
    const bias = m.tensors.get('gpt_neox.layers.0.attention.query_key_value.bias')!.data;
    expect([...t.get('blocks.0.attn.b_V')!.data]).toEqual([...bias.subarray(8, 12), ...bias.subarray(20, 24)]);
    expect(sameBits(t.get('blocks.1.mlp.W_out')!.data, transpose2d(m.tensors.get('gpt_neox.layers.1.mlp.dense_4h_to_h.weight')!.data, 8, 16))).toBe(true);
    expect(sameBits(t.get('unembed.W_U')!.data, transpose2d(m.tensors.get('embed_out.weight')!.data, 13, 8))).toBe(true);
  });

  it('Llama with head_dim override and untied lm_head; Qwen2 biases; Mistral window', async () => {
    const llama = tinyLlama();
    const t = await all((await loadModelFiles(new NodeDirSource(dirFor(llama)))).tensors);
    expect(t.get('blocks.0.attn.W_Q')!.shape).toEqual([8, 16]);
    expect(sameBits(t.get('blocks.0.attn.W_Q')!.data, transpose2d(llama.tensors.get('model.layers.0.self_attn.q_proj.weight')!.data, 16, 8))).toBe(true);
    expect(sameBits(t.get('blocks.0.mlp.W_gate')!.data, transpose2d(llama.tensors.get('model.layers.0.mlp.gate_proj.weight')!.data, 12, 8))).toBe(true);
    expect(sameBits(t.get('unembed.W_U')!.data, transpose2d(llama.tensors.get('lm_head.weight')!.data, 10, 8))).toBe(true);

    const qwen = tinyLlama({ modelType: 'qwen2', tied: true, qkvBias: true });
    const q = await loadModelFiles(new NodeDirSource(dirFor(qwen)));
    const qt = await all(q.tensors);
    expect(qt.get('blocks.1.attn.b_K')!.data).toEqual(qwen.tensors.get('model.layers.1.self_attn.k_proj.bias')!.data);
    expect(qt.has('blocks.1.attn.b_O')).toBe(false);

    const mistral = await loadModelFiles(new NodeDirSource(dirFor(tinyLlama({ modelType: 'mistral', extra: { sliding_window: 8 } }))));
    expect(mistral.config.nCtx).toBe(8);
    expect(mistral.tokenizer.nCtx).toBe(8);
  });

  it('reads a sharded checkpoint through its index, from disk and from File objects', async () => {
    const m = tinyLlama();
    const files = modelFiles(m, { shards: 3 });
    const dir = dirFor(m, { shards: 3 });
    const fromDisk = await all((await loadModelFiles(new NodeDirSource(dir))).tensors);
    const browser = new BrowserFilesSource([
      ...Object.entries(files).map(([n, b]) => new File([b], `model/${n}`)),
      new File([readFileSync(TOKENIZER)], 'model/tokenizer.json'),
    ]);
    const loaded = await loadModelFiles(browser);
    expect(loaded.inspection.files.map((f) => f.name)).toEqual([
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
    ]);
    const fromFiles = await all(loaded.tensors);
    expect([...fromFiles.keys()].sort()).toEqual([...fromDisk.keys()].sort());
    for (const [k, v] of fromDisk) expect(sameBits(fromFiles.get(k)!.data, v.data)).toBe(true);
  });

  it('converts F16/BF16 checkpoints to fp32 on the way', async () => {
    const m = tinyLlama({ tied: true });
    const dir = dirFor(m);
    // Rewrite the embedding as BF16 and one norm as F16 (values chosen exactly representable).
    const entries = [...m.tensors.entries()].map(([n, v]) => {
      if (n === 'model.embed_tokens.weight')
        return u16(
          n,
          'BF16',
          v.shape,
          Array.from({ length: 80 }, (_, i) => 0x3f80 + i),
        );
      if (n === 'model.norm.weight') return u16(n, 'F16', v.shape, [0x3c00, 0x4000, 0x0001, 0xc000, 0, 0x3800, 0x3400, 0x7bff]);
      return f32(n, v.shape, v.data);
    });
    writeFileSync(join(dir, 'model.safetensors'), buildSafetensors(entries));
    const loaded = await loadModelFiles(new NodeDirSource(dir));
    expect(loaded.inspection.parametersByDtype['BF16']).toBe(80);
    const t = await all(loaded.tensors);
    expect([...t.get('ln_final.w')!.data]).toEqual([1, 2, 2 ** -24, -2, 0, 0.5, 0.25, 65504]);
    expect(t.get('embed.W_E')!.data[1]).toBe(1 + 1 / 128);
  });
});

describe('inspection and typed errors before any weight is read', () => {
  it('reports size and refuses a model whose largest tensor exceeds the GPU buffer limit', async () => {
    const src = new NodeDirSource(BABYLLAMA);
    const report = await inspectModel(src);
    expect(report.checkpointBytes).toBe(3_750_752);
    expect(report.fp32Bytes).toBe(936_448 * 4); // the tied W_U is W_E read transposed, not a second copy
    const err = await inspectModel(src, { maxBufferBytes: 100_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelTooLargeError);
    expect((err as ModelTooLargeError).bytes).toBe(180_224);
    expect((err as ModelTooLargeError).message).toContain('blocks.0.mlp.W_gate');
    await expect(loadModelFiles(src, { maxTotalBytes: 1_000_000 })).rejects.toBeInstanceOf(ModelTooLargeError);
  });

  it('a missing tensor, a wrong shape and a wrong dtype', async () => {
    const m = tinyLlama();
    m.tensors.delete('model.layers.1.mlp.up_proj.weight');
    const e1 = await loadModelFiles(new NodeDirSource(dirFor(m))).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(MissingTensorError);
    expect((e1 as MissingTensorError).canonical).toBe('blocks.1.mlp.W_in');

    const m2 = tinyLlama();
    m2.config['intermediate_size'] = 10; // config.json disagrees with the weights
    const e2 = await loadModelFiles(new NodeDirSource(dirFor(m2))).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(TensorMismatchError);
    expect((e2 as TensorMismatchError).message).toMatch(/shape \[12, 8\].*\[10, 8\]|\[10, 8\].*\[12, 8\]/);

    const m3 = tinyLlama();
    const dir = dirFor(m3);
    const entries = [...m3.tensors.entries()].map(([n, v]) =>
      n === 'model.norm.weight' ? { name: n, dtype: 'I32', shape: v.shape, bytes: new Uint8Array(v.data.buffer.slice(0)) } : f32(n, v.shape, v.data),
    );
    writeFileSync(join(dir, 'model.safetensors'), buildSafetensors(entries));
    await expect(loadModelFiles(new NodeDirSource(dir))).rejects.toBeInstanceOf(TensorMismatchError);
  });

  it('missing config, weights, tokenizer; broken index', async () => {
    const m = tinyLlama();
    const noConfig = dirFor(m);
    rmSync(join(noConfig, 'config.json'));
    await expect(loadModelFiles(new NodeDirSource(noConfig))).rejects.toBeInstanceOf(MissingFileError);

    const noWeights = dirFor(m);
    rmSync(join(noWeights, 'model.safetensors'));
    writeFileSync(join(noWeights, 'pytorch_model.bin'), 'x');
    await expect(loadModelFiles(new NodeDirSource(noWeights))).rejects.toBeInstanceOf(MissingWeightsError);

    const noTokenizer = writeModelDir(m);
    await expect(loadModelFiles(new NodeDirSource(noTokenizer))).rejects.toBeInstanceOf(MissingTokenizerError);

    const sharded = dirFor(m, { shards: 2 });
    rmSync(join(sharded, 'model-00002-of-00002.safetensors'));
    await expect(loadModelFiles(new NodeDirSource(sharded))).rejects.toBeInstanceOf(CheckpointIndexError);

    const badIndex = dirFor(m, { shards: 2 });
    writeFileSync(join(badIndex, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'model.norm.weight': '../../etc/passwd' } }));
    await expect(loadModelFiles(new NodeDirSource(badIndex))).rejects.toBeInstanceOf(CheckpointIndexError);
  });
});
