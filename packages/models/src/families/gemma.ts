/**
 * Gemma 2 and Gemma 3 (text; `gemma3` multimodal checkpoints are read through their nested text_config).
 * RMSNorm weights stored as w − 1, embeddings scaled by √d_model, a norm before and after each sublayer,
 * scores scaled by query_pre_attn_scalar^−½, GELU-tanh gated MLP, tied embeddings, local sliding-window
 * layers interleaved with global ones. Gemma 2 soft-caps attention scores and final logits; Gemma 3
 * normalises each query and key head and gives its local layers their own rotary base.
 */
import { z } from 'zod';
import { InvalidConfigError, UnsupportedConfigError } from '../errors.js';
import { expandTemplates, type TensorTemplate, withPrefixes } from './canonical.js';
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
  type RawRopeScaling,
  ropeObjectSchema,
  ropeScalingSchema,
  tokenIds,
} from './config-common.js';
import type { FamilyName, FamilySpec, LayerAttention, ModelConfig, RotaryConfig, TensorTransform } from './types.js';

const LAYER_TYPES = ['sliding_attention', 'full_attention'] as const;

/** Both keys required, so a flat rope_parameters object never parses as this (and loses its fields). */
const perLayerTypeRope = z.object({ sliding_attention: ropeObjectSchema, full_attention: ropeObjectSchema });

const schema = z.object({
  hidden_size: posInt,
  intermediate_size: posInt,
  num_hidden_layers: posInt,
  num_attention_heads: posInt,
  num_key_value_heads: posInt.nullable().optional(),
  head_dim: posInt.nullable().optional(),
  vocab_size: posInt,
  max_position_embeddings: posInt.optional(),
  rms_norm_eps: positive.optional(),
  rope_theta: positive.optional(),
  rope_local_base_freq: positive.optional(),
  rope_scaling: ropeScalingSchema,
  // transformers 5: one set (Gemma 2) or one per layer type (Gemma 3).
  rope_parameters: z.union([perLayerTypeRope, ropeScalingSchema]),
  hidden_activation: z.string().nullable().optional(),
  hidden_act: z.string().nullable().optional(),
  query_pre_attn_scalar: positive.nullable().optional(),
  sliding_window: posInt.nullable().optional(),
  sliding_window_pattern: posInt.optional(),
  _sliding_window_pattern: posInt.optional(),
  layer_types: z.array(z.string()).nullable().optional(),
  attn_logit_softcapping: positive.nullable().optional(),
  final_logit_softcapping: positive.nullable().optional(),
  attention_bias: z.boolean().optional(),
  use_bidirectional_attention: z.boolean().nullable().optional(),
  tie_word_embeddings: z.boolean().optional(),
  bos_token_id: tokenIds,
  eos_token_id: tokenIds,
  torch_dtype: z.string().nullable().optional(),
  dtype: z.string().nullable().optional(),
});

type Raw = z.infer<typeof schema>;

interface GemmaFlavor {
  family: FamilyName;
  /** The layer pattern without layer_types: Gemma 2 alternates (layer 0 local); Gemma 3 has one global layer in `pattern`. */
  defaultPattern: number;
  /** Config defaults that differ between the two. */
  defaults: { attnSoftcap: number | null; finalSoftcap: number | null; ropeTheta: number; localRopeTheta: number | null; nCtx: number };
  qkNorm: boolean;
  /**
   * transformers' config-class defaults for the sizes. Nested text_configs of multimodal checkpoints are
   * saved as a diff against them (gemma-3-4b's lists neither vocab_size nor num_attention_heads).
   */
  classDefaults: Record<string, number>;
}

const SIZE_DEFAULTS = { hidden_size: 2304, intermediate_size: 9216, num_hidden_layers: 26, num_attention_heads: 8, num_key_value_heads: 4, head_dim: 256 };

const GEMMA2: GemmaFlavor = {
  family: 'gemma2',
  defaultPattern: 2,
  defaults: { attnSoftcap: 50, finalSoftcap: 30, ropeTheta: 10000, localRopeTheta: null, nCtx: 8192 },
  qkNorm: false,
  classDefaults: { ...SIZE_DEFAULTS, vocab_size: 256_000, sliding_window: 4096 },
};

const GEMMA3: GemmaFlavor = {
  family: 'gemma3',
  defaultPattern: 6,
  defaults: { attnSoftcap: null, finalSoftcap: null, ropeTheta: 1_000_000, localRopeTheta: 10_000, nCtx: 131_072 },
  qkNorm: true,
  classDefaults: { ...SIZE_DEFAULTS, vocab_size: 262_208, sliding_window: 4096 },
};

function layerTypes(r: Raw, flavor: GemmaFlavor): (typeof LAYER_TYPES)[number][] {
  if (r.layer_types) {
    if (r.layer_types.length !== r.num_hidden_layers) {
      throw new InvalidConfigError('config.json', [`layer_types: has ${r.layer_types.length} entries for ${r.num_hidden_layers} layers`]);
    }
    return r.layer_types.map((t, i) => {
      if (!(LAYER_TYPES as readonly string[]).includes(t)) throw new UnsupportedConfigError(`layer_types[${i}]`, JSON.stringify(t), LAYER_TYPES.join(', '));
      return t as (typeof LAYER_TYPES)[number];
    });
  }
  const pattern = r.sliding_window_pattern ?? r._sliding_window_pattern ?? flavor.defaultPattern;
  return Array.from({ length: r.num_hidden_layers }, (_, i) => ((i + 1) % pattern !== 0 ? 'sliding_attention' : 'full_attention'));
}

/** The global and local rotary settings, from transformers-5 rope_parameters or the older flat keys. */
function rotaries(r: Raw, flavor: GemmaFlavor, dHead: number): { global: RotaryConfig; local: RotaryConfig | null } {
  const rotary = (p: RawRopeScaling, theta: number, field: string): RotaryConfig => ({
    dim: Math.floor(dHead * (p?.partial_rotary_factor ?? 1)),
    base: p?.rope_theta ?? theta,
    style: 'half',
    scaling: parseRopeScaling(p, field),
  });
  const rp = r.rope_parameters;
  if (rp && 'full_attention' in rp) {
    const local = rotary(
      rp.sliding_attention,
      r.rope_local_base_freq ?? flavor.defaults.localRopeTheta ?? flavor.defaults.ropeTheta,
      'rope_parameters.sliding_attention',
    );
    return { global: rotary(rp.full_attention, r.rope_theta ?? flavor.defaults.ropeTheta, 'rope_parameters.full_attention'), local };
  }
  const flat = (rp ?? r.rope_scaling ?? null) as RawRopeScaling;
  const field = rp ? 'rope_parameters' : 'rope_scaling';
  const global = rotary(flat, r.rope_theta ?? flavor.defaults.ropeTheta, field);
  const localBase = r.rope_local_base_freq ?? flavor.defaults.localRopeTheta;
  // Gemma 3's rope_scaling (gemma-3-4b: linear, factor 8) applies to the global layers only.
  return { global, local: localBase === null ? null : { dim: global.dim, base: localBase, style: 'half', scaling: { type: 'none' } } };
}

function parseGemma(flavor: GemmaFlavor, raw: unknown, modelType: string): ModelConfig {
  const given = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const r = parseWith(schema, { ...flavor.classDefaults, ...given });
  if (r.use_bidirectional_attention) throw new UnsupportedConfigError('use_bidirectional_attention', 'true', 'false (causal decoders only)');
  const dHead = headDim(r.hidden_size, r.num_attention_heads, r.head_dim ?? 256);
  const act = mapActivation(r.hidden_activation ? 'hidden_activation' : 'hidden_act', r.hidden_activation ?? r.hidden_act ?? 'gelu_pytorch_tanh');
  const types = layerTypes(r, flavor);
  const window = r.sliding_window ?? null;
  if (types.includes('sliding_attention') && window === null)
    throw new InvalidConfigError('config.json', ['sliding_window: required when layers use sliding_attention']);
  const rope = rotaries(r, flavor, dHead);
  const layerAttention: LayerAttention[] = types.map((t) =>
    t === 'sliding_attention' ? { window, rope: rope.local ? 'local' : 'global' } : { window: null, rope: 'global' },
  );
  const attnSoftcap = r.attn_logit_softcapping === undefined ? flavor.defaults.attnSoftcap : r.attn_logit_softcapping;
  const finalSoftcap = r.final_logit_softcapping === undefined ? flavor.defaults.finalSoftcap : r.final_logit_softcapping;
  const bias = r.attention_bias ?? false;
  const c: ModelConfig = {
    family: flavor.family,
    modelType,
    nLayers: r.num_hidden_layers,
    nHeads: r.num_attention_heads,
    nKvHeads: r.num_key_value_heads ?? r.num_attention_heads,
    dModel: r.hidden_size,
    dHead,
    dFF: r.intermediate_size,
    vocabSize: r.vocab_size,
    nCtx: r.max_position_embeddings ?? flavor.defaults.nCtx,
    norm: 'rmsnorm',
    normEps: r.rms_norm_eps ?? 1e-6,
    positional: 'rotary',
    rotary: rope.global,
    mlp: { gated: true, act },
    parallelResidual: false,
    qkvBias: bias,
    attnBias: bias,
    mlpBias: false,
    normBias: false,
    tiedEmbeddings: r.tie_word_embeddings ?? true,
    unembedBias: false,
    bosTokenId: r.bos_token_id === undefined ? 2 : firstId(r.bos_token_id),
    eosTokenIds: r.eos_token_id === undefined ? [1] : allIds(r.eos_token_id),
    addBos: true,
    torchDtype: r.torch_dtype ?? r.dtype ?? null,
    normWeightOffset: 1,
    // transformers multiplies by the float32 value of √hidden_size.
    embedScale: Math.fround(Math.sqrt(r.hidden_size)),
    sublayerNorms: 'sandwich',
    attnScale: (r.query_pre_attn_scalar ?? 256) ** -0.5,
    layerAttention,
    ...(flavor.qkNorm ? { qkNorm: 'head' as const } : {}),
    ...(attnSoftcap !== null ? { attnSoftcap } : {}),
    ...(finalSoftcap !== null ? { finalSoftcap } : {}),
    ...(rope.local ? { localRotary: rope.local } : {}),
  };
  return checkConsistent(c);
}

/** A `gemma3` (multimodal) config: the decoder is its text_config; the vision tower is not loaded. */
const nestedSchema = z.object({ text_config: z.record(z.string(), z.unknown()) });

function parseGemma3Nested(raw: unknown): ModelConfig {
  const top = raw as Record<string, unknown>;
  const { text_config } = parseWith(nestedSchema, raw);
  // Token ids and dtype may sit at the top level only.
  const merged: Record<string, unknown> = { ...text_config };
  for (const k of ['bos_token_id', 'eos_token_id', 'tie_word_embeddings', 'torch_dtype', 'dtype'])
    if (merged[k] === undefined && top[k] !== undefined) merged[k] = top[k];
  return parseGemma(GEMMA3, merged, 'gemma3');
}

const T: TensorTransform = { kind: 'transpose' };
/** Text-only checkpoints ("model."), transformers-5 multimodal ones ("model.language_model."), and 4.x multimodal ones ("language_model.model."). */
const PREFIXES = ['model.', 'model.language_model.', 'language_model.model.'];
const P = (name: string) => withPrefixes(PREFIXES, name);
const L = 'layers.{l}.';

const GEMMA_TENSORS: TensorTemplate[] = [
  { canonical: 'embed.W_E', source: P('embed_tokens.weight'), sourceShape: ['vocab', 'd'] },
  { canonical: 'blocks.{l}.ln1.w', source: P(`${L}input_layernorm.weight`), sourceShape: ['d'] },
  { canonical: 'blocks.{l}.ln1_post.w', source: P(`${L}post_attention_layernorm.weight`), sourceShape: ['d'] },
  { canonical: 'blocks.{l}.ln2.w', source: P(`${L}pre_feedforward_layernorm.weight`), sourceShape: ['d'] },
  { canonical: 'blocks.{l}.ln2_post.w', source: P(`${L}post_feedforward_layernorm.weight`), sourceShape: ['d'] },
  { canonical: 'blocks.{l}.attn.W_Q', source: P(`${L}self_attn.q_proj.weight`), sourceShape: ['q', 'd'], transform: T },
  { canonical: 'blocks.{l}.attn.W_K', source: P(`${L}self_attn.k_proj.weight`), sourceShape: ['kv', 'd'], transform: T },
  { canonical: 'blocks.{l}.attn.W_V', source: P(`${L}self_attn.v_proj.weight`), sourceShape: ['kv', 'd'], transform: T },
  { canonical: 'blocks.{l}.attn.b_Q', source: P(`${L}self_attn.q_proj.bias`), sourceShape: ['q'], when: (c) => c.qkvBias },
  { canonical: 'blocks.{l}.attn.b_K', source: P(`${L}self_attn.k_proj.bias`), sourceShape: ['kv'], when: (c) => c.qkvBias },
  { canonical: 'blocks.{l}.attn.b_V', source: P(`${L}self_attn.v_proj.bias`), sourceShape: ['kv'], when: (c) => c.qkvBias },
  { canonical: 'blocks.{l}.attn.W_O', source: P(`${L}self_attn.o_proj.weight`), sourceShape: ['d', 'q'], transform: T },
  { canonical: 'blocks.{l}.attn.b_O', source: P(`${L}self_attn.o_proj.bias`), sourceShape: ['d'], when: (c) => c.attnBias },
  { canonical: 'blocks.{l}.attn.q_norm.w', source: P(`${L}self_attn.q_norm.weight`), sourceShape: ['dh'], when: (c) => c.qkNorm === 'head' },
  { canonical: 'blocks.{l}.attn.k_norm.w', source: P(`${L}self_attn.k_norm.weight`), sourceShape: ['dh'], when: (c) => c.qkNorm === 'head' },
  { canonical: 'blocks.{l}.mlp.W_gate', source: P(`${L}mlp.gate_proj.weight`), sourceShape: ['ff', 'd'], transform: T },
  { canonical: 'blocks.{l}.mlp.W_in', source: P(`${L}mlp.up_proj.weight`), sourceShape: ['ff', 'd'], transform: T },
  { canonical: 'blocks.{l}.mlp.W_out', source: P(`${L}mlp.down_proj.weight`), sourceShape: ['d', 'ff'], transform: T },
  { canonical: 'ln_final.w', source: P('norm.weight'), sourceShape: ['d'] },
  {
    canonical: 'unembed.W_U',
    source: ['lm_head.weight', 'language_model.lm_head.weight'],
    sourceShape: ['vocab', 'd'],
    transform: T,
    when: (c) => !c.tiedEmbeddings,
  },
  { canonical: 'unembed.W_U', source: P('embed_tokens.weight'), sourceShape: ['vocab', 'd'], transform: T, when: (c) => c.tiedEmbeddings },
];

const tensors = (c: ModelConfig) => expandTemplates(GEMMA_TENSORS, c);

export const gemma2: FamilySpec = { family: 'gemma2', modelTypes: ['gemma2'], parseConfig: (raw) => parseGemma(GEMMA2, raw, 'gemma2'), tensors };

export const gemma3: FamilySpec = {
  family: 'gemma3',
  modelTypes: ['gemma3_text', 'gemma3'],
  parseConfig: (raw) => ((raw as { model_type?: unknown }).model_type === 'gemma3' ? parseGemma3Nested(raw) : parseGemma(GEMMA3, raw, 'gemma3_text')),
  tensors,
};
