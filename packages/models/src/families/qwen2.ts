/** Qwen2: the Llama layout with biases on q/k/v only (o_proj and the MLP have none); no BOS is prepended. */
import { UnsupportedConfigError } from '../errors.js';
import { llamaLikeSpec } from './llama.js';
import type { FamilySpec } from './types.js';

export const qwen2: FamilySpec = llamaLikeSpec({
  family: 'qwen2',
  modelTypes: ['qwen2'],
  defaults: { rmsNormEps: 1e-6, tied: false, addBos: false, bos: null, eos: null },
  biases: () => ({ qkv: true, out: false, mlp: false }),
  finish: (r, c) => {
    // Sliding-window layers (max_window_layers) change which keys a query sees; not implemented.
    if (r.use_sliding_window) throw new UnsupportedConfigError('use_sliding_window', 'true', 'false');
    return c;
  },
});
