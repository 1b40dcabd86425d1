/**
 * GPT-NeoX (Pythia): parallel residual, partial rotary (rotate-half on the first rotary_pct of each head),
 * LayerNorm with bias, exact-erf gelu, untied embed_out. The fused query_key_value Linear has rows grouped
 * per head — head h's q, k, v rows are [h·3·d_head + {0, 1, 2}·d_head, +d_head) — see transform.ts.
 */
import { z } from 'zod';
import { expandTemplates, type TensorTemplate } from './canonical.js';
import {
  allIds,
  checkConsistent,
  firstId,
  headDim,
  mapActivation,
  parseRopeScaling,
  parseWith,
  posInt,
  positive,
  ropeScalingSchema,
  tokenIds,
} from './config-common.js';
import type { FamilySpec, ModelConfig, TensorTransform } from './types.js';

const schema = z.object({
  hidden_size: posInt,
  num_attention_heads: posInt,
  num_hidden_layers: posInt,
  intermediate_size: posInt,
  vocab_size: posInt,
  max_position_embeddings: posInt,
  layer_norm_eps: positive.optional(),
  hidden_act: z.string().optional(),
  rotary_pct: z.number().gt(0).lte(1).optional(),
  partial_rotary_factor: z.number().gt(0).lte(1).optional(),
  rotary_emb_base: positive.optional(),
  rope_theta: positive.optional(),
  rope_scaling: ropeScalingSchema,
  rope_parameters: ropeScalingSchema,
  use_parallel_residual: z.boolean().optional(),
  tie_word_embeddings: z.boolean().optional(),
  attention_bias: z.boolean().optional(),
  bos_token_id: tokenIds,
  eos_token_id: tokenIds,
  torch_dtype: z.string().nullable().optional(),
  dtype: z.string().nullable().optional(),
});

function parseConfig(raw: unknown): ModelConfig {
  const r = parseWith(schema, raw);
  const dHead = headDim(r.hidden_size, r.num_attention_heads, undefined);
  const pct = r.rotary_pct ?? r.partial_rotary_factor ?? r.rope_parameters?.partial_rotary_factor ?? 0.25;
  const bias = r.attention_bias ?? true;
  return checkConsistent({
    family: 'gpt_neox',
    modelType: 'gpt_neox',
    nLayers: r.num_hidden_layers,
    nHeads: r.num_attention_heads,
    nKvHeads: r.num_attention_heads,
    dModel: r.hidden_size,
    dHead,
    dFF: r.intermediate_size,
    vocabSize: r.vocab_size,
    nCtx: r.max_position_embeddings,
    norm: 'layernorm',
    normEps: r.layer_norm_eps ?? 1e-5,
    positional: 'rotary',
    rotary: {
      // HF truncates: int(head_dim * rotary_pct).
      dim: Math.floor(dHead * pct),
      base: r.rope_parameters?.rope_theta ?? r.rotary_emb_base ?? r.rope_theta ?? 10000,
      style: 'half',
      scaling: parseRopeScaling(r.rope_parameters ?? r.rope_scaling, r.rope_parameters ? 'rope_parameters' : 'rope_scaling'),
    },
    mlp: { gated: false, act: mapActivation('hidden_act', r.hidden_act ?? 'gelu') },
    parallelResidual: r.use_parallel_residual ?? true,
    // One flag for both projections in HF's GPTNeoXAttention.
    qkvBias: bias,
    attnBias: bias,
    mlpBias: true,
    normBias: true,
    tiedEmbeddings: r.tie_word_embeddings ?? false,
    unembedBias: false,
    bosTokenId: firstId(r.bos_token_id ?? 0),
    eosTokenIds: allIds(r.eos_token_id ?? 0),
    addBos: false,
    torchDtype: r.torch_dtype ?? r.dtype ?? null,
  });
}

/** Part `index` (0 q, 1 k, 2 v) of the per-head-interleaved fused rows; weights are then transposed to [in, out]. */
const qkv =
  (index: number, transpose: boolean): ((c: ModelConfig) => TensorTransform) =>
  (c) => ({ kind: 'split', axis: 0, layout: 'per-head', nHeads: c.nHeads, headDim: c.dHead, parts: 3, index, transpose });

const L = 'gpt_neox.layers.{l}.';
const T: TensorTransform = { kind: 'transpose' };
const hasBias = (c: ModelConfig) => c.qkvBias;

const TENSORS: TensorTemplate[] = [
  { canonical: 'embed.W_E', source: 'gpt_neox.embed_in.weight', sourceShape: ['vocab', 'd'] },
  { canonical: 'blocks.{l}.ln1.w', source: `${L}input_layernorm.weight`, sourceShape: ['d'] },
  { canonical: 'blocks.{l}.ln1.b', source: `${L}input_layernorm.bias`, sourceShape: ['d'] },
  { canonical: 'blocks.{l}.attn.W_Q', source: `${L}attention.query_key_value.weight`, sourceShape: ['qkv', 'd'], transform: qkv(0, true) },
  { canonical: 'blocks.{l}.attn.W_K', source: `${L}attention.query_key_value.weight`, sourceShape: ['qkv', 'd'], transform: qkv(1, true) },
  { canonical: 'blocks.{l}.attn.W_V', source: `${L}attention.query_key_value.weight`, sourceShape: ['qkv', 'd'], transform: qkv(2, true) },
  { canonical: 'blocks.{l}.attn.b_Q', source: `${L}attention.query_key_value.bias`, sourceShape: ['qkv'], transform: qkv(0, false), when: hasBias },
  { canonical: 'blocks.{l}.attn.b_K', source: `${L}attention.query_key_value.bias`, sourceShape: ['qkv'], transform: qkv(1, false), when: hasBias },
  { canonical: 'blocks.{l}.attn.b_V', source: `${L}attention.query_key_value.bias`, sourceShape: ['qkv'], transform: qkv(2, false), when: hasBias },
  { canonical: 'blocks.{l}.attn.W_O', source: `${L}attention.dense.weight`, sourceShape: ['d', 'q'], transform: T },
  { canonical: 'blocks.{l}.attn.b_O', source: `${L}attention.dense.bias`, sourceShape: ['d'], when: hasBias },
  { canonical: 'blocks.{l}.ln2.w', source: `${L}post_attention_layernorm.weight`, sourceShape: ['d'] },
  { canonical: 'blocks.{l}.ln2.b', source: `${L}post_attention_layernorm.bias`, sourceShape: ['d'] },
  { canonical: 'blocks.{l}.mlp.W_in', source: `${L}mlp.dense_h_to_4h.weight`, sourceShape: ['ff', 'd'], transform: T },
  { canonical: 'blocks.{l}.mlp.b_in', source: `${L}mlp.dense_h_to_4h.bias`, sourceShape: ['ff'] },
  { canonical: 'blocks.{l}.mlp.W_out', source: `${L}mlp.dense_4h_to_h.weight`, sourceShape: ['d', 'ff'], transform: T },
  { canonical: 'blocks.{l}.mlp.b_out', source: `${L}mlp.dense_4h_to_h.bias`, sourceShape: ['d'] },
  { canonical: 'ln_final.w', source: 'gpt_neox.final_layer_norm.weight', sourceShape: ['d'] },
  { canonical: 'ln_final.b', source: 'gpt_neox.final_layer_norm.bias', sourceShape: ['d'] },
  { canonical: 'unembed.W_U', source: 'embed_out.weight', sourceShape: ['vocab', 'd'], transform: T, when: (c) => !c.tiedEmbeddings },
  { canonical: 'unembed.W_U', source: 'gpt_neox.embed_in.weight', sourceShape: ['vocab', 'd'], transform: T, when: (c) => c.tiedEmbeddings },
];

export const gptNeox: FamilySpec = {
  family: 'gpt_neox',
  modelTypes: ['gpt_neox'],
  parseConfig,
  tensors: (c) => expandTemplates(TENSORS, c),
};
