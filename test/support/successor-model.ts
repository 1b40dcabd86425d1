/**
 * A byte-level BPE tokenizer built from a word list, and a tiny Llama-layout checkpoint with planted
 * successor, copying and predecessor heads, so that the successor score's right answer is known.
 *
 * Tokenizer: the 256 byte characters, and each word " w" as one token (so " Monday" is one token, and every
 * other text still encodes byte by byte).
 *
 * Model: each task token t has a one-hot embedding e_t. Layer 0's MLP is made linear on those tokens
 * (the gate reads the sum of all dimensions, the same for every one-hot row; up = I, down = I / silu(gate)),
 * so E_t = MLP0(RMSNorm(e_t)) = √d·e_t. A "circle" KV head writes token t of task k, at place p of its
 * task, to (cos θ, sin θ) in value dimensions (2k, 2k+1), θ = 2πp/P (P = members, + ½ when not cyclic, so
 * that the ends never tie);
 * a query head's W_O turns that by δ and reads it out against the tied unembedding e_j, so its logits are
 * cos(θ_j − θ_t − δ): δ = one step is a successor head (score 1), δ = 0 copies (score 0), δ = −1 step is a
 * predecessor head (score 0). The other KV heads are random.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { byteLevelAlphabet } from '../../packages/models/src/tokenizer/token-text.js';
import { buildSafetensors, f32, randomFloats } from '../../packages/models/test/helpers/safetensors.js';

/**
 * tokenizer.json of a GPT-2-style byte-level BPE with no merges (every text encodes byte by byte) plus each
 * " word" as an added token, so that exactly those words are single tokens (merges that grew "Ġ"+word
 * would also make every prefix, " M", " Mon", a token); `vocabSize` pads with unused pieces.
 */
export function wordTokenizerJson(words: readonly string[], vocabSize?: number): { json: string; idOf: (word: string) => number } {
  const vocab = new Map<string, number>([['<|endoftext|>', 0]]);
  for (const ch of byteLevelAlphabet()) vocab.set(ch, vocab.size);
  const added = [{ id: 0, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }];
  const ids = new Map<string, number>();
  for (const word of words) {
    if (ids.has(word)) continue;
    ids.set(word, vocab.size);
    added.push({ id: vocab.size, content: ` ${word}`, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false });
    vocab.set(` ${word}`, vocab.size);
  }
  if (vocabSize !== undefined) {
    if (vocab.size > vocabSize) throw new Error(`the words need ${vocab.size} tokens, more than ${vocabSize}`);
    while (vocab.size < vocabSize) vocab.set(`<unused_${vocab.size}>`, vocab.size);
  }
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const json = JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges: [],
    },
  });
  return {
    json,
    idOf: (word) => {
      const id = ids.get(word);
      if (id === undefined) throw new Error(`"${word}" is not in the vocabulary`);
      return id;
    },
  };
}

export const PLANTED_TASKS: readonly { words: string[]; cyclic: boolean }[] = [
  { words: Array.from({ length: 20 }, (_, i) => String(i + 1)), cyclic: false },
  { words: 'Monday Tuesday Wednesday Thursday Friday Saturday Sunday'.split(' '), cyclic: true },
  { words: 'January February March April May June July August September October November December'.split(' '), cyclic: true },
  { words: 'first second third fourth fifth sixth seventh eighth ninth tenth'.split(' '), cyclic: false },
];
/** Single-token words that are in no task: controls for the behavioural check, and prompt text. */
export const PLANTED_OTHER_WORDS = 'apple river chair green house stone cloud table bread water the and was on'.split(' ');

export interface PlantedHead {
  layer: number;
  head: number;
  role: 'successor' | 'copy' | 'predecessor';
}

/** GQA: 8 query heads read 4 KV heads (h → ⌊h/2⌋). */
export const PLANTED_SUCCESSOR_HEADS: readonly PlantedHead[] = [
  { layer: 0, head: 2, role: 'copy' },
  { layer: 0, head: 3, role: 'predecessor' },
  { layer: 1, head: 5, role: 'successor' },
];

const D = 64;
const H = 8;
const KV = 4;
const DH = 8;
const LAYERS = 2;
const VOCAB = 512;

/** Files of the planted successor model (config.json, tokenizer.json, model.safetensors). */
export function plantedSuccessorFiles(): Record<string, string | Uint8Array<ArrayBuffer>> {
  const { json, idOf } = wordTokenizerJson([...PLANTED_TASKS.flatMap((t) => t.words), ...PLANTED_OTHER_WORDS], VOCAB);
  // Task token → one-hot dimension, task and place on its circle.
  const place = new Map<number, { dim: number; task: number; theta: number; step: number }>();
  PLANTED_TASKS.forEach((task, k) => {
    const P = task.words.length + (task.cyclic ? 0 : 0.5);
    task.words.forEach((w, p) => {
      place.set(idOf(w), { dim: place.size, task: k, theta: (2 * Math.PI * p) / P, step: (2 * Math.PI) / P });
    });
  });
  if (place.size > D) throw new Error('one-hot task dimensions exceed d_model');

  let seed = 7;
  const random = (n: number, scale: number) => randomFloats(n, seed++).map((v) => v * scale);
  const embed = random(VOCAB * D, 0.5);
  for (const [tok, { dim }] of place) {
    embed.fill(0, tok * D, (tok + 1) * D);
    embed[tok * D + dim] = 1;
  }
  const tensors: [string, number[], Float32Array][] = [['model.embed_tokens.weight', [VOCAB, D], embed]];
  const ones = (n: number) => new Float32Array(n).fill(1);
  const silu = (x: number) => x / (1 + Math.exp(-x));
  for (let l = 0; l < LAYERS; l++) {
    const p = `model.layers.${l}.`;
    const v = random(KV * DH * D, 0.5); // [out = KV·dh, in = d]
    const o = random(D * H * DH, 0.5); // [out = d, in = H·dh]
    const planted = PLANTED_SUCCESSOR_HEADS.filter((h) => h.layer === l);
    for (const kv of new Set(planted.map((h) => Math.floor(h.head / (H / KV))))) {
      v.fill(0, kv * DH * D, (kv + 1) * DH * D);
      for (const [, q] of place) {
        v[(kv * DH + 2 * q.task) * D + q.dim] = Math.cos(q.theta);
        v[(kv * DH + 2 * q.task + 1) * D + q.dim] = Math.sin(q.theta);
      }
    }
    for (const ph of planted) {
      const delta = ph.role === 'successor' ? 1 : ph.role === 'copy' ? 0 : -1;
      for (let i = 0; i < D; i++) for (let c = 0; c < DH; c++) o[i * H * DH + ph.head * DH + c] = 0;
      for (const [, q] of place) {
        o[q.dim * H * DH + ph.head * DH + 2 * q.task] = Math.cos(q.theta - delta * q.step);
        o[q.dim * H * DH + ph.head * DH + 2 * q.task + 1] = Math.sin(q.theta - delta * q.step);
      }
    }
    let gate = random(D * D, 0.3);
    let up = random(D * D, 0.3);
    let down = random(D * D, 0.3);
    if (l === 0) {
      // gate = 4 on every one-hot row after RMSNorm (√d·e_t): silu(4) is the same for all, undone by down.
      gate = new Float32Array(D * D).fill(4 / Math.sqrt(D));
      up = new Float32Array(D * D);
      down = new Float32Array(D * D);
      for (let i = 0; i < D; i++) {
        up[i * D + i] = 1;
        down[i * D + i] = 1 / silu(4);
      }
    }
    tensors.push(
      [`${p}input_layernorm.weight`, [D], ones(D)],
      [`${p}post_attention_layernorm.weight`, [D], ones(D)],
      [`${p}self_attn.q_proj.weight`, [H * DH, D], random(H * DH * D, 0.5)],
      [`${p}self_attn.k_proj.weight`, [KV * DH, D], random(KV * DH * D, 0.5)],
      [`${p}self_attn.v_proj.weight`, [KV * DH, D], v],
      [`${p}self_attn.o_proj.weight`, [D, H * DH], o],
      [`${p}mlp.gate_proj.weight`, [D, D], gate],
      [`${p}mlp.up_proj.weight`, [D, D], up],
      [`${p}mlp.down_proj.weight`, [D, D], down],
    );
  }
  tensors.push(['model.norm.weight', [D], ones(D)]);
  const config = {
    model_type: 'llama',
    hidden_size: D,
    intermediate_size: D,
    num_hidden_layers: LAYERS,
    num_attention_heads: H,
    num_key_value_heads: KV,
    head_dim: DH,
    vocab_size: VOCAB,
    max_position_embeddings: 64,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
    bos_token_id: 0,
    eos_token_id: 0,
  };
  return {
    'config.json': JSON.stringify(config),
    'tokenizer.json': json,
    'model.safetensors': buildSafetensors(
      tensors.map(([n, s, d]) => f32(n, s, d)),
      { metadata: { format: 'pt' } },
    ),
  };
}

/** Writes the planted successor model to a new temporary folder and returns its path. */
export function writePlantedSuccessorModel(dir = mkdtempSync(join(tmpdir(), 'headscope-successor-'))): string {
  for (const [name, content] of Object.entries(plantedSuccessorFiles())) writeFileSync(join(dir, name), content);
  return dir;
}
