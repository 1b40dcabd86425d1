import type { GpuTensor } from '@headscope/wgpu-kernels';

/** A linear map y = x·W (+ b). `transB` says W is stored [out, in] (HF nn.Linear) rather than [in, out]. */
export interface Linear {
  w: GpuTensor;
  transB: boolean;
  b?: GpuTensor;
}

export interface Norm {
  w?: GpuTensor;
  b?: GpuTensor;
}

export interface LayerWeights {
  ln1: Norm;
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
  ln2: Norm;
  /** Up projection (the only input projection for non-gated MLPs). */
  mlpIn: Linear;
  /** Gate projection of gated MLPs (SwiGLU): out = W_out·(act(gate) ⊙ up). */
  mlpGate?: Linear;
  mlpOut: Linear;
}

export interface ModelWeights {
  /** [vocab, d_model] */
  embed: GpuTensor;
  /** [n_ctx, d_model], learned positions only. */
  pos?: GpuTensor;
  layers: LayerWeights[];
  lnFinal: Norm;
  unembed: Linear;
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
}

export function releaseWeights(w: ModelWeights): void {
  const all: (GpuTensor | undefined)[] = [w.embed, w.pos, w.lnFinal.w, w.lnFinal.b, w.unembed.w, w.unembed.b];
  for (const l of w.layers) {
    all.push(l.ln1.w, l.ln1.b, l.ln2.w, l.ln2.b);
    for (const lin of [l.q, l.k, l.v, l.o, l.mlpIn, l.mlpGate, l.mlpOut]) if (lin) all.push(lin.w, lin.b);
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
