/** config.json → ModelConfig for the Gemma 2/3, Qwen3, OLMo-2 and SmolLM3 checkpoints researchers use, and their typed refusals. */
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, UnsupportedConfigError } from '../../src/errors.js';
import { requiredCanonicalNames } from '../../src/families/canonical.js';
import { parseModelConfig, supportedModelTypes } from '../../src/families/registry.js';
import { GEMMA2_2B, GEMMA3_4B, GEMMA3_270M, OLMO2_1B, QWEN3_06B, SMOLLM3_3B } from '../helpers/configs.js';

const edit = (json: string, f: (c: Record<string, unknown>) => void): string => {
  const c = JSON.parse(json) as Record<string, unknown>;
  f(c);
  return JSON.stringify(c);
};

describe('the 2026 families parse from their released config.json', () => {
  it('lists the new model types as supported', () => {
    expect(supportedModelTypes()).toEqual(expect.arrayContaining(['gemma2', 'gemma3', 'gemma3_text', 'olmo2', 'qwen3', 'smollm3']));
  });

  it('Gemma-3-270M: 5 local layers (window 512, base 1e4) per global one (base 1e6), per-head q/k norm, (1 + w) norms', () => {
    const { spec, config: c } = parseModelConfig(GEMMA3_270M);
    expect(spec.family).toBe('gemma3');
    expect(c).toMatchObject({
      modelType: 'gemma3_text',
      nLayers: 18,
      nHeads: 4,
      nKvHeads: 1,
      dModel: 640,
      dHead: 256,
      dFF: 2048,
      vocabSize: 262144,
      nCtx: 32768,
      mlp: { gated: true, act: 'gelu_tanh' },
      tiedEmbeddings: true,
      normWeightOffset: 1,
      sublayerNorms: 'sandwich',
      qkNorm: 'head',
      attnScale: 1 / 16,
      rotary: { dim: 256, base: 1e6, scaling: { type: 'none' } },
      localRotary: { dim: 256, base: 1e4, scaling: { type: 'none' } },
    });
    expect(c.embedScale).toBe(Math.fround(Math.sqrt(640)));
    expect(c.attnSoftcap).toBeUndefined();
    expect(c.finalSoftcap).toBeUndefined();
    expect(c.layerAttention!.map((l) => (l.window ? `L${l.window}` : 'G'))).toEqual(Array.from({ length: 18 }, (_, i) => ((i + 1) % 6 ? 'L512' : 'G')));
    expect(c.layerAttention!.every((l) => l.rope === (l.window ? 'local' : 'global'))).toBe(true);
    const names = requiredCanonicalNames(c);
    expect(names).toEqual(expect.arrayContaining(['blocks.0.ln1_post.w', 'blocks.0.ln2_post.w', 'blocks.17.attn.q_norm.w', 'blocks.17.attn.k_norm.w']));
  });

  it('Gemma-3-4B (multimodal): the nested text_config with the class defaults filled in, linear scaling on global layers only', () => {
    const { spec, config: c } = parseModelConfig(GEMMA3_4B);
    expect(spec.family).toBe('gemma3');
    expect(c).toMatchObject({ modelType: 'gemma3', nLayers: 34, nHeads: 8, nKvHeads: 4, dModel: 2560, dHead: 256, vocabSize: 262208, eosTokenIds: [1, 106] });
    expect(c.rotary).toMatchObject({ base: 1e6, scaling: { type: 'linear', factor: 8 } });
    expect(c.localRotary).toMatchObject({ base: 1e4, scaling: { type: 'none' } });
    expect(c.layerAttention!.filter((l) => l.window === 1024)).toHaveLength(34 - 5);
  });

  it('transformers-5 Gemma 3 keys: rope_parameters per layer type', () => {
    const json = edit(GEMMA3_270M, (c) => {
      delete c['rope_theta'];
      delete c['rope_local_base_freq'];
      c['rope_parameters'] = { full_attention: { rope_type: 'default', rope_theta: 2e6 }, sliding_attention: { rope_type: 'default', rope_theta: 5e3 } };
    });
    const { config: c } = parseModelConfig(json);
    expect(c.rotary!.base).toBe(2e6);
    expect(c.localRotary!.base).toBe(5e3);
  });

  it('Gemma-2-2B: soft-caps 50 and 30, alternating window 4096 starting with a local layer, one rotary base', () => {
    const { spec, config: c } = parseModelConfig(GEMMA2_2B);
    expect(spec.family).toBe('gemma2');
    expect(c).toMatchObject({ nLayers: 26, nHeads: 8, nKvHeads: 4, dHead: 256, vocabSize: 256000, attnSoftcap: 50, finalSoftcap: 30, normWeightOffset: 1 });
    expect(c.qkNorm).toBeUndefined();
    expect(c.localRotary).toBeUndefined();
    expect(c.layerAttention!.slice(0, 4)).toEqual([
      { window: 4096, rope: 'global' },
      { window: null, rope: 'global' },
      { window: 4096, rope: 'global' },
      { window: null, rope: 'global' },
    ]);
  });

  it('Qwen3-0.6B: per-head q/k norm, head_dim 128 ≠ 1024/16, GQA 16/8, tied, no biases', () => {
    const { spec, config: c } = parseModelConfig(QWEN3_06B);
    expect(spec.family).toBe('qwen3');
    expect(c).toMatchObject({
      nLayers: 28,
      nHeads: 16,
      nKvHeads: 8,
      dModel: 1024,
      dHead: 128,
      qkNorm: 'head',
      qkvBias: false,
      tiedEmbeddings: true,
      addBos: false,
    });
    expect(c.sublayerNorms).toBeUndefined();
    expect(requiredCanonicalNames(c)).toContain('blocks.27.attn.k_norm.w');
  });

  it('OLMo-2-1B: post-norms only, q/k norm over the whole projection', () => {
    const { spec, config: c } = parseModelConfig(OLMO2_1B);
    expect(spec.family).toBe('olmo2');
    expect(c).toMatchObject({ nLayers: 16, nHeads: 16, dModel: 2048, sublayerNorms: 'post', qkNorm: 'projection', tiedEmbeddings: false });
    const names = requiredCanonicalNames(c);
    expect(names).not.toContain('blocks.0.ln1.w');
    expect(names).toEqual(expect.arrayContaining(['blocks.0.ln1_post.w', 'blocks.0.ln2_post.w', 'blocks.0.attn.q_norm.w']));
  });

  it('SmolLM3-3B: rotary off on every 4th layer (no_rope_layers), and the same from no_rope_layer_interval alone', () => {
    const { spec, config: c } = parseModelConfig(SMOLLM3_3B);
    expect(spec.family).toBe('smollm3');
    const nope = c.layerAttention!.flatMap((l, i) => (l.rope === 'none' ? [i] : []));
    expect(nope).toEqual([3, 7, 11, 15, 19, 23, 27, 31, 35]);
    const derived = parseModelConfig(edit(SMOLLM3_3B, (x) => delete x['no_rope_layers'])).config;
    expect(derived.layerAttention).toEqual(c.layerAttention);
  });
});

describe('unsupported features are typed errors naming the field', () => {
  const refuses = (json: string, field: string) => {
    let err: unknown;
    try {
      parseModelConfig(json);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedConfigError);
    expect((err as UnsupportedConfigError).option).toBe(field);
    expect((err as Error).message).toContain(field);
  };

  it('an unknown rope type (global or per layer type)', () => {
    refuses(
      edit(QWEN3_06B, (c) => (c['rope_scaling'] = { rope_type: 'yarn', factor: 4 })),
      'rope_scaling.rope_type',
    );
    refuses(
      edit(GEMMA3_270M, (c) => {
        c['rope_parameters'] = { full_attention: { rope_type: 'longrope', rope_theta: 1e6 }, sliding_attention: { rope_type: 'default', rope_theta: 1e4 } };
      }),
      'rope_parameters.full_attention.rope_type',
    );
    refuses(
      edit(GEMMA3_4B, (c) => ((c['text_config'] as Record<string, unknown>)['rope_scaling'] = { rope_type: 'dynamic', factor: 2 })),
      'rope_scaling.rope_type',
    );
  });

  it('a soft-cap on a family that has none', () => {
    refuses(
      edit(QWEN3_06B, (c) => (c['attn_logit_softcapping'] = 50)),
      'attn_logit_softcapping',
    );
    refuses(
      edit(OLMO2_1B, (c) => (c['final_logit_softcapping'] = 30)),
      'final_logit_softcapping',
    );
    refuses(
      edit(SMOLLM3_3B, (c) => (c['attn_logit_softcapping'] = 20)),
      'attn_logit_softcapping',
    );
  });

  it('an unknown layer type, bidirectional Gemma (EmbeddingGemma), sliding windows on Qwen3/SmolLM3', () => {
    refuses(
      edit(GEMMA3_270M, (c) => ((c['layer_types'] as string[])[3] = 'chunked_attention')),
      'layer_types[3]',
    );
    refuses(
      edit(GEMMA3_270M, (c) => (c['use_bidirectional_attention'] = true)),
      'use_bidirectional_attention',
    );
    refuses(
      edit(QWEN3_06B, (c) => (c['use_sliding_window'] = true)),
      'use_sliding_window',
    );
    refuses(
      edit(SMOLLM3_3B, (c) => (c['use_sliding_window'] = true)),
      'use_sliding_window',
    );
  });

  it('inconsistent per-layer lists are InvalidConfigError', () => {
    expect(() => parseModelConfig(edit(GEMMA3_270M, (c) => (c['layer_types'] as string[]).pop()))).toThrow(InvalidConfigError);
    expect(() => parseModelConfig(edit(SMOLLM3_3B, (c) => (c['no_rope_layers'] as number[]).pop()))).toThrow(/no_rope_layers/);
  });
});
