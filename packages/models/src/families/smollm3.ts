/**
 * SmolLM3: the Llama layout with rotary switched off on some layers (NoPE). `no_rope_layers[l]` is 1 where
 * layer l uses rotary and 0 where it does not; without the list, every `no_rope_layer_interval`-th layer
 * (default 4: layers 3, 7, …) has none, as transformers derives it.
 */
import { z } from 'zod';
import { InvalidConfigError, UnsupportedConfigError } from '../errors.js';
import { parseWith, posInt } from './config-common.js';
import { llamaLikeSpec } from './llama.js';
import type { FamilySpec, LayerAttention } from './types.js';

const nopeSchema = z.object({
  no_rope_layers: z.array(z.number().int().min(0).max(1)).nullable().optional(),
  no_rope_layer_interval: posInt.optional(),
});

export const smollm3: FamilySpec = llamaLikeSpec({
  family: 'smollm3',
  modelTypes: ['smollm3'],
  defaults: { rmsNormEps: 1e-6, tied: true, addBos: false, bos: null, eos: null },
  biases: (r) => ({ qkv: r.attention_bias ?? false, out: r.attention_bias ?? false, mlp: r.mlp_bias ?? false }),
  finish: (r, c, raw) => {
    if (r.use_sliding_window) throw new UnsupportedConfigError('use_sliding_window', 'true', 'false');
    const n = parseWith(nopeSchema, raw);
    const interval = n.no_rope_layer_interval ?? 4;
    const uses = n.no_rope_layers ?? Array.from({ length: c.nLayers }, (_, l) => ((l + 1) % interval !== 0 ? 1 : 0));
    if (uses.length !== c.nLayers) {
      throw new InvalidConfigError('config.json', [`no_rope_layers: has ${uses.length} entries for ${c.nLayers} layers`]);
    }
    const layerAttention: LayerAttention[] = uses.map((u) => ({ window: null, rope: u ? 'global' : 'none' }));
    return { ...c, layerAttention };
  },
});
