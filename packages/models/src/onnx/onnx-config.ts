/**
 * config.json for an ONNX export: the family's own parser where Headscope has one (same numbers as the
 * WebGPU engine reads), otherwise the handful of fields the ONNX path needs, under their common names —
 * an ONNX export may be of an architecture the WebGPU engine does not implement.
 */
import { z } from 'zod';
import { InvalidConfigError, UnsupportedModelTypeError } from '../errors.js';
import { allIds, firstId, headDim, parseWith, posInt, tokenIds } from '../families/config-common.js';
import { parseModelConfig } from '../families/registry.js';

/** What the ONNX path and the views need of config.json. */
export interface OnnxModelConfig {
  /** The WebGPU family when Headscope has one for this model_type, else the raw model_type. */
  family: string;
  modelType: string;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  dModel: number;
  dHead: number;
  vocabSize: number;
  nCtx: number;
  bosTokenId: number | null;
  eosTokenIds: number[];
  addBos: boolean;
}

const generic = z.object({
  model_type: z.string(),
  vocab_size: posInt,
  num_hidden_layers: posInt.optional(),
  n_layer: posInt.optional(),
  num_layers: posInt.optional(),
  num_attention_heads: posInt.optional(),
  n_head: posInt.optional(),
  num_heads: posInt.optional(),
  num_key_value_heads: posInt.nullable().optional(),
  hidden_size: posInt.optional(),
  n_embd: posInt.optional(),
  d_model: posInt.optional(),
  head_dim: posInt.nullable().optional(),
  max_position_embeddings: posInt.optional(),
  n_positions: posInt.optional(),
  n_ctx: posInt.optional(),
  bos_token_id: tokenIds,
  eos_token_id: tokenIds,
});

export function parseOnnxConfig(text: string): OnnxModelConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InvalidConfigError('config.json', [`not valid JSON (${(e as Error).message})`]);
  }
  try {
    const { config: c } = parseModelConfig(raw);
    return {
      family: c.family,
      modelType: c.modelType,
      nLayers: c.nLayers,
      nHeads: c.nHeads,
      nKvHeads: c.nKvHeads,
      dModel: c.dModel,
      dHead: c.dHead,
      vocabSize: c.vocabSize,
      nCtx: c.nCtx,
      bosTokenId: c.bosTokenId,
      eosTokenIds: c.eosTokenIds,
      addBos: c.addBos,
    };
  } catch (e) {
    if (!(e instanceof UnsupportedModelTypeError)) throw e;
  }
  const r = parseWith(generic, raw);
  const need = (name: string, v: number | undefined): number => {
    if (v === undefined) throw new InvalidConfigError('config.json', [`${name}: required (the ONNX path checks the graph against it)`]);
    return v;
  };
  const nLayers = need('num_hidden_layers', r.num_hidden_layers ?? r.n_layer ?? r.num_layers);
  const nHeads = need('num_attention_heads', r.num_attention_heads ?? r.n_head ?? r.num_heads);
  const dModel = need('hidden_size', r.hidden_size ?? r.n_embd ?? r.d_model);
  return {
    family: r.model_type,
    modelType: r.model_type,
    nLayers,
    nHeads,
    nKvHeads: r.num_key_value_heads ?? nHeads,
    dModel,
    dHead: headDim(dModel, nHeads, r.head_dim),
    vocabSize: r.vocab_size,
    nCtx: r.max_position_embeddings ?? r.n_positions ?? r.n_ctx ?? 2048,
    bosTokenId: firstId(r.bos_token_id),
    eosTokenIds: allIds(r.eos_token_id),
    addBos: false,
  };
}
