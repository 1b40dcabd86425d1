import type { GpuTensor } from '@headscope/wgpu-kernels';
import { MissingTensorError, UnsupportedConfigError } from '../errors.js';
import type { ModelConfig } from '../families/types.js';
import { type StoredDtype, type WeightMemory, weightMemoryOf } from '../loading/weight-storage.js';

/** A linear map y = x·W (+ b). `transB` says W is stored [out, in] (a tied unembed reads W_E [vocab, d]). */
export interface LinearOf<T> {
  w: T;
  transB: boolean;
  b?: T;
}

export interface NormOf<T> {
  w?: T;
  b?: T;
}

export interface LayerWeightsOf<T> {
  /** Pre-attention norm (empty when the config has post-norms only). */
  ln1: NormOf<T>;
  /** Norm of the attention output before the residual add (Gemma, OLMo-2). */
  ln1Post?: NormOf<T>;
  /** RMSNorm weights of queries and keys ([d_head] per head, or the whole projection): Qwen3, Gemma 3, OLMo-2. */
  qNorm?: T;
  kNorm?: T;
  q: LinearOf<T>;
  k: LinearOf<T>;
  v: LinearOf<T>;
  o: LinearOf<T>;
  ln2: NormOf<T>;
  /** Norm of the MLP output before the residual add (Gemma, OLMo-2). */
  ln2Post?: NormOf<T>;
  /** Up projection (the only input projection for non-gated MLPs). */
  mlpIn: LinearOf<T>;
  /** Gate projection of gated MLPs (SwiGLU): out = W_out·(act(gate) ⊙ up). */
  mlpGate?: LinearOf<T>;
  mlpOut: LinearOf<T>;
  /** q | k | v joined column-wise ([in, q + k + v]); the GPU forward pass builds it for a fused projection. */
  qkv?: LinearOf<T>;
}

/** A model's weights by role, whatever holds them: GPU tensors for the forward pass, host arrays for the CPU path. */
export interface ModelWeightsOf<T> {
  /** [vocab, d_model] */
  embed: T;
  /** [n_ctx, d_model], learned positions only. */
  pos?: T;
  layers: LayerWeightsOf<T>[];
  lnFinal: NormOf<T>;
  unembed: LinearOf<T>;
}

export type Linear = LinearOf<GpuTensor>;
export type Norm = NormOf<GpuTensor>;
export type LayerWeights = LayerWeightsOf<GpuTensor>;
export type ModelWeights = ModelWeightsOf<GpuTensor>;

/**
 * Arranges canonical tensors (families/types.ts names; linear weights [in, out]) by role. Tied
 * embeddings without their own W_U read W_E transposed instead of keeping a second copy.
 */
export function assembleWeights<T>(config: ModelConfig, tensors: ReadonlyMap<string, T>): ModelWeightsOf<T> {
  const need = (name: string): T => {
    const t = tensors.get(name);
    if (t === undefined) throw new MissingTensorError(name, 'the loaded weights');
    return t;
  };
  const withOptional = <K extends string>(key: K, value: T | undefined): { [P in K]?: T } =>
    value === undefined ? {} : ({ [key]: value } as { [P in K]?: T });
  const lin = (w: string, b: string): LinearOf<T> => ({ w: need(w), transB: false, ...withOptional('b', tensors.get(b)) });
  const norm = (prefix: string): NormOf<T> => ({ ...withOptional('w', tensors.get(`${prefix}.w`)), ...withOptional('b', tensors.get(`${prefix}.b`)) });
  const layers: LayerWeightsOf<T>[] = [];
  for (let l = 0; l < config.nLayers; l++) {
    const p = `blocks.${l}`;
    const post = (config.sublayerNorms ?? 'pre') !== 'pre';
    layers.push({
      ln1: norm(`${p}.ln1`),
      ...(post ? { ln1Post: norm(`${p}.ln1_post`), ln2Post: norm(`${p}.ln2_post`) } : {}),
      ...(config.qkNorm ? { qNorm: need(`${p}.attn.q_norm.w`), kNorm: need(`${p}.attn.k_norm.w`) } : {}),
      q: lin(`${p}.attn.W_Q`, `${p}.attn.b_Q`),
      k: lin(`${p}.attn.W_K`, `${p}.attn.b_K`),
      v: lin(`${p}.attn.W_V`, `${p}.attn.b_V`),
      o: lin(`${p}.attn.W_O`, `${p}.attn.b_O`),
      ln2: norm(`${p}.ln2`),
      mlpIn: lin(`${p}.mlp.W_in`, `${p}.mlp.b_in`),
      ...(config.mlp.gated ? { mlpGate: lin(`${p}.mlp.W_gate`, `${p}.mlp.b_gate`) } : {}),
      mlpOut: lin(`${p}.mlp.W_out`, `${p}.mlp.b_out`),
    });
  }
  const embed = need('embed.W_E');
  const unembed: LinearOf<T> = tensors.has('unembed.W_U')
    ? lin('unembed.W_U', 'unembed.b_U')
    : { w: embed, transB: true, ...withOptional('b', tensors.get('unembed.b_U')) };
  return { embed, ...withOptional('pos', tensors.get('pos_embed.W_pos')), layers, lnFinal: norm('ln_final'), unembed };
}

/** What the forward pass needs to know of a model; the family specs' ModelConfig provides it. */
export interface EngineConfig {
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  dModel: number;
  dHead: number;
  vocabSize: number;
  nCtx: number;
  norm: 'layernorm' | 'rmsnorm';
  normEps: number;
  /** Added to RMSNorm weights (Gemma stores w − 1); 0 elsewhere. */
  normWeightOffset?: number;
  positional: 'learned' | 'rotary';
  rotary?: { dim: number; style: 'half' | 'interleaved'; invFreq: Float32Array };
  /** Activation of the MLP; gated MLPs apply it to the gate. */
  act: 'gelu_tanh' | 'gelu_erf' | 'silu' | 'relu';
  gatedMlp: boolean;
  parallelResidual: boolean;
  /** Multiplies attention scores; default 1/√d_head. */
  attnScale?: number;
  /** Multiplies token embeddings (Gemma: √d_model). */
  embedScale?: number;
  /** 'pre' (default), 'sandwich' (pre and post norms, Gemma) or 'post' (OLMo-2). */
  sublayerNorms?: 'pre' | 'sandwich' | 'post';
  /** RMSNorm of q and k before rotary, per head or over the whole projection. */
  qkNorm?: 'head' | 'projection';
  /** Attention-logit soft-cap before softmax (Gemma 2). */
  attnSoftcap?: number;
  /** Final-logit soft-cap (Gemma 2). */
  finalSoftcap?: number;
  /** Per-layer window and rotary choice; absent = full attention with `rotary` everywhere. */
  layers?: readonly { window: number | null; rope: 'global' | 'local' | 'none' }[];
  /** Rotary of the 'local' layers. */
  localRotary?: { dim: number; style: 'half' | 'interleaved'; invFreq: Float32Array };
}

/** Layer l's window and rotary choice (the defaults where the config has no per-layer list). */
export function layerAttentionOf(c: EngineConfig, l: number): { window: number | null; rope: 'global' | 'local' | 'none' } {
  return c.layers?.[l] ?? { window: null, rope: c.positional === 'rotary' ? 'global' : 'none' };
}

/**
 * Sliding-window and soft-capped layers keep the materialising attention kernel their conformance was
 * measured on, unless a capture budget needs the online softmax (reductions, or single kept heads).
 */
export function prefersMaterialising(c: EngineConfig, l: number): boolean {
  return layerAttentionOf(c, l).window !== null || c.attnSoftcap !== undefined;
}

export function releaseWeights(w: ModelWeights): void {
  const all: (GpuTensor | undefined)[] = [w.embed, w.pos, w.lnFinal.w, w.lnFinal.b, w.unembed.w, w.unembed.b];
  for (const l of w.layers) {
    all.push(l.ln1.w, l.ln1.b, l.ln2.w, l.ln2.b, l.ln1Post?.w, l.ln2Post?.w, l.qNorm, l.kNorm);
    for (const lin of [l.q, l.k, l.v, l.o, l.mlpIn, l.mlpGate, l.mlpOut, l.qkv]) if (lin) all.push(lin.w, lin.b);
  }
  // Tied embeddings share one buffer: destroy each buffer once.
  const seen = new Set<GPUBuffer>();
  for (const t of all) {
    if (t && !seen.has(t.buffer)) {
      seen.add(t.buffer);
      t.buffer.destroy();
    }
  }
}

/**
 * GPU memory of the loaded weights (each buffer once: a tied unembedding is W_E). The fused QKV copy the
 * forward pass makes of f32 weights is not counted: it is derived, not loaded.
 */
export function weightMemory(w: ModelWeights): WeightMemory {
  const all: (GpuTensor | undefined)[] = [w.embed, w.pos, w.lnFinal.w, w.lnFinal.b, w.unembed.w, w.unembed.b];
  for (const l of w.layers) {
    all.push(l.ln1.w, l.ln1.b, l.ln2.w, l.ln2.b, l.ln1Post?.w, l.ln1Post?.b, l.ln2Post?.w, l.ln2Post?.b, l.qNorm, l.kNorm);
    for (const lin of [l.q, l.k, l.v, l.o, l.mlpIn, l.mlpGate, l.mlpOut]) if (lin) all.push(lin.w, lin.b);
  }
  const seen = new Set<GPUBuffer>();
  const stored: { elements: number; dtype: StoredDtype }[] = [];
  for (const t of all) {
    if (!t || seen.has(t.buffer)) continue;
    seen.add(t.buffer);
    stored.push({ elements: t.size, dtype: t.dtype === 'f16' || t.dtype === 'bf16' ? t.dtype : 'f32' });
  }
  return weightMemoryOf(stored);
}

/** The activation of a gated MLP's gate; no supported family gates with ReLU, so that is refused, not approximated. */
export function gateActivation(act: EngineConfig['act']): 'silu' | 'gelu_tanh' | 'gelu_erf' {
  if (act === 'relu') throw new UnsupportedConfigError('hidden_act (gated MLP)', 'relu', 'silu, gelu, gelu_new (gelu_tanh)');
  return act;
}
