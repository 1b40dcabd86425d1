import { describe, expect, it } from 'vitest';
import { assembleWeights, gateActivation } from '../../src/engine/weights.js';
import { MissingTensorError, UnsupportedConfigError } from '../../src/errors.js';
import { parseModelConfig } from '../../src/families/index.js';

const llama = parseModelConfig({
  model_type: 'llama',
  hidden_size: 8,
  intermediate_size: 16,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  vocab_size: 10,
  max_position_embeddings: 16,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: true,
}).config;

const names = ['embed.W_E', 'blocks.0.ln1.w', 'blocks.0.attn.W_Q', 'blocks.0.attn.W_K', 'blocks.0.attn.W_V', 'blocks.0.attn.W_O', 'blocks.0.ln2.w'];
const mlp = ['blocks.0.mlp.W_in', 'blocks.0.mlp.W_gate', 'blocks.0.mlp.W_out', 'ln_final.w'];

describe('weight assembly', () => {
  it('arranges canonical tensors by role; a tied model reads W_E transposed', () => {
    const w = assembleWeights(llama, new Map([...names, ...mlp].map((n) => [n, n])));
    expect(w.embed).toBe('embed.W_E');
    expect(w.unembed).toEqual({ w: 'embed.W_E', transB: true });
    expect(w.layers[0]!.q).toEqual({ w: 'blocks.0.attn.W_Q', transB: false });
    expect(w.layers[0]!.mlpGate).toEqual({ w: 'blocks.0.mlp.W_gate', transB: false });
    expect(w.layers[0]!.ln1).toEqual({ w: 'blocks.0.ln1.w' });
    expect(w.pos).toBeUndefined();
  });

  it('a missing tensor is a typed error naming it', () => {
    expect(() => assembleWeights(llama, new Map(names.map((n) => [n, n])))).toThrow(MissingTensorError);
    expect(() => assembleWeights(llama, new Map(names.map((n) => [n, n])))).toThrow(/blocks\.0\.mlp\.W_in/);
  });

  it('a gated MLP with ReLU is refused rather than approximated', () => {
    expect(gateActivation('silu')).toBe('silu');
    expect(gateActivation('gelu_tanh')).toBe('gelu_tanh');
    expect(() => gateActivation('relu')).toThrow(UnsupportedConfigError);
  });
});
