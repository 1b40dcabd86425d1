/**
 * Per-head direct logit attribution and attention at the last position of short prompts, with the engine's
 * kernels (the behavioural check of successor heads, methods.md §5).
 *
 * A head's direct logit attribution to token j is its output at the last position, o = z·W_O^h (no b_O),
 * taken through the final norm as a linear map — centred for LayerNorm, times the norm's weight, divided
 * by the norm's own denominator σ at that position in this pass (no norm bias) — and read against W_U[:, j]
 * (no b_U). Families with a post-attention norm (Gemma, OLMo-2) also take its weight; its per-position
 * 1/rms is left out (a positive factor per layer and prompt: it never changes which token a head favours).
 * Only per-head numbers (and a few unembedding columns) come back from the GPU.
 */
import { embedding, type GpuTensor, gatherColumns, groupedHeadLogits, matmul } from '@headscope/wgpu-kernels';
import type { LastPosition, Transformer } from './forward.js';
import type { Norm } from './weights.js';

export interface AttributionPrompt {
  tokens: readonly number[];
  /** Tokens each head's output is read against; the same count for every prompt. */
  targets: readonly number[];
}

export interface LastPositionAttribution {
  /** Per prompt: [L, H, T] the last position's attention over the prompt's keys. */
  attention: Float32Array[];
  /** Per prompt: [L, H, K] each head's direct logit attribution to each target. */
  dla: Float32Array[];
  /** Per prompt: the final norm's denominator σ at the last position. */
  finalScale: number[];
}

export interface AttributionRunOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Runs each prompt once and attributes its last position's logits to every head. */
export async function lastPositionAttribution(
  transformer: Transformer,
  prompts: readonly AttributionPrompt[],
  options: AttributionRunOptions = {},
): Promise<LastPositionAttribution> {
  const { ctx, config: c, weights: w } = transformer;
  const P = prompts.length;
  if (P === 0) return { attention: [], dla: [], finalScale: [] };
  const K = prompts[0]!.targets.length;
  if (K === 0 || prompts.some((p) => p.targets.length !== K)) throw new RangeError('every prompt needs the same number (≥ 1) of targets');
  const H = c.nHeads;
  const width = H * c.dHead;
  const temps: GpuTensor[] = [];
  const tmp = (t: GpuTensor): GpuTensor => {
    temps.push(t);
    return t;
  };
  try {
    const lasts: LastPosition[] = [];
    const attnSize = prompts.reduce((a, p) => a + c.nLayers * H * p.tokens.length, 0);
    const attention = tmp(ctx.createTensor([attnSize], 'f32', 'dla.attention'));
    const residual = tmp(ctx.createTensor([P, c.dModel], 'f32', 'dla.residual'));
    let at = 0;
    for (let p = 0; p < P; p++) {
      options.signal?.throwIfAborted();
      const r = transformer.forward(prompts[p]!.tokens, { logits: 'last', keepLast: true });
      const last = r.last!;
      temps.push(last.heads, last.attention, last.residual);
      lasts.push(last);
      ctx.copy(last.attention, attention, 0, at, last.attention.size);
      ctx.copy(last.residual, residual, 0, p * c.dModel, c.dModel);
      at += last.attention.size;
      ctx.release(r.logits);
      r.attention.release();
      if (options.onProgress || options.signal) {
        // A caller that watches progress or may cancel (the app's worker) gets the event loop between
        // prompts, so a cancel message can arrive; others record every pass at once.
        options.onProgress?.(p + 1, P);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }

    // The targets' unembedding columns [P·K, d], read back (a few KB) to fold the norms' weights in.
    const ids = tmp(ctx.upload(Uint32Array.from(prompts.flatMap((p) => p.targets)), [P * K], 'dla.ids'));
    const u = w.unembed;
    const U = tmp(u.transB ? embedding(ctx, { ids, table: u.w }) : gatherColumns(ctx, { table: u.w, ids }));
    const [Uh, residualH, finalW] = await Promise.all([ctx.readF32(U), ctx.readF32(residual), normWeight(transformer, w.lnFinal)]);
    const d = c.dModel;
    const base = new Float32Array(P * K * d);
    for (let r = 0; r < P * K; r++) {
      let mean = 0;
      for (let i = 0; i < d; i++) {
        const v = finalW[i]! * Uh[r * d + i]!;
        base[r * d + i] = v;
        mean += v / d;
      }
      if (c.norm === 'layernorm') for (let i = 0; i < d; i++) base[r * d + i] = base[r * d + i]! - mean;
    }
    const finalScale = Array.from({ length: P }, (_, p) => normDenominator(residualH.subarray(p * d, (p + 1) * d), c.norm, c.normEps));

    // groupedHeadLogits with one row per prompt (row p·K of Z holds z_p) and its K target columns.
    const rowInfo = new Uint32Array(P * 4);
    for (let p = 0; p < P; p++) rowInfo.set([p * K, p * K, K, p * K], p * 4);
    const rows = tmp(ctx.upload(rowInfo, [P * 4], 'dla.rows'));
    const cols = tmp(
      ctx.upload(
        Uint32Array.from({ length: P * K }, (_, i) => i),
        [P * K],
        'dla.cols',
      ),
    );
    const logits = tmp(ctx.createTensor([c.nLayers * H * P * K], 'f32', 'dla.logits'));
    const argmax = tmp(ctx.createTensor([c.nLayers * H * P], 'u32', 'dla.argmax'));
    let shared: GpuTensor | undefined;
    for (let l = 0; l < c.nLayers; l++) {
      const lw = w.layers[l]!;
      if (lw.o.transB) throw new Error('direct logit attribution expects W_O stored [in, out]');
      let C: GpuTensor;
      if (lw.ln1Post) {
        const post = await normWeight(transformer, lw.ln1Post);
        const scaled = base.map((v, i) => v * post[i % d]!);
        C = tmp(ctx.upload(scaled, [P * K, d], `dla.C${l}`));
      } else {
        shared ??= tmp(ctx.upload(base, [P * K, d], 'dla.C'));
        C = shared;
      }
      const Z = tmp(ctx.createTensor([P * K, width], 'f32', `dla.Z${l}`));
      lasts.forEach((last, p) => {
        ctx.copy(last.heads, Z, l * width, p * K * width, width);
      });
      const OU = tmp(matmul(ctx, { a: lw.o.w, b: C, transB: true }));
      groupedHeadLogits(ctx, {
        v: Z,
        ou: OU,
        rows,
        cols,
        numHeads: H,
        numKvHeads: H,
        headDim: c.dHead,
        blockSize: P * K,
        logits,
        logitsOffset: l * H * P * K,
        argmax,
        argmaxOffset: l * H * P,
      });
    }
    const [all, attn] = await Promise.all([ctx.readF32(logits), ctx.readF32(attention)]);
    const dla: Float32Array[] = [];
    const attentionOut: Float32Array[] = [];
    at = 0;
    for (let p = 0; p < P; p++) {
      const out = new Float32Array(c.nLayers * H * K);
      for (let l = 0; l < c.nLayers; l++)
        for (let h = 0; h < H; h++) for (let k = 0; k < K; k++) out[(l * H + h) * K + k] = all[(l * H + h) * P * K + p * K + k]! / finalScale[p]!;
      dla.push(out);
      const n = c.nLayers * H * prompts[p]!.tokens.length;
      attentionOut.push(attn.slice(at, at + n));
      at += n;
    }
    return { attention: attentionOut, dla, finalScale };
  } finally {
    ctx.release(...temps);
  }
}

/** A norm's effective weight on the host (d values; 1 where it has none; Gemma's offset added). */
async function normWeight(transformer: Transformer, n: Norm): Promise<Float32Array> {
  const c = transformer.config;
  const offset = c.norm === 'rmsnorm' ? (c.normWeightOffset ?? 0) : 0;
  if (!n.w) return new Float32Array(c.dModel).fill(1);
  const wv = await transformer.ctx.readF32(n.w);
  return offset ? wv.map((v) => v + offset) : wv;
}

/** σ of a norm over one row: √(var + eps) for LayerNorm, √(mean square + eps) for RMSNorm. */
export function normDenominator(x: ArrayLike<number>, norm: 'layernorm' | 'rmsnorm', eps: number): number {
  const d = x.length;
  let mean = 0;
  if (norm === 'layernorm') for (let i = 0; i < d; i++) mean += x[i]! / d;
  let sq = 0;
  for (let i = 0; i < d; i++) sq += (x[i]! - mean) ** 2 / d;
  return Math.sqrt(sq + eps);
}
