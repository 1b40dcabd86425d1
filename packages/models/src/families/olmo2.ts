/**
 * OLMo 2: the Llama layout with the norms moved after the sublayers (x + norm(attn(x)), x + norm(mlp(x)),
 * no pre-norms) and an RMSNorm of the whole query and key projections (all heads together) before rotary.
 * HF's `post_attention_layernorm` is therefore the attention output's norm here, not the pre-MLP norm.
 */
import type { TensorTemplate } from './canonical.js';
import { LLAMA_TENSORS, llamaLikeSpec } from './llama.js';
import type { FamilySpec } from './types.js';

const L = 'model.layers.{l}.';

const OLMO2_TENSORS: TensorTemplate[] = [
  ...LLAMA_TENSORS.filter((t) => t.canonical !== 'blocks.{l}.ln1.w' && t.canonical !== 'blocks.{l}.ln2.w'),
  { canonical: 'blocks.{l}.ln1_post.w', source: `${L}post_attention_layernorm.weight`, sourceShape: ['d'] },
  { canonical: 'blocks.{l}.ln2_post.w', source: `${L}post_feedforward_layernorm.weight`, sourceShape: ['d'] },
  { canonical: 'blocks.{l}.attn.q_norm.w', source: `${L}self_attn.q_norm.weight`, sourceShape: ['q'] },
  { canonical: 'blocks.{l}.attn.k_norm.w', source: `${L}self_attn.k_norm.weight`, sourceShape: ['kv'] },
];

export const olmo2: FamilySpec = llamaLikeSpec({
  family: 'olmo2',
  modelTypes: ['olmo2'],
  defaults: { rmsNormEps: 1e-5, tied: false, addBos: false, bos: null, eos: null },
  biases: (r) => ({ qkv: r.attention_bias ?? false, out: r.attention_bias ?? false, mlp: false }),
  finish: (_r, c) => ({ ...c, sublayerNorms: 'post', qkNorm: 'projection' }),
  tensors: OLMO2_TENSORS,
});
