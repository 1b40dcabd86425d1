import type { GpuContext, GpuTensor } from '@headscope/wgpu-kernels';
import type { EngineConfig, ModelWeights, Norm } from './weights.js';

/** A host matrix, row-major. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

/** One query head's weights in the canonical orientation (x·W): W_Q/W_K/W_V [d_model, d_head], W_O [d_head, d_model]. */
export interface HeadWeights {
  layer: number;
  head: number;
  /** The KV head this query head reads (grouped-query attention). */
  kvHead: number;
  W_Q: Matrix;
  W_K: Matrix;
  W_V: Matrix;
  W_O: Matrix;
  b_Q?: Float32Array;
  b_K?: Float32Array;
  b_V?: Float32Array;
}

export interface NormWeights {
  w?: Float32Array;
  b?: Float32Array;
}

export interface MlpWeights {
  W_in: Matrix;
  W_gate?: Matrix;
  W_out: Matrix;
  b_in?: Float32Array;
  b_gate?: Float32Array;
  b_out?: Float32Array;
}

/**
 * Reads weights back from the GPU for weight-space analyses (successor heads, OV/QK circuits). Nothing is
 * kept on the host beyond what is returned; large matrices (W_E, W_U) are read on request only.
 */
export class WeightAccess {
  constructor(
    private readonly ctx: GpuContext,
    private readonly config: EngineConfig,
    private readonly weights: ModelWeights,
  ) {}

  kvHeadOf(head: number): number {
    return Math.floor((head * this.config.nKvHeads) / this.config.nHeads);
  }

  /** Token embedding W_E [vocab, d_model]. */
  async embedding(): Promise<Matrix> {
    const { vocabSize, dModel } = this.config;
    return { rows: vocabSize, cols: dModel, data: await this.ctx.readF32(this.weights.embed) };
  }

  /** One token's embedding row. */
  async embeddingRow(token: number): Promise<Float32Array> {
    const d = this.config.dModel;
    return this.ctx.readF32(this.weights.embed, token * d, d);
  }

  /** Learned position embeddings W_pos [n_ctx, d_model], or undefined (rotary families). */
  async positionEmbedding(): Promise<Matrix | undefined> {
    const pos = this.weights.pos;
    return pos ? { rows: pos.shape[0]!, cols: this.config.dModel, data: await this.ctx.readF32(pos) } : undefined;
  }

  /** Unembedding W_U [d_model, vocab] (for tied models the transpose of W_E). */
  async unembedding(): Promise<Matrix> {
    const { vocabSize, dModel } = this.config;
    const u = this.weights.unembed;
    const data = await this.ctx.readF32(u.w);
    return { rows: dModel, cols: vocabSize, data: u.transB ? transpose(data, vocabSize, dModel) : data };
  }

  async unembeddingBias(): Promise<Float32Array | undefined> {
    return this.weights.unembed.b ? this.ctx.readF32(this.weights.unembed.b) : undefined;
  }

  async head(layer: number, head: number): Promise<HeadWeights> {
    const c = this.config;
    if (layer < 0 || layer >= c.nLayers) throw new RangeError(`layer ${layer}: the model has layers 0..${c.nLayers - 1}`);
    if (head < 0 || head >= c.nHeads) throw new RangeError(`head ${head}: the model has heads 0..${c.nHeads - 1}`);
    const lw = this.weights.layers[layer]!;
    const dh = c.dHead;
    const kv = this.kvHeadOf(head);
    const [q, k, v, o] = await Promise.all([lw.q.w, lw.k.w, lw.v.w, lw.o.w].map((t) => this.ctx.readF32(t)));
    const bias = async (t: GpuTensor | undefined, h: number) => (t ? this.ctx.readF32(t, h * dh, dh) : undefined);
    const [bQ, bK, bV] = await Promise.all([bias(lw.q.b, head), bias(lw.k.b, kv), bias(lw.v.b, kv)]);
    return {
      layer,
      head,
      kvHead: kv,
      W_Q: columns(q!, c.dModel, c.nHeads * dh, head * dh, dh),
      W_K: columns(k!, c.dModel, c.nKvHeads * dh, kv * dh, dh),
      W_V: columns(v!, c.dModel, c.nKvHeads * dh, kv * dh, dh),
      W_O: { rows: dh, cols: c.dModel, data: o!.slice(head * dh * c.dModel, (head + 1) * dh * c.dModel) },
      ...(bQ ? { b_Q: bQ } : {}),
      ...(bK ? { b_K: bK } : {}),
      ...(bV ? { b_V: bV } : {}),
    };
  }

  async attentionOutputBias(layer: number): Promise<Float32Array | undefined> {
    const b = this.weights.layers[layer]?.o.b;
    return b ? this.ctx.readF32(b) : undefined;
  }

  async mlp(layer: number): Promise<MlpWeights> {
    const lw = this.weights.layers[layer];
    if (!lw) throw new RangeError(`layer ${layer}: the model has layers 0..${this.config.nLayers - 1}`);
    const d = this.config.dModel;
    const read = (t: GpuTensor | undefined) => (t ? this.ctx.readF32(t) : Promise.resolve(undefined));
    const [win, wgate, wout, bin, bgate, bout] = await Promise.all([
      read(lw.mlpIn.w),
      read(lw.mlpGate?.w),
      read(lw.mlpOut.w),
      read(lw.mlpIn.b),
      read(lw.mlpGate?.b),
      read(lw.mlpOut.b),
    ]);
    const ff = win!.length / d;
    return {
      W_in: { rows: d, cols: ff, data: win! },
      ...(wgate ? { W_gate: { rows: d, cols: ff, data: wgate } } : {}),
      W_out: { rows: ff, cols: d, data: wout! },
      ...(bin ? { b_in: bin } : {}),
      ...(bgate ? { b_gate: bgate } : {}),
      ...(bout ? { b_out: bout } : {}),
    };
  }

  /** ln1 / ln2 (or the post-sublayer norms ln1Post / ln2Post of Gemma and OLMo-2) of a layer, or the final norm (layer = 'final'). */
  async norm(layer: number | 'final', which: 'ln1' | 'ln2' | 'ln1Post' | 'ln2Post' = 'ln1'): Promise<NormWeights> {
    const lw = layer === 'final' ? undefined : this.weights.layers[layer];
    if (layer !== 'final' && !lw) throw new RangeError(`layer ${layer}: the model has layers 0..${this.config.nLayers - 1}`);
    const n: Norm | undefined = layer === 'final' ? this.weights.lnFinal : lw?.[which];
    if (!n) throw new RangeError(`layer ${layer} has no ${which} norm`);
    const [w, b] = await Promise.all([n.w ? this.ctx.readF32(n.w) : undefined, n.b ? this.ctx.readF32(n.b) : undefined]);
    return { ...(w ? { w } : {}), ...(b ? { b } : {}) };
  }
}

function columns(m: Float32Array, rows: number, cols: number, start: number, width: number): Matrix {
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(m.subarray(r * cols + start, r * cols + start + width), r * width);
  return { rows, cols: width, data: out };
}

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}
