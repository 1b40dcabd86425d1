/**
 * A tiny GPT-2-layout checkpoint whose attention heads are built by hand, so that the right answer of every
 * detector is known: one head attends to the previous token, one to the first token, one to '.' tokens,
 * one is an induction head (which also copies, so greedy decoding retrieves), the others are random.
 *
 * The residual stream is a sum of orthonormal, zero-mean features (rows of a Sylvester–Hadamard matrix
 * except the all-ones one), each present with norm 1, so every LayerNorm only divides by a known constant;
 * LN weights undo that, and each head reads and writes features through rank-one maps. Layout:
 *   TOK   32 dims  the token's code (random unit vector; 512 tokens share them, near-orthogonal)
 *   PREV  32 dims  the previous token's code, written by a previous-token head
 *   POS   nCtx     one-hot position
 *   MARK  2 / role "this token is <t>" or "is not", one pair per attend-token role (keeps the norm fixed)
 * Add a role to PlantedRole and a case in plantHead to plant another kind of head.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../../src/engine/decode.js';
import type { TinyModel } from './tiny-models.js';
import { modelFiles } from './tiny-models.js';

export type PlantedRole =
  | { kind: 'previous-token' }
  | { kind: 'first-token-sink' }
  /** Attends to every occurrence of `token` (a hidden sink on it); uniform where none is visible. */
  | { kind: 'attend-token'; token: string }
  /** Query = current token, key = previous token (needs a previous-token head in an earlier layer); copies the attended token into the logits with weight `copy`. */
  | { kind: 'induction'; copy?: number }
  /**
   * Attends to the previous token (as previous-token) and writes, for each of `words`, the token code of the
   * word `shift` places on (1: a successor head, 0: copies the word) into the token features, so its
   * direct logit attribution is known. Plant it in the last layer (it changes the token features' norm).
   */
  | { kind: 'successor'; words: readonly string[]; shift?: number }
  | { kind: 'random' };

export interface PlantedSpec {
  /** roles[layer][head]; every layer has the same number of heads. */
  roles: PlantedRole[][];
  /** Context length (= one-hot position dims). Default 32. */
  nCtx?: number;
  /** Dimensions of the token codes (512 random unit vectors share them). Default 32. */
  tokenDims?: number;
  /** Softmax logit of the planted match (the others are 0). Default 30. */
  sharpness?: number;
  seed?: number;
}

export const DEFAULT_PLANTED: PlantedSpec = {
  roles: [
    [{ kind: 'previous-token' }, { kind: 'first-token-sink' }, { kind: 'attend-token', token: '.' }, { kind: 'random' }],
    [{ kind: 'induction' }, { kind: 'random' }, { kind: 'random' }, { kind: 'random' }],
  ],
};

const VOCAB = 512;

/**
 * Word-level vocabulary: [UNK], punctuation and common words below id 128 (the probe draws ids from
 * vocab/4 = 128 up, so they never appear in it), then made-up syllable words up to 512.
 */
export const PLANTED_WORDS: readonly string[] = (() => {
  const common =
    '. , the a an and but or of to in on at by with from for as is was were be it he she they we you i his her their my our this that there here then when where what who one two three four five six seven eight nine ten cat dog bird fish tree house road river hill king queen boy girl man woman mother father day night sun moon star sea ship town door window table book letter fire water bread sat ran saw said went came took gave found made old new little big good long red green blue time way home morning evening key answer number'.split(
      ' ',
    );
  const words = ['[UNK]', ...common];
  const c = 'bdfgklmnprstvz';
  const v = 'aeiou';
  for (let i = 0; words.length < VOCAB; i++) {
    const w = `${c[i % 14]}${v[Math.floor(i / 14) % 5]}${c[Math.floor(i / 70) % 14]}${v[Math.floor(i / 980) % 5]}`;
    if (!words.includes(w)) words.push(w);
  }
  if (words.length !== VOCAB || words.indexOf('number') >= 128) throw new Error('planted vocabulary layout changed');
  return words;
})();

/** Unit-norm, zero-mean, mutually orthogonal feature vectors: row f+1 of the D×D Hadamard matrix / √D (D a power of 2). */
function feature(f: number, D: number): Float32Array {
  const row = f + 1;
  const out = new Float32Array(D);
  for (let k = 0; k < D; k++) {
    let bits = row & k;
    let parity = 0;
    while (bits) {
      parity ^= bits & 1;
      bits >>= 1;
    }
    out[k] = (parity ? -1 : 1) / Math.sqrt(D);
  }
  return out;
}

export interface PlantedModel extends TinyModel {
  spec: Required<PlantedSpec>;
  words: readonly string[];
  tokenizer: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** [layer, head] of the first head of each kind. */
  find(kind: PlantedRole['kind']): [number, number];
}

export function plantedModel(spec: PlantedSpec = DEFAULT_PLANTED): PlantedModel {
  const full: Required<PlantedSpec> = { nCtx: 32, tokenDims: 32, sharpness: 30, seed: 7, ...spec };
  const { roles, nCtx, tokenDims: D_HEAD_TOK, sharpness, seed } = full;
  const nLayers = roles.length;
  const nHeads = roles[0]!.length;
  if (roles.some((r) => r.length !== nHeads)) throw new Error('every layer needs the same number of heads');
  // Each head must hold the token codes or the one-hot positions; d_model a power of two (Hadamard features).
  const dHead = Math.max(D_HEAD_TOK, nCtx);
  const D = nHeads * dHead;
  if ((D & (D - 1)) !== 0) throw new Error(`d_model ${D} (= heads × max(tokenDims, nCtx)) must be a power of two`);
  const marked = [...new Set(roles.flat().flatMap((r) => (r.kind === 'attend-token' ? [r.token] : [])))];
  const TOK = 0;
  const PREV = TOK + D_HEAD_TOK;
  const POS = PREV + D_HEAD_TOK;
  const MARK = POS + nCtx;
  if (MARK + 2 * marked.length > D - 1) throw new Error(`too many features for d_model ${D}`);
  const F = Array.from({ length: MARK + 2 * marked.length }, (_, f) => feature(f, D));
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());

  // Token codes: random unit vectors in the 64 TOK dims.
  const codes = Array.from({ length: VOCAB }, () => {
    const c = Array.from({ length: D_HEAD_TOK }, gauss);
    const n = Math.hypot(...c);
    return c.map((x) => x / n);
  });
  const ids = new Map(PLANTED_WORDS.map((w, i) => [w, i]));
  const markOf = marked.map((t) => {
    const id = ids.get(t);
    if (id === undefined) throw new Error(`attend-token "${t}" is not in the planted vocabulary`);
    return id;
  });

  const wte = new Float32Array(VOCAB * D);
  for (let t = 0; t < VOCAB; t++) {
    for (let k = 0; k < D_HEAD_TOK; k++) addScaled(wte, t * D, F[TOK + k]!, codes[t]![k]!);
    markOf.forEach((id, r) => {
      addScaled(wte, t * D, F[MARK + 2 * r + (id === t ? 0 : 1)]!, 1);
    });
  }
  const wpe = new Float32Array(nCtx * D);
  for (let p = 0; p < nCtx; p++) addScaled(wpe, p * D, F[POS + p]!, 1);

  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const put = (name: string, shape: number[], data: Float32Array) => tensors.set(name, { shape, data });
  put('transformer.wte.weight', [VOCAB, D], wte);
  put('transformer.wpe.weight', [nCtx, D], wpe);

  // Residual norm² entering each layer: TOK + POS + marks (+ PREV once a previous-token head wrote it).
  let norm2 = 2 + marked.length;
  const beta = sharpness * Math.sqrt(dHead); // the kernel divides scores by √d_head
  for (let l = 0; l < nLayers; l++) {
    const cAttn = new Float32Array(D * 3 * D);
    const cAttnBias = new Float32Array(3 * D);
    const cProj = new Float32Array(D * D);
    // W_Q/W_K/W_V [in D, out D] blocks of c_attn; head h uses outputs h·dHead … (h+1)·dHead − 1.
    const write = (block: 0 | 1 | 2, h: number, feat: Float32Array, dim: number, scale: number) => {
      for (let i = 0; i < D; i++) {
        const at = i * 3 * D + block * D + h * dHead + dim;
        cAttn[at] = cAttn[at]! + feat[i]! * scale;
      }
    };
    let writesPrev = false;
    roles[l]!.forEach((role, h) => {
      switch (role.kind) {
        case 'previous-token':
          // q_i = e_i, k_j = e_{j+1}: score β exactly at j = i − 1. OV copies the token code into PREV.
          for (let p = 0; p < nCtx; p++) write(0, h, F[POS + p]!, p, beta);
          for (let p = 0; p + 1 < nCtx; p++) write(1, h, F[POS + p]!, p + 1, 1);
          for (let k = 0; k < D_HEAD_TOK; k++) {
            write(2, h, F[TOK + k]!, k, 1);
            addScaled(cProj, (h * dHead + k) * D, F[PREV + k]!, 1);
          }
          writesPrev = true;
          break;
        case 'first-token-sink':
          cAttnBias[h * dHead] = beta;
          write(1, h, F[POS]!, 0, 1);
          break;
        case 'attend-token':
          cAttnBias[h * dHead] = beta;
          write(1, h, F[MARK + 2 * marked.indexOf(role.token)]!, 0, 1);
          break;
        case 'induction':
          if (l === 0) throw new Error('an induction head needs a previous-token head in an earlier layer');
          for (let k = 0; k < D_HEAD_TOK; k++) {
            write(0, h, F[TOK + k]!, k, beta);
            write(1, h, F[PREV + k]!, k, 1);
            write(2, h, F[TOK + k]!, k, 1);
            addScaled(cProj, (h * dHead + k) * D, F[TOK + k]!, role.copy ?? 4);
          }
          break;
        case 'successor': {
          for (let p = 0; p < nCtx; p++) write(0, h, F[POS + p]!, p, beta);
          for (let p = 0; p + 1 < nCtx; p++) write(1, h, F[POS + p]!, p + 1, 1);
          for (let k = 0; k < D_HEAD_TOK; k++) write(2, h, F[TOK + k]!, k, 1);
          // W_O = Σ_w code(w + shift) ⊗ dual(w): the dual basis of the words' codes, so the map is exact on them.
          const wordIds = role.words.map((w) => ids.get(w)!);
          const duals = dualBasis(wordIds.map((id) => codes[id]!));
          wordIds.forEach((_, i) => {
            const target = wordIds[i + (role.shift ?? 1)];
            if (target === undefined) return;
            for (let k = 0; k < D_HEAD_TOK; k++)
              for (let m = 0; m < D_HEAD_TOK; m++) addScaled(cProj, (h * dHead + k) * D, F[TOK + m]!, codes[target]![m]! * duals[i]![k]!);
          });
          break;
        }
        case 'random': {
          // Small random W_Q, W_K (scores of spread ≈ 0.3): near-uniform attention; writes nothing.
          const s = Math.sqrt(0.3 / norm2);
          for (let i = 0; i < D; i++)
            for (let d = 0; d < dHead; d++) {
              cAttn[i * 3 * D + h * dHead + d] = gauss() * s;
              cAttn[i * 3 * D + D + h * dHead + d] = gauss() * s;
            }
          break;
        }
      }
    });
    // LayerNorm of a zero-mean x is x·√D/|x|: a weight of |x|/√D leaves the features as they are.
    const lnW = new Float32Array(D).fill(Math.sqrt(norm2 / D));
    const p = `transformer.h.${l}.`;
    put(`${p}ln_1.weight`, [D], lnW);
    put(`${p}ln_1.bias`, [D], new Float32Array(D));
    put(`${p}attn.c_attn.weight`, [D, 3 * D], cAttn);
    put(`${p}attn.c_attn.bias`, [3 * D], cAttnBias);
    put(`${p}attn.c_proj.weight`, [D, D], cProj);
    put(`${p}attn.c_proj.bias`, [D], new Float32Array(D));
    put(`${p}ln_2.weight`, [D], new Float32Array(D).fill(1));
    put(`${p}ln_2.bias`, [D], new Float32Array(D));
    // MLPs are zero (GELU(0) = 0): the heads alone decide what the residual holds.
    put(`${p}mlp.c_fc.weight`, [D, 4], new Float32Array(D * 4));
    put(`${p}mlp.c_fc.bias`, [4], new Float32Array(4));
    put(`${p}mlp.c_proj.weight`, [4, D], new Float32Array(4 * D));
    put(`${p}mlp.c_proj.bias`, [D], new Float32Array(D));
    if (writesPrev) norm2 += 1;
  }
  put('transformer.ln_f.weight', [D], new Float32Array(D).fill(1));
  put('transformer.ln_f.bias', [D], new Float32Array(D));

  const config = {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    n_embd: D,
    n_head: nHeads,
    n_layer: nLayers,
    n_positions: nCtx,
    n_inner: 4,
    vocab_size: VOCAB,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    bos_token_id: 0,
    eos_token_id: 0,
    tie_word_embeddings: true,
  };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 0, content: '[UNK]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordLevel', vocab: Object.fromEntries(PLANTED_WORDS.map((w, i) => [w, i])), unk_token: '[UNK]' },
  };
  const tokenizerConfig = { unk_token: '[UNK]', add_bos_token: false, model_max_length: nCtx };
  return {
    config,
    tensors,
    spec: full,
    words: PLANTED_WORDS,
    tokenizer,
    tokenizerConfig,
    find(kind) {
      for (let l = 0; l < nLayers; l++) {
        const h = roles[l]!.findIndex((r) => r.kind === kind);
        if (h >= 0) return [l, h];
      }
      throw new Error(`no ${kind} head was planted`);
    },
  };
}

/** Vectors d_i with d_i · v_j = [i = j], in the span of the (independent) vectors v. */
function dualBasis(v: number[][]): number[][] {
  const n = v.length;
  const dotv = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
  // Solve G·A = I for the Gram matrix G = V Vᵀ (Gauss–Jordan); d_i = Σ_j A[i][j] v_j.
  const g = v.map((a, i) => [...v.map((b) => dotv(a, b)), ...v.map((_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    const piv = g.reduce((best, row, r) => (r >= c && Math.abs(row[c]!) > Math.abs(g[best]![c]!) ? r : best), c);
    [g[c], g[piv]] = [g[piv]!, g[c]!];
    const d = g[c]![c]!;
    g[c] = g[c]!.map((x) => x / d);
    for (let r = 0; r < n; r++) if (r !== c) g[r] = g[r]!.map((x, k) => x - g[r]![c]! * g[c]![k]!);
  }
  return v.map((_, i) => v[0]!.map((_, k) => v.reduce((s, vj, j) => s + g[i]![n + j]! * vj[k]!, 0)));
}

function addScaled(out: Float32Array, at: number, v: Float32Array, s: number): void {
  for (let i = 0; i < v.length; i++) out[at + i] = out[at + i]! + v[i]! * s;
}

/** config.json, model.safetensors, tokenizer.json and tokenizer_config.json of a planted model. */
export function plantedModelFiles(m: PlantedModel = plantedModel()): Record<string, string | Uint8Array<ArrayBuffer>> {
  return modelFiles(m, {
    extra: { 'tokenizer.json': JSON.stringify(m.tokenizer), 'tokenizer_config.json': JSON.stringify(m.tokenizerConfig) },
  });
}

/** Writes the planted model to a new temporary folder (or `dir`) and returns its path. */
export function writePlantedModel(m: PlantedModel = plantedModel(), dir = mkdtempSync(join(tmpdir(), 'headscope-planted-'))): string {
  for (const [name, content] of Object.entries(plantedModelFiles(m))) writeFileSync(join(dir, name), content);
  return dir;
}

/** Prompts in the planted vocabulary: sentences with '.', no repeated spans (so no induction evidence). */
export const PLANTED_PROMPTS: readonly string[] = [
  'the old king sat by the fire in the evening . his queen saw a little bird on the window and said it was a good day for the ship',
  'a boy and a girl ran to the river with their dog . they found a red fish in the water and took it home to their mother',
  'one morning the man went from the town to the hill . there he saw seven green trees and a long road by the sea',
  'my father gave her a new book and a letter from the queen . she said the letter was old but the book was good',
];
