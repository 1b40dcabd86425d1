import { describe, expect, it } from 'vitest';
import { InvalidConfigError, UnsupportedConfigError, UnsupportedModelTypeError } from '../../src/errors.js';
import { parseModelConfig, supportedModelTypes } from '../../src/families/registry.js';
import { GPT2_SMALL, LLAMA_32_1B, MISTRAL_7B, PYTHIA_70M, QWEN2_05B } from '../helpers/configs.js';

describe('config.json → ModelConfig', () => {
  it('GPT-2 small', () => {
    const { spec, config: c } = parseModelConfig(GPT2_SMALL);
    expect(spec.family).toBe('gpt2');
    expect(c).toMatchObject({
      nLayers: 12,
      nHeads: 12,
      nKvHeads: 12,
      dModel: 768,
      dHead: 64,
      dFF: 3072,
      vocabSize: 50257,
      nCtx: 1024,
      norm: 'layernorm',
      normEps: 1e-5,
      positional: 'learned',
      mlp: { gated: false, act: 'gelu_tanh' },
      parallelResidual: false,
      qkvBias: true,
      attnBias: true,
      mlpBias: true,
      normBias: true,
      tiedEmbeddings: true,
      bosTokenId: 50256,
      eosTokenIds: [50256],
      addBos: false,
    });
    expect(c.rotary).toBeUndefined();
  });

  it('Pythia-70m (GPT-NeoX)', () => {
    const { config: c } = parseModelConfig(PYTHIA_70M);
    expect(c).toMatchObject({
      family: 'gpt_neox',
      nLayers: 6,
      nHeads: 8,
      dModel: 512,
      dHead: 64,
      dFF: 2048,
      vocabSize: 50304,
      nCtx: 2048,
      positional: 'rotary',
      rotary: { dim: 16, base: 10000, style: 'half', scaling: { type: 'none' } },
      mlp: { gated: false, act: 'gelu_erf' },
      parallelResidual: true,
      qkvBias: true,
      attnBias: true,
      tiedEmbeddings: false,
      torchDtype: 'float16',
      addBos: false,
    });
  });

  it('Llama-3.2-1B with llama3 rope scaling, GQA and head_dim', () => {
    const { spec, config: c } = parseModelConfig(LLAMA_32_1B);
    expect(spec.family).toBe('llama');
    expect(c).toMatchObject({
      nLayers: 16,
      nHeads: 32,
      nKvHeads: 8,
      dModel: 2048,
      dHead: 64,
      dFF: 8192,
      vocabSize: 128256,
      nCtx: 131072,
      norm: 'rmsnorm',
      normEps: 1e-5,
      mlp: { gated: true, act: 'silu' },
      qkvBias: false,
      attnBias: false,
      mlpBias: false,
      normBias: false,
      tiedEmbeddings: true,
      bosTokenId: 128000,
      eosTokenIds: [128001],
      addBos: true,
      rotary: {
        dim: 64,
        base: 500000,
        style: 'half',
        scaling: { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 },
      },
    });
  });

  it('Qwen2-0.5B: q/k/v biases only, tied, no BOS', () => {
    const { config: c } = parseModelConfig(QWEN2_05B);
    expect(c).toMatchObject({
      family: 'qwen2',
      nLayers: 24,
      nHeads: 14,
      nKvHeads: 2,
      dModel: 896,
      dHead: 64,
      dFF: 4864,
      normEps: 1e-6,
      qkvBias: true,
      attnBias: false,
      mlpBias: false,
      tiedEmbeddings: true,
      addBos: false,
      rotary: { dim: 64, base: 1000000, scaling: { type: 'none' } },
    });
  });

  it('Mistral-7B: context capped at the sliding window', () => {
    const { config: c } = parseModelConfig(MISTRAL_7B);
    expect(c).toMatchObject({ family: 'mistral', modelType: 'mistral', nKvHeads: 8, dHead: 128, nCtx: 4096, addBos: true, tiedEmbeddings: false });
  });

  it('accepts transformers v5 rope_parameters and eos lists', () => {
    const raw = { ...JSON.parse(LLAMA_32_1B), eos_token_id: [128001, 128008, 128009] };
    delete raw.rope_scaling;
    delete raw.rope_theta;
    raw.rope_parameters = { rope_type: 'linear', factor: 2, rope_theta: 250000 };
    const { config: c } = parseModelConfig(raw);
    expect(c.rotary).toMatchObject({ base: 250000, scaling: { type: 'linear', factor: 2 } });
    expect(c.eosTokenIds).toEqual([128001, 128008, 128009]);
  });
});

describe('config errors', () => {
  it('an unsupported model_type lists the supported ones', () => {
    const e = (() => {
      try {
        parseModelConfig({ model_type: 'bert' });
      } catch (x) {
        return x;
      }
    })() as UnsupportedModelTypeError;
    expect(e).toBeInstanceOf(UnsupportedModelTypeError);
    expect(e.supported).toEqual(supportedModelTypes());
    for (const t of ['gpt2', 'gpt_neox', 'llama', 'qwen2', 'mistral']) expect(e.fix).toContain(t);
  });

  it('unsupported options are refused by name', () => {
    const yarn = { ...JSON.parse(LLAMA_32_1B), rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 4096 } };
    expect(() => parseModelConfig(yarn)).toThrow(UnsupportedConfigError);
    expect(() => parseModelConfig(yarn)).toThrow(/rope_scaling\.rope_type = "yarn".*default \(none\), linear, llama3/);
    expect(() => parseModelConfig({ ...JSON.parse(QWEN2_05B), use_sliding_window: true })).toThrow(UnsupportedConfigError);
    expect(() => parseModelConfig({ ...JSON.parse(GPT2_SMALL), scale_attn_by_inverse_layer_idx: true })).toThrow(UnsupportedConfigError);
    expect(() => parseModelConfig({ ...JSON.parse(PYTHIA_70M), hidden_act: 'mish' })).toThrow(/hidden_act/);
  });

  it('missing or inconsistent fields are InvalidConfigError naming the field', () => {
    const noHidden = JSON.parse(LLAMA_32_1B);
    delete noHidden.hidden_size;
    expect(() => parseModelConfig(noHidden)).toThrow(InvalidConfigError);
    expect(() => parseModelConfig(noHidden)).toThrow(/hidden_size/);
    expect(() => parseModelConfig({ ...JSON.parse(LLAMA_32_1B), num_key_value_heads: 5 })).toThrow(/multiple of num_key_value_heads/);
    expect(() => parseModelConfig({ ...JSON.parse(GPT2_SMALL), n_head: 7 })).toThrow(InvalidConfigError);
    expect(() => parseModelConfig('{"model_type": ')).toThrow(InvalidConfigError);
    expect(() => parseModelConfig({ hidden_size: 4 })).toThrow(/model_type/);
    const llama3NoFactor = { ...JSON.parse(LLAMA_32_1B), rope_scaling: { rope_type: 'llama3', factor: 8 } };
    expect(() => parseModelConfig(llama3NoFactor)).toThrow(/low_freq_factor/);
  });
});
