/**
 * Llama and its close relatives (Qwen2, Mistral share this layout): RMSNorm, rotary (rotate-half in the HF
 * layout), grouped-query attention, SwiGLU, optional head_dim override, tied or untied lm_head, rope
 * scaling none/linear/llama3. The relatives differ only in flags, set by their own small files.
 */
import { z } from 'zod';
import { UnsupportedConfigError } from '../errors.js';
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
import type { FamilyName, FamilySpec, ModelConfig, TensorTransform } from './types.js';

export const llamaLikeSchema = z.object({
  hidden_size: posInt,
  intermediate_size: posInt,
  num_hidden_layers: posInt,
  num_attention_heads: posInt,
  num_key_value_heads: posInt.nullable().optional(),
  head_dim: posInt.nullable().optional(),
  vocab_size: posInt,
  max_position_embeddings: posInt,
  rms_norm_eps: positive.optional(),
  rope_theta: positive.optional(),
  rope_scaling: ropeScalingSchema,
  rope_parameters: ropeScalingSchema,
  hidden_act: z.string().optional(),
  tie_word_embeddings: z.boolean().optional(),
  attention_bias: z.boolean().optional(),
  mlp_bias: z.boolean().optional(),
  sliding_window: z.number().int().positive().nullable().optional(),
  use_sliding_window: z.boolean().optional(),
  bos_token_id: tokenIds,
  eos_token_id: tokenIds,
  torch_dtype: z.string().nullable().optional(),
  dtype: z.string().nullable().optional(),
  // Read only to refuse them: these families have no soft-capping.
  attn_logit_softcapping: z.number().nullable().optional(),
  final_logit_softcapping: z.number().nullable().optional(),
});

export type LlamaLikeRaw = z.infer<typeof llamaLikeSchema>;

/** What differs between Llama, Qwen2 and Mistral: defaults and bias placement. */
export interface LlamaLikeFlavor {
  family: FamilyName;
  modelTypes: readonly string[];
  defaults: { rmsNormEps: number; tied: boolean; addBos: boolean; bos: number | null; eos: number | null };
  biases(r: LlamaLikeRaw): { qkv: boolean; out: boolean; mlp: boolean };
  /** Family-specific checks/changes after the common parse (sliding windows, q/k norms); `raw` is config.json as parsed. */
  finish?(r: LlamaLikeRaw, c: ModelConfig, raw: Record<string, unknown>): ModelConfig;
  /** The checkpoint layout, when it is not LLAMA_TENSORS. */
  tensors?: readonly TensorTemplate[];
}

export function parseLlamaLike(flavor: LlamaLikeFlavor, raw: unknown): ModelConfig {
  const r = parseWith(llamaLikeSchema, raw);
  for (const field of ['attn_logit_softcapping', 'final_logit_softcapping'] as const) {
    const v = r[field];
    if (v !== null && v !== undefined) throw new UnsupportedConfigError(field, String(v), `null (${flavor.family} has no soft-capping)`);
  }
  const dHead = headDim(r.hidden_size, r.num_attention_heads, r.head_dim);
  const b = flavor.biases(r);
  const act = mapActivation('hidden_act', r.hidden_act ?? 'silu');
  const c: ModelConfig = {
    family: flavor.family,
    modelType: flavor.modelTypes[0]!,
    nLayers: r.num_hidden_layers,
    nHeads: r.num_attention_heads,
    nKvHeads: r.num_key_value_heads ?? r.num_attention_heads,
    dModel: r.hidden_size,
    dHead,
    dFF: r.intermediate_size,
    vocabSize: r.vocab_size,
    nCtx: r.max_position_embeddings,
    norm: 'rmsnorm',
    normEps: r.rms_norm_eps ?? flavor.defaults.rmsNormEps,
    positional: 'rotary',
    rotary: {
      dim: Math.floor(dHead * (r.rope_parameters?.partial_rotary_factor ?? 1)),
      base: r.rope_parameters?.rope_theta ?? r.rope_theta ?? 10000,
      style: 'half',
      scaling: parseRopeScaling(r.rope_parameters ?? r.rope_scaling, r.rope_parameters ? 'rope_parameters' : 'rope_scaling'),
    },
    mlp: { gated: true, act },
    parallelResidual: false,
    qkvBias: b.qkv,
    attnBias: b.out,
    mlpBias: b.mlp,
    normBias: false,
    tiedEmbeddings: r.tie_word_embeddings ?? flavor.defaults.tied,
    unembedBias: false,
    bosTokenId: r.bos_token_id === undefined ? flavor.defaults.bos : firstId(r.bos_token_id),
    eosTokenIds: r.eos_token_id === undefined ? allIds(flavor.defaults.eos) : allIds(r.eos_token_id),
    addBos: flavor.defaults.addBos,
    torchDtype: r.torch_dtype ?? r.dtype ?? null,
  };
  return checkConsistent(flavor.finish ? flavor.finish(r, c, raw as Record<string, unknown>) : c);
}

const L = 'model.layers.{l}.';
const T: TensorTransform = { kind: 'transpose' };

/** HF Linear weights are [out, in]: every projection is transposed to [in, out]. */
export const LLAMA_TENSORS: TensorTemplate[] = [
  { canonical: 'embed.W_E', source: 'model.embed_tokens.weight', sourceShape: ['vocab', 'd'] },
  { canonical: 'blocks.{l}.ln1.w', source: `${L}input_layernorm.weight`, sourceShape: ['d'] },
  { canonical: 'blocks.{l}.attn.W_Q', source: `${L}self_attn.q_proj.weight`, sourceShape: ['q', 'd'], transform: T },
  { canonical: 'blocks.{l}.attn.W_K', source: `${L}self_attn.k_proj.weight`, sourceShape: ['kv', 'd'], transform: T },
  { canonical: 'blocks.{l}.attn.W_V', source: `${L}self_attn.v_proj.weight`, sourceShape: ['kv', 'd'], transform: T },
  { canonical: 'blocks.{l}.attn.b_Q', source: `${L}self_attn.q_proj.bias`, sourceShape: ['q'], when: (c) => c.qkvBias },
  { canonical: 'blocks.{l}.attn.b_K', source: `${L}self_attn.k_proj.bias`, sourceShape: ['kv'], when: (c) => c.qkvBias },
  { canonical: 'blocks.{l}.attn.b_V', source: `${L}self_attn.v_proj.bias`, sourceShape: ['kv'], when: (c) => c.qkvBias },
  { canonical: 'blocks.{l}.attn.W_O', source: `${L}self_attn.o_proj.weight`, sourceShape: ['d', 'q'], transform: T },
  { canonical: 'blocks.{l}.attn.b_O', source: `${L}self_attn.o_proj.bias`, sourceShape: ['d'], when: (c) => c.attnBias },
  { canonical: 'blocks.{l}.ln2.w', source: `${L}post_attention_layernorm.weight`, sourceShape: ['d'] },
  { canonical: 'blocks.{l}.mlp.W_gate', source: `${L}mlp.gate_proj.weight`, sourceShape: ['ff', 'd'], transform: T },
  { canonical: 'blocks.{l}.mlp.W_in', source: `${L}mlp.up_proj.weight`, sourceShape: ['ff', 'd'], transform: T },
  { canonical: 'blocks.{l}.mlp.W_out', source: `${L}mlp.down_proj.weight`, sourceShape: ['d', 'ff'], transform: T },
  { canonical: 'blocks.{l}.mlp.b_gate', source: `${L}mlp.gate_proj.bias`, sourceShape: ['ff'], when: (c) => c.mlpBias },
  { canonical: 'blocks.{l}.mlp.b_in', source: `${L}mlp.up_proj.bias`, sourceShape: ['ff'], when: (c) => c.mlpBias },
  { canonical: 'blocks.{l}.mlp.b_out', source: `${L}mlp.down_proj.bias`, sourceShape: ['d'], when: (c) => c.mlpBias },
  { canonical: 'ln_final.w', source: 'model.norm.weight', sourceShape: ['d'] },
  { canonical: 'unembed.W_U', source: 'lm_head.weight', sourceShape: ['vocab', 'd'], transform: T, when: (c) => !c.tiedEmbeddings },
  { canonical: 'unembed.W_U', source: 'model.embed_tokens.weight', sourceShape: ['vocab', 'd'], transform: T, when: (c) => c.tiedEmbeddings },
];

export function llamaLikeSpec(flavor: LlamaLikeFlavor): FamilySpec {
  return {
    family: flavor.family,
    modelTypes: flavor.modelTypes,
    parseConfig: (raw) => parseLlamaLike(flavor, raw),
    tensors: (c) => expandTemplates(flavor.tensors ?? LLAMA_TENSORS, c),
  };
}

export const llama: FamilySpec = llamaLikeSpec({
  family: 'llama',
  modelTypes: ['llama'],
  // LlamaConfig's own defaults; Llama tokenizers prepend <s> / <|begin_of_text|>.
  defaults: { rmsNormEps: 1e-6, tied: false, addBos: true, bos: 1, eos: 2 },
  biases: (r) => ({ qkv: r.attention_bias ?? false, out: r.attention_bias ?? false, mlp: r.mlp_bias ?? false }),
});
