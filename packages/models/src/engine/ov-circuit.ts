import {
  addInto,
  embedding,
  type GpuContext,
  type GpuTensor,
  type GroupLayout,
  gatherColumns,
  groupedHeadLogits,
  groupLayout,
  matmul,
} from '@headscope/wgpu-kernels';
import type { Transformer } from './forward.js';

/**
 * What stands for a token t before the heads read it (methods.md §5): layer 0's MLP on its own normed
 * input `MLP0(LN2⁰(W_E[t]))` (default; parallel-residual families feed their MLP the same way; W_E is scaled
 * and the MLP's output normed where the family's forward pass does so), that
 * plus the residual `W_E[t]`, or the raw embedding.
 */
export type EffectiveEmbedding = 'mlp0' | 'mlp0+embedding' | 'embedding';

export const EFFECTIVE_EMBEDDINGS: readonly EffectiveEmbedding[] = ['mlp0', 'mlp0+embedding', 'embedding'];

export interface OvCircuitOptions {
  /** Default 'mlp0'. */
  embedding?: EffectiveEmbedding;
  /** Add b_V, the layer's b_O and b_U (default false: W_V^h W_O^h and W_U only). */
  biases?: boolean;
  /** Pass E through the head's own layer norm (ln1 of its layer) before W_V (default false; post-norm families have none). */
  headNorm?: boolean;
}

export interface OvCircuitInput {
  /** Distinct token ids. */
  tokens: readonly number[];
  /** Groups of indices into `tokens`; each token of a group is scored against the group's tokens only. */
  groups: readonly (readonly number[])[];
}

/**
 * The OV circuit of every head restricted to token groups: logits[t, j] = E_t · W_V^h · W_O^h · W_U[:, j]
 * for t, j in the same group, and each row's argmax. Everything stays on the GPU except the argmaxes
 * (a few KB); one head's block is read back on request.
 */
export class OvCircuit {
  constructor(
    private readonly ctx: GpuContext,
    readonly nLayers: number,
    readonly nHeads: number,
    readonly layout: GroupLayout,
    /** [L, H, R] column number (within its group) of each row's largest logit. */
    readonly argmax: Uint32Array,
    private logits: GpuTensor | undefined,
  ) {}

  get rows(): number {
    return this.layout.rows.length / 4;
  }

  /** Argmax (index within the group) of the group's row `r` for head (layer, head). */
  argmaxOf(layer: number, head: number, group: number, r: number): number {
    const g = this.layout.groups[group]!;
    return this.argmax[(layer * this.nHeads + head) * this.rows + g.firstRow + r]!;
  }

  /** One head's n_g × n_g logits of a group (rows: tokens of the group, columns: the same tokens). */
  async block(layer: number, head: number, group: number): Promise<Float32Array> {
    if (!this.logits) throw new Error('this OV circuit was released');
    if (!(layer >= 0 && layer < this.nLayers && head >= 0 && head < this.nHeads)) throw new RangeError(`head L${layer}H${head} is outside the model`);
    const g = this.layout.groups[group];
    if (!g) throw new RangeError(`group ${group}: there are ${this.layout.groups.length}`);
    return this.ctx.readF32(this.logits, (layer * this.nHeads + head) * this.layout.blockSize + g.blockStart, g.size * g.size);
  }

  release(): void {
    this.ctx.release(this.logits);
    this.logits = undefined;
  }
}

/** Computes the restricted OV circuit of every head with the engine's kernels; no weight matrix leaves the GPU. */
export async function ovCircuit(transformer: Transformer, input: OvCircuitInput, options: OvCircuitOptions = {}): Promise<OvCircuit> {
  const { ctx, config: c, weights: w } = transformer;
  const { tokens, groups } = input;
  const N = tokens.length;
  if (N === 0) throw new RangeError('the OV circuit needs at least one token');
  for (const t of tokens)
    if (!(Number.isInteger(t) && t >= 0 && t < c.vocabSize)) throw new RangeError(`token id ${t} is outside the vocabulary (0..${c.vocabSize - 1})`);
  for (const g of groups) for (const i of g) if (!(Number.isInteger(i) && i >= 0 && i < N)) throw new RangeError(`group index ${i} is outside the ${N} tokens`);
  const variant = options.embedding ?? 'mlp0';
  const temps: GpuTensor[] = [];
  const tmp = (t: GpuTensor): GpuTensor => {
    temps.push(t);
    return t;
  };

  const ids = tmp(ctx.upload(Uint32Array.from(tokens), [N], 'ov.ids'));
  // As the forward pass: W_E scaled where the family does (Gemma), the MLP block's own norms around it.
  const emb = tmp(embedding(ctx, { ids, table: w.embed, ...(c.embedScale !== undefined ? { scale: c.embedScale } : {}) }));
  const preNorms = (c.sublayerNorms ?? 'pre') !== 'post';
  const l0 = w.layers[0]!;
  let E = emb;
  if (variant !== 'embedding') {
    E = tmp(transformer.mlp(preNorms ? tmp(transformer.norm(emb, l0.ln2)) : emb, 0));
    if (l0.ln2Post) E = tmp(transformer.norm(E, l0.ln2Post));
    if (variant === 'mlp0+embedding') addInto(ctx, E, emb);
  }
  // W_U[:, tokens] as rows [N, d]: a tied (or [vocab, d]) unembedding is gathered like W_E.
  const u = w.unembed;
  const U = tmp(u.transB ? embedding(ctx, { ids, table: u.w }) : gatherColumns(ctx, { table: u.w, ids }));
  const bU = options.biases && u.b ? tmp(embedding(ctx, { ids, table: u.b.reshape([u.b.size, 1]) })) : undefined;

  const layout = groupLayout(groups);
  const R = layout.rows.length / 4;
  const H = c.nHeads;
  const rows = tmp(ctx.upload(layout.rows, [R * 4], 'ov.rows'));
  const cols = tmp(ctx.upload(layout.cols.length ? layout.cols : new Uint32Array(1), [Math.max(1, layout.cols.length)], 'ov.cols'));
  const logits = ctx.createTensor([Math.max(1, c.nLayers * H * layout.blockSize)], 'f32', 'ov.logits');
  const argmax = tmp(ctx.createTensor([Math.max(1, c.nLayers * H * R)], 'u32', 'ov.argmax'));
  for (let l = 0; l < c.nLayers && R > 0; l++) {
    const lw = w.layers[l]!;
    if (lw.o.transB || lw.v.transB) throw new Error('the OV circuit expects W_V and W_O stored [in, out]');
    const x = options.headNorm && preNorms ? tmp(transformer.norm(E, lw.ln1)) : E;
    const V = tmp(matmul(ctx, { a: x, b: lw.v.w, ...(options.biases && lw.v.b ? { bias: lw.v.b } : {}) }));
    const OU = tmp(matmul(ctx, { a: lw.o.w, b: U, transB: true }));
    let colBias = bU;
    if (options.biases && lw.o.b) {
      colBias = tmp(matmul(ctx, { a: lw.o.b.reshape([1, c.dModel]), b: U, transB: true }));
      if (bU) addInto(ctx, colBias, bU);
    }
    groupedHeadLogits(ctx, {
      v: V,
      ou: OU,
      rows,
      cols,
      ...(colBias ? { colBias: colBias.reshape([N]) } : {}),
      numHeads: H,
      numKvHeads: c.nKvHeads,
      headDim: c.dHead,
      blockSize: layout.blockSize,
      logits,
      logitsOffset: l * H * layout.blockSize,
      argmax,
      argmaxOffset: l * H * R,
    });
  }
  const best = R > 0 ? await ctx.readU32(argmax, 0, c.nLayers * H * R) : new Uint32Array(0);
  ctx.release(...temps);
  return new OvCircuit(ctx, c.nLayers, H, layout, best, logits);
}
