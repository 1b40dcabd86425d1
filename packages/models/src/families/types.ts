/**
 * Model families as data.
 *
 * CANONICAL ORIENTATION — every linear weight is stored [in, out] = [K, N], row-major, so a layer is
 * `y = x · W (+ b)` with x [T, in]: no transposed matmuls anywhere in the forward pass. HF `nn.Linear`
 * stores [out, in] and is transposed on load; GPT-2's Conv1D already stores [in, out]. Attention weights
 * keep the heads flattened on their head side, head-major: W_Q [d_model, n_heads·d_head] with column
 * h·d_head + i = head h, component i (W_K/W_V likewise with n_kv_heads), W_O [n_heads·d_head, d_model] with
 * row h·d_head + i. Embeddings are lookup tables: W_E [vocab, d_model], W_pos [n_ctx, d_model]; the unembed
 * is a linear map like any other: W_U [d_model, vocab] (for tied embeddings it is W_E transposed, built on
 * load). Gated MLPs: hidden = act(x·W_gate) ⊙ (x·W_in), out = hidden·W_out (TransformerLens naming: HF
 * gate_proj → W_gate, up_proj → W_in, down_proj → W_out).
 */

export type FamilyName = 'gpt2' | 'gpt_neox' | 'llama' | 'qwen2' | 'mistral' | 'gemma2' | 'gemma3' | 'qwen3' | 'olmo2' | 'smollm3';

/** Names match the kernels' activation ops (wgpu-kernels activation.ts / gated-product.ts). */
export type Activation = 'gelu_erf' | 'gelu_tanh' | 'silu' | 'relu';

export type RopeScaling =
  | { type: 'none' }
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export interface RotaryConfig {
  /** Rotated components per head (≤ d_head; Pythia rotates only the first rotary_pct of each head). */
  dim: number;
  base: number;
  /** 'half': pairs (i, i + dim/2), HF rotate_half; 'interleaved': pairs (2i, 2i+1) (GPT-J, Meta's layout). */
  style: 'half' | 'interleaved';
  scaling: RopeScaling;
}

/** How one layer's attention differs from the model-wide default (Gemma's local layers, SmolLM3's NoPE layers). */
export interface LayerAttention {
  /** Sliding window: a query sees the `window` most recent keys, itself included; null = full causal attention. */
  window: number | null;
  /** Which rotary embedding the layer applies: the model's `rotary`, `localRotary`, or none (NoPE). */
  rope: 'global' | 'local' | 'none';
}

/** config.json normalised: what the forward pass needs, in one vocabulary for every family. */
export interface ModelConfig {
  family: FamilyName;
  /** The raw model_type ("mistral" keeps its own name although it shares llama's spec). */
  modelType: string;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  dModel: number;
  dHead: number;
  dFF: number;
  vocabSize: number;
  /** Longest sequence the model supports (positions), after any cap the family applies. */
  nCtx: number;
  norm: 'layernorm' | 'rmsnorm';
  normEps: number;
  positional: 'learned' | 'rotary';
  rotary?: RotaryConfig;
  mlp: { gated: boolean; act: Activation };
  /** Pythia: x + attn(ln1(x)) + mlp(ln2(x)); otherwise sequential. */
  parallelResidual: boolean;
  /** b_Q, b_K, b_V exist. */
  qkvBias: boolean;
  /** b_O (attention output projection bias) exists. */
  attnBias: boolean;
  /** b_in, b_out (and b_gate for gated MLPs) exist. */
  mlpBias: boolean;
  /** Norms have a bias (LayerNorm with b). */
  normBias: boolean;
  /** W_U is W_Eᵀ in the checkpoint (the loader still yields unembed.W_U unless skipped). */
  tiedEmbeddings: boolean;
  unembedBias: boolean;
  bosTokenId: number | null;
  /** All ids that end generation. */
  eosTokenIds: number[];
  /** Whether prompts start with BOS by default; the family default, replaced by the tokenizer's finding on load. */
  addBos: boolean;
  /** Weight dtype the checkpoint declares (informative; the loader converts to fp32 whatever it finds). */
  torchDtype: string | null;

  // Features of the newer families (Gemma 2/3, Qwen3, OLMo-2, SmolLM3); absent = off.
  /** RMSNorm weights are stored as w − 1 (Gemma): y = x/rms · (offset + w). */
  normWeightOffset?: number;
  /** Token embeddings are multiplied by this (Gemma: √d_model). */
  embedScale?: number;
  /**
   * Where the sublayer norms sit: 'pre' (default) ln1/ln2 before attention/MLP; 'sandwich' (Gemma) also
   * ln1_post/ln2_post on each sublayer's output before the residual add; 'post' (OLMo-2) only those.
   */
  sublayerNorms?: 'pre' | 'sandwich' | 'post';
  /** RMSNorm of queries and keys before rotary: per head over d_head (Qwen3, Gemma 3) or over the whole projection (OLMo-2). */
  qkNorm?: 'head' | 'projection';
  /** Multiplies attention scores (Gemma: query_pre_attn_scalar^−½); default 1/√d_head. */
  attnScale?: number;
  /** Attention-logit soft-capping (Gemma 2): scores become cap·tanh(score/cap) before softmax. */
  attnSoftcap?: number;
  /** Final-logit soft-capping (Gemma 2). */
  finalSoftcap?: number;
  /** Per layer, when layers differ; absent = every layer full attention with `rotary`. */
  layerAttention?: LayerAttention[];
  /** The rotary of 'local' layers (Gemma 3's sliding layers, base 10 000). */
  localRotary?: RotaryConfig;
}

/**
 * How one canonical tensor comes out of one checkpoint tensor. Shapes are the source's: 'transpose' turns
 * [a, b] into [b, a]; 'split' takes one part along `axis` of a fused tensor (then optionally transposes).
 * 'blocked' fused layout: parts one after another ([q all heads | k | v]); 'per-head': for each head the
 * parts in turn ([q_h | k_h | v_h] per head h, each `headDim` wide: GPT-NeoX's query_key_value).
 */
export type TensorTransform =
  | { kind: 'copy' }
  | { kind: 'transpose' }
  | { kind: 'split'; axis: 0 | 1; layout: 'blocked'; sizes: number[]; index: number; transpose: boolean }
  | { kind: 'split'; axis: 0 | 1; layout: 'per-head'; nHeads: number; headDim: number; parts: number; index: number; transpose: boolean };

export interface TensorMapping {
  /** e.g. "blocks.3.attn.W_Q". */
  canonical: string;
  /** Checkpoint names to try, in order; the first present is used (prefix variants of one tensor). */
  source: string[];
  /** The checkpoint tensor's shape as config.json implies it. */
  sourceShape: number[];
  transform: TensorTransform;
  /** The canonical shape (what the transform produces, also checked against canonicalShape()). */
  shape: number[];
}

export interface FamilySpec {
  family: FamilyName;
  /** model_type values in config.json this spec reads. */
  modelTypes: readonly string[];
  /** Parses config.json (already JSON-parsed) into ModelConfig; throws InvalidConfigError/UnsupportedConfigError. */
  parseConfig(raw: unknown): ModelConfig;
  /** Every canonical tensor the forward pass needs, with where it comes from. */
  tensors(config: ModelConfig): TensorMapping[];
}
