/** GPT-2: learned positions, LayerNorm with bias, fused Conv1D c_attn ([in, out], blocked q|k|v), gelu_new. */
import { z } from 'zod';
import { InvalidConfigError, UnsupportedConfigError } from '../errors.js';
import { expandTemplates, type TensorTemplate, withPrefixes } from './canonical.js';
import { allIds, checkConsistent, firstId, mapActivation, parseWith, posInt, positive, tokenIds } from './config-common.js';
import type { FamilySpec, ModelConfig, TensorTransform } from './types.js';

const schema = z.object({
  n_embd: posInt,
  n_head: posInt,
  n_layer: posInt,
  n_positions: posInt.optional(),
  n_ctx: posInt.optional(),
  n_inner: posInt.nullable().optional(),
  vocab_size: posInt,
  layer_norm_epsilon: positive.optional(),
  activation_function: z.string().optional(),
  tie_word_embeddings: z.boolean().optional(),
  scale_attn_weights: z.boolean().optional(),
  scale_attn_by_inverse_layer_idx: z.boolean().optional(),
  add_cross_attention: z.boolean().optional(),
  bos_token_id: tokenIds,
  eos_token_id: tokenIds,
  torch_dtype: z.string().nullable().optional(),
  dtype: z.string().nullable().optional(),
});

function parseConfig(raw: unknown): ModelConfig {
  const r = parseWith(schema, raw);
  // These change the attention scores themselves; the forward pass implements plain 1/sqrt(d_head) only.
  if (r.scale_attn_weights === false) throw new UnsupportedConfigError('scale_attn_weights', 'false', 'true');
  if (r.scale_attn_by_inverse_layer_idx) throw new UnsupportedConfigError('scale_attn_by_inverse_layer_idx', 'true', 'false');
  if (r.add_cross_attention) throw new UnsupportedConfigError('add_cross_attention', 'true', 'false');
  if (r.n_embd % r.n_head !== 0) throw new InvalidConfigError('config.json', [`n_embd (${r.n_embd}) is not divisible by n_head (${r.n_head})`]);
  const nCtx = r.n_positions ?? r.n_ctx;
  if (nCtx === undefined) throw new InvalidConfigError('config.json', ['n_positions: required']);
  return checkConsistent({
    family: 'gpt2',
    modelType: 'gpt2',
    nLayers: r.n_layer,
    nHeads: r.n_head,
    nKvHeads: r.n_head,
    dModel: r.n_embd,
    dHead: r.n_embd / r.n_head,
    dFF: r.n_inner ?? 4 * r.n_embd,
    vocabSize: r.vocab_size,
    nCtx,
    norm: 'layernorm',
    normEps: r.layer_norm_epsilon ?? 1e-5,
    positional: 'learned',
    mlp: { gated: false, act: mapActivation('activation_function', r.activation_function ?? 'gelu_new') },
    parallelResidual: false,
    qkvBias: true,
    attnBias: true,
    mlpBias: true,
    normBias: true,
    tiedEmbeddings: r.tie_word_embeddings ?? true,
    unembedBias: false,
    bosTokenId: firstId(r.bos_token_id ?? 50256),
    eosTokenIds: allIds(r.eos_token_id ?? 50256),
    addBos: false,
    torchDtype: r.torch_dtype ?? r.dtype ?? null,
  });
}

/** c_attn columns are [q all heads | k | v]: a blocked split along the output (last) axis. */
const qkv =
  (index: number, axis: 0 | 1): ((c: ModelConfig) => TensorTransform) =>
  (c) => ({ kind: 'split', axis, layout: 'blocked', sizes: [c.dModel, c.dModel, c.dModel], index, transpose: false });

// Weights saved from GPT2Model have bare names; from GPT2LMHeadModel they sit under "transformer.".
const p = (name: string) => withPrefixes(['transformer.', ''], name);

const TENSORS: TensorTemplate[] = [
  { canonical: 'embed.W_E', source: p('wte.weight'), sourceShape: ['vocab', 'd'] },
  { canonical: 'pos_embed.W_pos', source: p('wpe.weight'), sourceShape: ['ctx', 'd'] },
  { canonical: 'blocks.{l}.ln1.w', source: p('h.{l}.ln_1.weight'), sourceShape: ['d'] },
  { canonical: 'blocks.{l}.ln1.b', source: p('h.{l}.ln_1.bias'), sourceShape: ['d'] },
  { canonical: 'blocks.{l}.attn.W_Q', source: p('h.{l}.attn.c_attn.weight'), sourceShape: ['d', 'qkv'], transform: qkv(0, 1) },
  { canonical: 'blocks.{l}.attn.W_K', source: p('h.{l}.attn.c_attn.weight'), sourceShape: ['d', 'qkv'], transform: qkv(1, 1) },
  { canonical: 'blocks.{l}.attn.W_V', source: p('h.{l}.attn.c_attn.weight'), sourceShape: ['d', 'qkv'], transform: qkv(2, 1) },
  { canonical: 'blocks.{l}.attn.b_Q', source: p('h.{l}.attn.c_attn.bias'), sourceShape: ['qkv'], transform: qkv(0, 0) },
  { canonical: 'blocks.{l}.attn.b_K', source: p('h.{l}.attn.c_attn.bias'), sourceShape: ['qkv'], transform: qkv(1, 0) },
  { canonical: 'blocks.{l}.attn.b_V', source: p('h.{l}.attn.c_attn.bias'), sourceShape: ['qkv'], transform: qkv(2, 0) },
  // Conv1D already stores [in, out]: no transposes below.
  { canonical: 'blocks.{l}.attn.W_O', source: p('h.{l}.attn.c_proj.weight'), sourceShape: ['q', 'd'] },
  { canonical: 'blocks.{l}.attn.b_O', source: p('h.{l}.attn.c_proj.bias'), sourceShape: ['d'] },
  { canonical: 'blocks.{l}.ln2.w', source: p('h.{l}.ln_2.weight'), sourceShape: ['d'] },
  { canonical: 'blocks.{l}.ln2.b', source: p('h.{l}.ln_2.bias'), sourceShape: ['d'] },
  { canonical: 'blocks.{l}.mlp.W_in', source: p('h.{l}.mlp.c_fc.weight'), sourceShape: ['d', 'ff'] },
  { canonical: 'blocks.{l}.mlp.b_in', source: p('h.{l}.mlp.c_fc.bias'), sourceShape: ['ff'] },
  { canonical: 'blocks.{l}.mlp.W_out', source: p('h.{l}.mlp.c_proj.weight'), sourceShape: ['ff', 'd'] },
  { canonical: 'blocks.{l}.mlp.b_out', source: p('h.{l}.mlp.c_proj.bias'), sourceShape: ['d'] },
  { canonical: 'ln_final.w', source: p('ln_f.weight'), sourceShape: ['d'] },
  { canonical: 'ln_final.b', source: p('ln_f.bias'), sourceShape: ['d'] },
  { canonical: 'unembed.W_U', source: p('wte.weight'), sourceShape: ['vocab', 'd'], transform: { kind: 'transpose' }, when: (c) => c.tiedEmbeddings },
  { canonical: 'unembed.W_U', source: 'lm_head.weight', sourceShape: ['vocab', 'd'], transform: { kind: 'transpose' }, when: (c) => !c.tiedEmbeddings },
];

export const gpt2: FamilySpec = {
  family: 'gpt2',
  modelTypes: ['gpt2'],
  parseConfig,
  tensors: (c) => expandTemplates(TENSORS, c),
};
