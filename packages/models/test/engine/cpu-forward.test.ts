/**
 * The CPU reference path against Hugging Face transformers (the same fixtures and tolerances as the WebGPU
 * conformance test), its intervention hooks against the closed form, and the 30M-parameter refusal.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CPU_MAX_PARAMETERS, type CpuLoadedModel, CpuModelTooLargeError, type FileSource, loadModelCpu, zeroTuning } from '../../src/index.js';
import { NodeDirSource } from '../../src/node.js';
import { type FixtureReference, maxAbsDiff, maxAttentionDiff, readFixtureReference } from '../helpers/reference.js';

const FIXTURES = resolve(__dirname, '../../../../test/fixtures/models');

/**
 * The gpt2 fixture widened to 12 layers of d_model 512 (~38M parameters), as a source that has the config
 * and the safetensors header but no weight bytes: reading weights would be counted (and give zeros).
 */
function bigGpt2Source(dir: string): { source: FileSource; parameters: number; weightReads: () => number } {
  const d = 512;
  const L = 12;
  const base = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const config = JSON.stringify({ ...base, n_embd: d, n_head: 8, n_layer: L, n_positions: 1024 });
  const vocab = base['vocab_size'] as number;
  const shapes: Record<string, number[]> = {
    'transformer.wte.weight': [vocab, d],
    'transformer.wpe.weight': [1024, d],
    'transformer.ln_f.weight': [d],
    'transformer.ln_f.bias': [d],
  };
  for (let l = 0; l < L; l++) {
    const p = `transformer.h.${l}`;
    Object.assign(shapes, {
      [`${p}.ln_1.weight`]: [d],
      [`${p}.ln_1.bias`]: [d],
      [`${p}.attn.c_attn.weight`]: [d, 3 * d],
      [`${p}.attn.c_attn.bias`]: [3 * d],
      [`${p}.attn.c_proj.weight`]: [d, d],
      [`${p}.attn.c_proj.bias`]: [d],
      [`${p}.ln_2.weight`]: [d],
      [`${p}.ln_2.bias`]: [d],
      [`${p}.mlp.c_fc.weight`]: [d, 4 * d],
      [`${p}.mlp.c_fc.bias`]: [4 * d],
      [`${p}.mlp.c_proj.weight`]: [4 * d, d],
      [`${p}.mlp.c_proj.bias`]: [d],
    });
  }
  const header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> = {};
  let offset = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header).padEnd(Math.ceil(JSON.stringify(header).length / 8) * 8, ' '));
  const prefix = new Uint8Array(8 + json.length);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(json.length), true);
  prefix.set(json, 8);
  const size = prefix.length + offset;
  const fixture = new NodeDirSource(dir);
  let reads = 0;
  const bytesOf = (file: string, start: number, end: number): Uint8Array => {
    if (file === 'config.json') return new TextEncoder().encode(config).slice(start, end);
    const out = new Uint8Array(Math.max(0, Math.min(end, size) - start));
    if (end > prefix.length) reads++;
    out.set(prefix.subarray(start, Math.min(end, prefix.length)));
    return out;
  };
  const source: FileSource = {
    name: 'a 38M-parameter test model',
    preferredAccess: 'ranges',
    list: async () => ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'],
    size: async (file) => (file === 'model.safetensors' ? size : file === 'config.json' ? config.length : fixture.size(file)),
    read: async (file, range) => {
      if (file !== 'model.safetensors' && file !== 'config.json') return fixture.read(file, range);
      return bytesOf(file, range?.start ?? 0, range?.end ?? (file === 'config.json' ? config.length : size));
    },
    stream: async function* (file) {
      if (file !== 'model.safetensors' && file !== 'config.json') yield* fixture.stream(file);
      else yield bytesOf(file, 0, file === 'config.json' ? config.length : size);
    },
  };
  const parameters = Object.values(shapes).reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
  return { source, parameters, weightReads: () => reads };
}

for (const name of ['gpt2', 'gpt_neox', 'llama_gqa', 'qwen2', 'gemma3_text', 'gemma3_nested', 'gemma2', 'qwen3', 'olmo2', 'smollm3']) {
  describe(`CPU path: ${name} matches transformers`, () => {
    let model: CpuLoadedModel;
    let ref: FixtureReference;
    beforeAll(async () => {
      model = await loadModelCpu(new NodeDirSource(join(FIXTURES, name)));
      ref = await readFixtureReference(join(FIXTURES, name));
    });

    it('logits within 1e-4 and every layer/head attention within 1e-5', async () => {
      const ids = Array.from(ref.tensors.get('input_ids')!.data);
      expect(model.encode(ref.prompt)).toEqual(ids);
      const { logits, attention } = model.run(ids);
      const want = ref.tensors.get('logits')!;
      const logitErr = maxAbsDiff(logits, want.data);
      expect(logitErr, `logits max abs error ${logitErr}`).toBeLessThanOrEqual(1e-4);
      expect(attention.capturedLayers).toEqual(Array.from({ length: model.config.nLayers }, (_, l) => l));
      const attnErr = await maxAttentionDiff(attention, ref, model.config, ids.length);
      expect(attnErr, `attention max abs error ${attnErr}`).toBeLessThanOrEqual(1e-5);
      // 'last' gives the last row of the full logits.
      const V = model.config.vocabSize;
      const last = model.run(ids, { logits: 'last', capture: { layers: 'none' } });
      expect(maxAbsDiff(last.logits, logits.subarray((ids.length - 1) * V))).toBeLessThanOrEqual(1e-6);
      expect(last.attention.capturedLayers).toEqual([]);
      attention.release();
      await expect(attention.layer(0)).rejects.toThrow(/released/);
    });
  });
}

describe('CPU path: captures, stats and interventions (llama_gqa)', () => {
  let model: CpuLoadedModel;
  let ids: number[];
  let base0: Float32Array;
  let baseLogits: Float32Array;
  beforeAll(async () => {
    model = await loadModelCpu(new NodeDirSource(join(FIXTURES, 'llama_gqa')));
    ids = model.encode('The old keeper watched the boats come home.');
    const r = model.run(ids);
    base0 = await r.attention.layer(0);
    baseLogits = r.logits;
  });

  it('ZeroTuning γ = 2 on L0H1 gives A′[i,0] = γA/D_i, A′[i,j] = A/D_i there, and leaves other heads alone', async () => {
    const T = ids.length;
    const gamma = 2;
    const r = model.run(ids, { interventions: zeroTuning([{ layer: 0, head: 1 }], gamma), capture: { layers: [0], pre: true } });
    expect(r.attention.capturedLayers).toEqual([0]);
    expect(r.attention.has(1)).toBe(false);
    const a = await r.attention.layer(0);
    // The logit bias acts before the softmax: the pre-rewrite capture already has it.
    expect(maxAbsDiff(await r.attention.layer(0, { pre: true }), a)).toBe(0);
    for (let h = 0; h < model.config.nHeads; h++) {
      const off = h * T * T;
      if (h !== 1) {
        expect(maxAbsDiff(a.subarray(off, off + T * T), base0.subarray(off, off + T * T))).toBeLessThanOrEqual(1e-7);
        continue;
      }
      for (let i = 0; i < T; i++) {
        const A0 = base0[off + i * T]!;
        const D = 1 + (gamma - 1) * A0;
        expect(Math.abs(a[off + i * T]! - (gamma * A0) / D)).toBeLessThanOrEqual(1e-6);
        for (let j = 1; j <= i; j++) expect(Math.abs(a[off + i * T + j]! - base0[off + i * T + j]! / D)).toBeLessThanOrEqual(1e-6);
      }
    }
    expect(maxAbsDiff(r.logits, baseLogits)).toBeGreaterThan(1e-4);
  });

  it('head() and stats() read the captured layer', async () => {
    const T = ids.length;
    const r = model.run(ids, { capture: { layers: [1] } });
    const layer = await r.attention.layer(1);
    const h2 = await r.attention.head(1, 2);
    expect(Array.from(h2)).toEqual(Array.from(layer.subarray(2 * T * T, 3 * T * T)));
    const s = await r.attention.stats(1, 2);
    expect(s.entropy.length).toBe(T);
    expect(s.colMean.length).toBe(T);
    for (let i = 0; i < T; i++) {
      expect(s.firstMass[i]).toBe(h2[i * T]);
      let best = 0;
      for (let j = 0; j < T; j++) if (h2[i * T + j]! > h2[i * T + best]!) best = j;
      expect(s.argmax[i]).toBe(best);
    }
    await expect(r.attention.layer(0)).rejects.toThrow(/not captured/);
    await expect(r.attention.head(1, model.config.nHeads)).rejects.toThrow(RangeError);
    await expect(r.attention.layer(1, { pre: true })).rejects.toThrow(/pre-rewrite/);
  });
});

describe('CPU path: model size limit', () => {
  it('refuses a checkpoint over 30M parameters before reading any weight, with a fix that points to WebGPU', async () => {
    const { source, parameters, weightReads } = bigGpt2Source(join(FIXTURES, 'gpt2'));
    expect(parameters).toBeGreaterThan(CPU_MAX_PARAMETERS);
    const err = await loadModelCpu(source).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CpuModelTooLargeError);
    const e = err as CpuModelTooLargeError;
    expect(e.parameters).toBe(parameters);
    expect(e.maxParameters).toBe(30_000_000);
    expect(e.fix).toMatch(/browser with WebGPU/);
    expect(e.message).toContain('30.0M');
    expect(weightReads()).toBe(0);
  });

  it('takes a lower limit as an option', async () => {
    await expect(loadModelCpu(new NodeDirSource(join(FIXTURES, 'gpt2')), { maxParameters: 1000 })).rejects.toThrow(CpuModelTooLargeError);
  });
});
