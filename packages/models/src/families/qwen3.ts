/** Qwen3: the Llama layout with an RMSNorm of each query and key head (over d_head) before rotary, explicit head_dim, no biases. */
import { UnsupportedConfigError } from '../errors.js';
import type { TensorTemplate } from './canonical.js';
import { LLAMA_TENSORS, llamaLikeSpec } from './llama.js';
import type { FamilySpec } from './types.js';

const L = 'model.layers.{l}.';

/** Per-head q/k norm weights ([d_head]), named as Qwen3 and Gemma 3 name them. */
export const HEAD_QK_NORM_TENSORS: TensorTemplate[] = [
  { canonical: 'blocks.{l}.attn.q_norm.w', source: `${L}self_attn.q_norm.weight`, sourceShape: ['dh'] },
  { canonical: 'blocks.{l}.attn.k_norm.w', source: `${L}self_attn.k_norm.weight`, sourceShape: ['dh'] },
];

export const qwen3: FamilySpec = llamaLikeSpec({
  family: 'qwen3',
  modelTypes: ['qwen3'],
  defaults: { rmsNormEps: 1e-6, tied: false, addBos: false, bos: null, eos: null },
  biases: (r) => ({ qkv: r.attention_bias ?? false, out: r.attention_bias ?? false, mlp: false }),
  finish: (r, c) => {
    // Qwen3's optional sliding-window layers (max_window_layers) are off in every released checkpoint; not implemented.
    if (r.use_sliding_window) throw new UnsupportedConfigError('use_sliding_window', 'true', 'false');
    return { ...c, qkNorm: 'head' };
  },
  tensors: [...LLAMA_TENSORS, ...HEAD_QK_NORM_TENSORS],
});
