/**
 * Mistral: the Llama layout without biases. Its sliding window limits attention to the last
 * `sliding_window` keys; rather than masking beyond the window, the context is capped at the window, where
 * full causal attention is exactly what the model computes.
 */
import { llamaLikeSpec } from './llama.js';
import type { FamilySpec } from './types.js';

export const mistral: FamilySpec = llamaLikeSpec({
  family: 'mistral',
  modelTypes: ['mistral'],
  defaults: { rmsNormEps: 1e-6, tied: false, addBos: true, bos: 1, eos: 2 },
  biases: () => ({ qkv: false, out: false, mlp: false }),
  finish: (r, c) => (r.sliding_window ? { ...c, nCtx: Math.min(c.nCtx, r.sliding_window) } : c),
});
