/**
 * Tiny checkpoints in each family's real Hugging Face naming and layout (random values), written to a
 * temporary folder with their config.json, for end-to-end loading tests.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSafetensors, type Entry, f32, randomFloats } from './safetensors.js';

export interface TinyModel {
  config: Record<string, unknown>;
  /** HF name → [shape, values]. */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

function model(config: Record<string, unknown>, list: [string, number[]][]): TinyModel {
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  list.forEach(([name, shape], i) => {
    tensors.set(name, {
      shape,
      data: randomFloats(
        shape.reduce((a, b) => a * b, 1),
        1000 + i,
      ),
    });
  });
  return { config, tensors };
}

export function tinyGpt2(prefix = 'transformer.'): TinyModel {
  const d = 8;
  const list: [string, number[]][] = [
    [`${prefix}wte.weight`, [11, d]],
    [`${prefix}wpe.weight`, [16, d]],
  ];
  for (let l = 0; l < 2; l++) {
    const p = `${prefix}h.${l}.`;
    list.push(
      [`${p}ln_1.weight`, [d]],
      [`${p}ln_1.bias`, [d]],
      [`${p}attn.c_attn.weight`, [d, 3 * d]],
      [`${p}attn.c_attn.bias`, [3 * d]],
      [`${p}attn.c_proj.weight`, [d, d]],
      [`${p}attn.c_proj.bias`, [d]],
      [`${p}ln_2.weight`, [d]],
      [`${p}ln_2.bias`, [d]],
      [`${p}mlp.c_fc.weight`, [d, 4 * d]],
      [`${p}mlp.c_fc.bias`, [4 * d]],
      [`${p}mlp.c_proj.weight`, [4 * d, d]],
      [`${p}mlp.c_proj.bias`, [d]],
    );
  }
  list.push([`${prefix}ln_f.weight`, [d]], [`${prefix}ln_f.bias`, [d]]);
  const config = { model_type: 'gpt2', n_embd: d, n_head: 2, n_layer: 2, n_positions: 16, vocab_size: 11, activation_function: 'gelu_new' };
  return model(config, list);
}

export function tinyNeox(): TinyModel {
  const d = 8;
  const list: [string, number[]][] = [['gpt_neox.embed_in.weight', [13, d]]];
  for (let l = 0; l < 2; l++) {
    const p = `gpt_neox.layers.${l}.`;
    list.push(
      [`${p}input_layernorm.weight`, [d]],
      [`${p}input_layernorm.bias`, [d]],
      [`${p}post_attention_layernorm.weight`, [d]],
      [`${p}post_attention_layernorm.bias`, [d]],
      [`${p}attention.query_key_value.weight`, [3 * d, d]],
      [`${p}attention.query_key_value.bias`, [3 * d]],
      [`${p}attention.dense.weight`, [d, d]],
      [`${p}attention.dense.bias`, [d]],
      [`${p}mlp.dense_h_to_4h.weight`, [16, d]],
      [`${p}mlp.dense_h_to_4h.bias`, [16]],
      [`${p}mlp.dense_4h_to_h.weight`, [d, 16]],
      [`${p}mlp.dense_4h_to_h.bias`, [d]],
    );
  }
  list.push(['gpt_neox.final_layer_norm.weight', [d]], ['gpt_neox.final_layer_norm.bias', [d]], ['embed_out.weight', [13, d]]);
  const config = {
    model_type: 'gpt_neox',
    hidden_size: d,
    num_attention_heads: 2,
    num_hidden_layers: 2,
    intermediate_size: 16,
    vocab_size: 13,
    max_position_embeddings: 32,
    rotary_pct: 0.5,
    rotary_emb_base: 10000,
    use_parallel_residual: true,
    tie_word_embeddings: false,
    hidden_act: 'gelu',
  };
  return model(config, list);
}

/** Sizes of tinyLlama; the defaults are the 2-layer, 4-head (2 KV heads) model most tests load. */
export interface TinyLlamaShape {
  d: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ff: number;
  layers: number;
  vocab: number;
  nCtx: number;
}

/** Llama-style (also Qwen2 and Mistral with other flags). head_dim 4 × 4 heads = 16 ≠ hidden 8: exercises the override. */
export function tinyLlama(
  o: { modelType?: string; tied?: boolean; qkvBias?: boolean; extra?: Record<string, unknown>; shape?: Partial<TinyLlamaShape> } = {},
): TinyModel {
  const s: TinyLlamaShape = { d: 8, heads: 4, kvHeads: 2, headDim: 4, ff: 12, layers: 2, vocab: 10, nCtx: 64, ...o.shape };
  const { d, ff } = s;
  const q = s.heads * s.headDim;
  const kv = s.kvHeads * s.headDim;
  const list: [string, number[]][] = [['model.embed_tokens.weight', [s.vocab, d]]];
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}.`;
    list.push(
      [`${p}input_layernorm.weight`, [d]],
      [`${p}post_attention_layernorm.weight`, [d]],
      [`${p}self_attn.q_proj.weight`, [q, d]],
      [`${p}self_attn.k_proj.weight`, [kv, d]],
      [`${p}self_attn.v_proj.weight`, [kv, d]],
      [`${p}self_attn.o_proj.weight`, [d, q]],
      [`${p}mlp.gate_proj.weight`, [ff, d]],
      [`${p}mlp.up_proj.weight`, [ff, d]],
      [`${p}mlp.down_proj.weight`, [d, ff]],
    );
    if (o.qkvBias) list.push([`${p}self_attn.q_proj.bias`, [q]], [`${p}self_attn.k_proj.bias`, [kv]], [`${p}self_attn.v_proj.bias`, [kv]]);
  }
  list.push(['model.norm.weight', [d]]);
  if (!o.tied) list.push(['lm_head.weight', [s.vocab, d]]);
  const config = {
    model_type: o.modelType ?? 'llama',
    hidden_size: d,
    intermediate_size: ff,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    head_dim: s.headDim,
    vocab_size: s.vocab,
    max_position_embeddings: s.nCtx,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: o.tied ?? false,
    ...o.extra,
  };
  return model(config, list);
}

export function entriesOf(m: TinyModel, names?: string[]): Entry[] {
  return (names ?? [...m.tensors.keys()]).map((n) => {
    const t = m.tensors.get(n)!;
    return f32(n, t.shape, t.data);
  });
}

/** Writes config.json (+ any extra files) and the weights (split into `shards` files with an index when > 1). */
export function writeModelDir(m: TinyModel, o: { shards?: number; extra?: Record<string, string | Uint8Array<ArrayBuffer>> } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'headscope-model-'));
  for (const [name, content] of Object.entries(modelFiles(m, o))) writeFileSync(join(dir, name), content);
  return dir;
}

/** The babyllama tokenizer, for tiny models whose tests are not about tokenizers. */
export const SHARED_TOKENIZER = fileURLToPath(new URL('../../../../../shared/models/babyllama-tok105/tokenizer.json', import.meta.url));

/** writeModelDir with the babyllama tokenizer.json copied in, so loadModel accepts the folder. */
export function writeTokenizedModelDir(m: TinyModel, o: Parameters<typeof writeModelDir>[1] = {}): string {
  const dir = writeModelDir(m, o);
  writeFileSync(join(dir, 'tokenizer.json'), readFileSync(SHARED_TOKENIZER));
  return dir;
}

export function modelFiles(
  m: TinyModel,
  o: { shards?: number; extra?: Record<string, string | Uint8Array<ArrayBuffer>> } = {},
): Record<string, string | Uint8Array<ArrayBuffer>> {
  const files: Record<string, string | Uint8Array<ArrayBuffer>> = { 'config.json': JSON.stringify(m.config), ...o.extra };
  const names = [...m.tensors.keys()];
  const shards = o.shards ?? 1;
  if (shards === 1) {
    files['model.safetensors'] = buildSafetensors(entriesOf(m), { metadata: { format: 'pt' } });
    return files;
  }
  const weightMap: Record<string, string> = {};
  const per = Math.ceil(names.length / shards);
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = names.slice(s * per, (s + 1) * per);
    for (const n of part) weightMap[n] = file;
    files[file] = buildSafetensors(entriesOf(m, part), { metadata: { format: 'pt' } });
  }
  files['model.safetensors.index.json'] = JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap });
  return files;
}
