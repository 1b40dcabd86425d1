import {
  ACT_PARAMS_PER_HEAD,
  type AttentionStats,
  addInto,
  attention,
  concatColumns,
  embedding,
  flashAttention,
  type GpuContext,
  type GpuTensor,
  gatedProduct,
  headScale,
  layerNorm,
  type MatmulArgs,
  matmul,
  rmsNorm,
  rotaryPair,
  rotaryTables,
  softcap,
  splitColumns,
} from '@headscope/wgpu-kernels';
import { ContextLengthError } from '../errors.js';
import { AttentionStore, type CapturedLayer } from './attention-store.js';
import { type CaptureSpec, resolveCapture, resolveHeads, resolveStatsOnly } from './captured-maps.js';
import { compileInterventions, type Intervention } from './interventions.js';
import { checkRunCost, estimateRunCost, type RunCost, type RunShape, scoresFitScratch } from './run-cost.js';
import {
  type EngineConfig,
  gateActivation,
  type LayerWeights,
  type Linear,
  layerAttentionOf,
  type ModelWeights,
  type Norm,
  prefersMaterialising,
} from './weights.js';

export type { CaptureSpec } from './captured-maps.js';

export interface ForwardOptions {
  capture?: CaptureSpec;
  interventions?: readonly Intervention[];
  /** Continue from (and extend) this cache: the tokens are positions cache.length … cache.length+T−1. */
  cache?: KvCache;
  /**
   * Logits of every position (analysis), only the last (decoding), or none: 'none' returns the final norm's
   * rows instead, and `logitsOf` makes the logits of the positions someone looks at (the app). Default 'all'.
   */
  logits?: 'all' | 'last' | 'none';
  /** Refuse (RunTooLargeError) when the estimated GPU memory of the pass exceeds this many bytes. */
  memoryBudgetBytes?: number;
  /** Keep the last position's per-head outputs, attention rows and final residual (direct logit attribution). */
  keepLast?: boolean;
}

/** The last position of a pass, per layer, on the GPU (ForwardOptions.keepLast); the caller releases the tensors. */
export interface LastPosition {
  /** [L, H·d_head]: each head's attention output (A·V, before W_O). */
  heads: GpuTensor;
  /** [L, H, Tk]: each head's attention row (left unwritten for layers not captured). */
  attention: GpuTensor;
  /** [1, d_model]: the residual stream entering the final norm. */
  residual: GpuTensor;
}

export interface ForwardResult {
  /** [T, vocab] or [1, vocab] (logits: 'last'); the caller releases it. */
  logits: GpuTensor;
  attention: AttentionStore;
  last?: LastPosition;
}

/** A pass run with logits: 'none'. */
export interface DeferredForwardResult extends Omit<ForwardResult, 'logits'> {
  /** [T, d_model], the final norm's output: `logitsOf` turns rows of it into logits. The caller releases it. */
  final: GpuTensor;
}

/**
 * Passes of this many tokens or more submit after EARLY_SUBMIT_DISPATCHES (the embedding and about one
 * layer): the GPU bounds them, so it should start at once. Shorter ones are bound by recording, where
 * another submit (~0.4 ms of CPU on the H200 host) would only add to it.
 */
const EARLY_SUBMIT_MIN_TOKENS = 256;
const EARLY_SUBMIT_DISPATCHES = 16;

/** Keys and values of every layer for the positions seen so far, on the GPU. */
export class KvCache {
  length = 0;
  constructor(
    readonly k: GpuTensor[],
    readonly v: GpuTensor[],
    readonly capacity: number,
  ) {}
}

/**
 * The decoder-only forward pass built from the kernels, the same for every family: the family spec only
 * decides the flags in EngineConfig (norm kind, positions, MLP kind, parallel residual) and the weights.
 */
export class Transformer {
  /** cos/sin tables [n_ctx, rotary/2] of the global rotary and, for Gemma 3's local layers, the local one. */
  private readonly tables: { global?: { cos: GpuTensor; sin: GpuTensor }; local?: { cos: GpuTensor; sin: GpuTensor } } = {};
  /**
   * Map buffers of released captures, reused by the next pass that needs the same size: creating a pass's
   * maps anew (~600 MB at T = 1024 for GPT-2, more than the pool keeps) cost more than the pass itself.
   * Those the next pass does not reuse go back to the pool then.
   */
  private spareMaps: GpuTensor[] = [];

  constructor(
    readonly ctx: GpuContext,
    readonly config: EngineConfig,
    readonly weights: ModelWeights,
  ) {
    if (config.positional === 'rotary') {
      if (!config.rotary) throw new Error('rotary positions need config.rotary');
      this.tables.global = this.uploadTables(config.rotary.invFreq, 'rotary');
      if (config.localRotary) this.tables.local = this.uploadTables(config.localRotary.invFreq, 'rotary.local');
    }
    for (const lw of weights.layers) lw.qkv ??= fuseQkv(ctx, lw);
  }

  private uploadTables(invFreq: Float32Array, label: string): { cos: GpuTensor; sin: GpuTensor } {
    const { nCtx } = this.config;
    const t = rotaryTables(invFreq, nCtx);
    const half = invFreq.length;
    return { cos: this.ctx.upload(t.cos, [nCtx, half], `${label}.cos`), sin: this.ctx.upload(t.sin, [nCtx, half], `${label}.sin`) };
  }

  createCache(capacity = this.config.nCtx): KvCache {
    const c = this.config;
    const width = c.nKvHeads * c.dHead;
    const k: GpuTensor[] = [];
    const v: GpuTensor[] = [];
    for (let l = 0; l < c.nLayers; l++) {
      k.push(this.ctx.createTensor([capacity, width], 'f32', `kv.k${l}`));
      v.push(this.ctx.createTensor([capacity, width], 'f32', `kv.v${l}`));
    }
    return new KvCache(k, v, capacity);
  }

  /** The shapes the run-cost estimate needs (d_ff from the MLP weights). */
  get runShape(): RunShape {
    const c = this.config;
    const dFF = this.weights.layers[0]?.mlpIn.w.shape[1] ?? 0;
    return { nLayers: c.nLayers, nHeads: c.nHeads, nKvHeads: c.nKvHeads, dModel: c.dModel, dHead: c.dHead, dFF, vocabSize: c.vocabSize, gatedMlp: c.gatedMlp };
  }

  /** What `forward` with these options will allocate, before running it. */
  estimate(tokens: number, options: Pick<ForwardOptions, 'capture' | 'logits' | 'cache'> = {}): RunCost {
    return estimateRunCost(this.runShape, {
      tokens,
      past: options.cache?.length ?? 0,
      ...(options.capture ? { capture: options.capture } : {}),
      ...(options.logits ? { logits: options.logits } : {}),
    });
  }

  releaseCache(cache: KvCache): void {
    this.ctx.release(...cache.k, ...cache.v);
  }

  forward(ids: readonly number[], options: ForwardOptions & { logits: 'none' }): DeferredForwardResult;
  forward(ids: readonly number[], options?: ForwardOptions & { logits?: 'all' | 'last' }): ForwardResult;
  forward(ids: readonly number[], options: ForwardOptions = {}): ForwardResult | DeferredForwardResult {
    const { ctx, config: c, weights: w } = this;
    const T = ids.length;
    if (T === 0) throw new RangeError('forward needs at least one token');
    const cache = options.cache;
    const past = cache?.length ?? 0;
    const total = past + T;
    if (total > c.nCtx) throw new ContextLengthError(total, c.nCtx);
    if (cache && total > cache.capacity) throw new ContextLengthError(total, cache.capacity);
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new RangeError(`token id ${id} is outside the vocabulary (0..${c.vocabSize - 1})`);
    }

    const limits = ctx.limits;
    checkRunCost(this.estimate(T, options), Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize), options.memoryBudgetBytes);
    const captureLayers = resolveCapture(options.capture, c.nLayers);
    const statsLayers = resolveStatsOnly(options.capture, c.nLayers);
    const keptHeads = resolveHeads(options.capture, c.nHeads);
    const hooks = compileInterventions(options.interventions ?? [], c.nLayers, c.nHeads, total, { prefill: past === 0 });
    const temps: GpuTensor[] = [];
    const tmp = (t: GpuTensor) => {
      temps.push(t);
      return t;
    };

    // Long passes are GPU-bound: submit the first layer early so the GPU starts while the rest is recorded.
    if (T >= EARLY_SUBMIT_MIN_TOKENS) ctx.flushAfter(EARLY_SUBMIT_DISPATCHES);
    const idsT = tmp(ctx.upload(Uint32Array.from(ids), [T], 'ids'));
    const x = embedding(ctx, {
      ids: idsT,
      table: w.embed,
      ...(w.pos ? { positions: { table: w.pos, offset: past } } : {}),
      ...(c.embedScale !== undefined ? { scale: c.embedScale } : {}),
    });
    const captured = new Map<number, CapturedLayer>();
    const keep: LastPosition | undefined = options.keepLast
      ? {
          heads: ctx.createTensor([c.nLayers, c.nHeads * c.dHead], 'f32', 'last.heads'),
          attention: ctx.createTensor([c.nLayers, c.nHeads, total], 'f32', 'last.attention'),
          residual: ctx.createTensor([1, c.dModel], 'f32', 'last.residual'),
        }
      : undefined;
    const statsOnly = new Map<number, AttentionStats>();
    const headMaps = new Map<number, Map<number, GpuTensor>>();
    const preNorms = (c.sublayerNorms ?? 'pre') !== 'post';
    // Layers without maps or reductions write their probabilities here (one buffer for the whole pass).
    let scores: GpuTensor | undefined;
    const plainScores = scoresFitScratch(c.nHeads, T, total);

    for (let l = 0; l < c.nLayers; l++) {
      const lw = w.layers[l]!;
      const la = layerAttentionOf(c, l);
      const h = preNorms ? tmp(this.norm(x, lw.ln1)) : x;
      const [q0, k0, v] = this.projectQkv(h, lw).map(tmp) as [GpuTensor, GpuTensor, GpuTensor];
      let q = q0;
      let k = k0;
      if (lw.qNorm && lw.kNorm) {
        q = tmp(this.qkNorm(q, lw.qNorm, c.nHeads));
        k = tmp(this.qkNorm(k, lw.kNorm, c.nKvHeads));
      }
      const table = la.rope === 'none' ? undefined : la.rope === 'local' ? this.tables.local : this.tables.global;
      if (table) {
        const r = la.rope === 'local' ? c.localRotary! : c.rotary!;
        rotaryPair(ctx, {
          q,
          k,
          numHeads: c.nHeads,
          numKvHeads: c.nKvHeads,
          headDim: c.dHead,
          cos: table.cos,
          sin: table.sin,
          positionOffset: past,
          rotaryDim: r.dim,
          style: r.style,
        });
      }
      const lh = hooks.get(l);
      // A head masked to uniform attention: a zero query gives every visible key the same score.
      if (lh?.queryScale) headScale(ctx, { x: q, scales: tmp(ctx.upload(lh.queryScale, [c.nHeads], 'queryScale')), headDim: c.dHead, out: q });
      let keys = k;
      let values = v;
      if (cache) {
        const width = c.nKvHeads * c.dHead;
        ctx.copy(k, cache.k[l]!, 0, past * width, T * width);
        ctx.copy(v, cache.v[l]!, 0, past * width, T * width);
        keys = cache.k[l]!;
        values = cache.v[l]!;
      }
      const common = {
        q,
        k: keys,
        v: values,
        numHeads: c.nHeads,
        numKvHeads: c.nKvHeads,
        headDim: c.dHead,
        kvLength: total,
        queryOffset: past,
        ...(c.attnScale !== undefined ? { scale: c.attnScale } : {}),
        ...(la.window !== null ? { window: la.window } : {}),
        ...(c.attnSoftcap !== undefined ? { softcap: c.attnSoftcap } : {}),
        ...(lh?.logitBias ? { logitBias: tmp(ctx.upload(lh.logitBias, [c.nHeads, total], 'logitBias')) } : {}),
        ...(lh?.headScale ? { headScale: tmp(ctx.upload(lh.headScale, [c.nHeads], 'headScale')) } : {}),
      };
      let att: GpuTensor;
      const gemmaStyle = prefersMaterialising(c, l);
      const budgetNeedsFlash = statsLayers.has(l) || (captureLayers.has(l) && !!keptHeads);
      const scratchOnly = !captureLayers.has(l) && !budgetNeedsFlash && plainScores;
      if ((captureLayers.has(l) && !keptHeads) || lh?.colScale || lh?.act || (gemmaStyle && !budgetNeedsFlash) || scratchOnly) {
        // Kept whole layers, a post-softmax rewrite (which needs whole rows), or scores small enough to
        // write (faster than the online softmax): the materialising kernel.
        let cap: CapturedLayer | undefined;
        if (captureLayers.has(l)) {
          cap = { probs: this.mapsTensor([c.nHeads, T, total], `attn.${l}`) };
          if (options.capture?.pre) cap.pre = this.mapsTensor([c.nHeads, T, total], `attn.${l}.pre`);
          captured.set(l, cap);
        } else if (plainScores) {
          scores ??= ctx.createTensor([c.nHeads, T, total], 'f32', 'attention.scores');
        }
        att = tmp(
          attention(ctx, {
            ...common,
            ...(lh?.colScale ? { colScale: tmp(ctx.upload(lh.colScale, [c.nHeads, total], 'colScale')) } : {}),
            ...(lh?.act ? { act: tmp(ctx.upload(lh.act, [c.nHeads, ACT_PARAMS_PER_HEAD], 'act')) } : {}),
            ...(cap ? { capture: cap.probs } : scores ? { scores } : {}),
            ...(cap?.pre ? { capturePre: cap.pre } : {}),
          }),
        );
      } else {
        // The online softmax never holds a T×Tk buffer for all heads; reductions, when asked, come from a
        // second pass, and kept heads' maps are recomputed one head per buffer.
        const kept = captureLayers.has(l) ? (keptHeads ?? []) : [];
        const maps = kept.map((head) => ({ head, out: ctx.createTensor([T, total], 'f32', `attn.${l}.h${head}`) }));
        const r = flashAttention(ctx, { ...common, stats: statsLayers.has(l) || maps.length > 0, maps });
        att = tmp(r.out);
        if (r.stats) statsOnly.set(l, r.stats);
        if (maps.length) headMaps.set(l, new Map(maps.map((m) => [m.head, m.out])));
      }
      if (keep) {
        const width = c.nHeads * c.dHead;
        ctx.copy(att, keep.heads, (T - 1) * width, l * width, width);
        const cap = captured.get(l);
        for (let hd = 0; cap && hd < c.nHeads; hd++) ctx.copy(cap.probs, keep.attention, (hd * T + T - 1) * total, (l * c.nHeads + hd) * total, total);
      }
      // W_O's product and the MLP's down projection add straight into the residual stream (matmul epilogue),
      // unless a post-norm (Gemma) has to see the branch on its own.
      const mlpIn = () => (preNorms ? tmp(this.norm(x, lw.ln2)) : x);
      // GPT-NeoX: x + attn(ln1(x)) + mlp(ln2(x)), both branches reading the same x, so ln2 runs first.
      const h2 = c.parallelResidual ? mlpIn() : undefined;
      if (lw.ln1Post) addInto(ctx, x, tmp(this.norm(tmp(linear(ctx, att, lw.o)), lw.ln1Post)));
      else linear(ctx, att, lw.o, { out: x, accumulate: true });
      const normed = h2 ?? mlpIn();
      if (lw.ln2Post) addInto(ctx, x, tmp(this.norm(tmp(this.mlp(normed, l)), lw.ln2Post)));
      else this.mlp(normed, l, x);
      // The layer's temporaries go back to the pool at the next submit (every ctx.flushEvery dispatches),
      // so later layers reuse them: kept to the end of the pass they were ~45 MB a layer for GPT-2 at
      // T = 1024, more than the pool holds, and were created anew every pass.
      ctx.release(...temps.splice(0));
    }

    let last = x;
    if (options.logits === 'last' && T > 1) {
      last = tmp(ctx.createTensor([1, c.dModel], 'f32', 'lastRow'));
      ctx.copy(x, last, (T - 1) * c.dModel, 0, c.dModel);
    }
    if (keep) ctx.copy(x, keep.residual, (T - 1) * c.dModel, 0, c.dModel);
    const final = this.norm(last, w.lnFinal);
    const logits = options.logits === 'none' ? undefined : this.unembed(final);
    if (logits) temps.push(final);
    temps.push(x);
    if (scores) temps.push(scores);
    ctx.flush();
    // Pooled temporaries may be reused by later dispatches: queue order keeps this safe after flush.
    ctx.release(...temps);
    if (cache) cache.length = total;
    ctx.release(...this.spareMaps);
    this.spareMaps = [];
    const recycle = (maps: GpuTensor[]) => this.spareMaps.push(...maps);
    const attentionStore = new AttentionStore(ctx, captured, c.nHeads, T, total, past, statsOnly, headMaps, recycle);
    const rest = { attention: attentionStore, ...(keep ? { last: keep } : {}) };
    return logits ? { logits, ...rest } : { final, ...rest };
  }

  /**
   * Logits of `count` rows of a deferred pass's `final` from row `from` ([count, vocab]; the caller releases
   * it): the unembedding of only the positions asked for, which at T = 1024 is a quarter of GPT-2's pass.
   */
  logitsOf(final: GpuTensor, from = 0, count = (final.shape[0] ?? 1) - from): GpuTensor {
    const rows = final.shape[0] ?? 1;
    const d = this.config.dModel;
    if (!(Number.isInteger(from) && Number.isInteger(count) && from >= 0 && count >= 1 && from + count <= rows))
      throw new RangeError(`rows ${from}..${from + count - 1} are outside the pass's 0..${rows - 1}`);
    if (from === 0 && count === rows) return this.unembed(final);
    const part = this.ctx.createTensor([count, d], 'f32', 'final.rows');
    this.ctx.copy(final, part, from * d, 0, count * d);
    const logits = this.unembed(part);
    this.ctx.release(part);
    return logits;
  }

  /** Final-normed rows → logits (soft-capped where the family caps them). */
  private unembed(final: GpuTensor): GpuTensor {
    const c = this.config;
    const logits = linear(this.ctx, final, this.weights.unembed);
    if (c.finalSoftcap !== undefined) softcap(this.ctx, { x: logits, cap: c.finalSoftcap, out: logits });
    return logits;
  }

  private mapsTensor(shape: number[], label: string): GpuTensor {
    const size = shape[0]! * shape[1]! * shape[2]!;
    const i = this.spareMaps.findIndex((t) => t.size === size);
    if (i < 0) return this.ctx.createTensor(shape, 'f32', label);
    const [spare] = this.spareMaps.splice(i, 1);
    return spare!.reshape(shape);
  }

  /** Q, K and V of one layer: one product with the fused weights, split into the three inputs of attention. */
  private projectQkv(h: GpuTensor, lw: LayerWeights): GpuTensor[] {
    const { ctx } = this;
    if (!lw.qkv) return [linear(ctx, h, lw.q), linear(ctx, h, lw.k), linear(ctx, h, lw.v)];
    const widths = [lw.q.w.shape[1]!, lw.k.w.shape[1]!, lw.v.w.shape[1]!];
    if (widths.every((w) => w % 4 === 0)) {
      // The product writes Q, K and V itself (split epilogue): no joined buffer, no split pass.
      const rows = h.shape[0]!;
      const parts = widths.map((w) => ctx.createTensor([rows, w], 'f32', 'qkv'));
      linear(ctx, h, lw.qkv, { outs: parts });
      return parts;
    }
    const joined = linear(ctx, h, lw.qkv);
    const parts = splitColumns(ctx, joined, widths);
    ctx.release(joined);
    return parts;
  }

  /** The model's norm (layer or RMS) of each row of x; public for weight-space analyses (ov-circuit.ts). */
  norm(x: GpuTensor, n: Norm): GpuTensor {
    const c = this.config;
    if (c.norm === 'layernorm') return layerNorm(this.ctx, { x, ...(n.w ? { weight: n.w } : {}), ...(n.b ? { bias: n.b } : {}), eps: c.normEps });
    return rmsNorm(this.ctx, { x, ...(n.w ? { weight: n.w } : {}), eps: c.normEps, weightOffset: c.normWeightOffset ?? 0 });
  }

  /** RMSNorm of a [T, heads·d_head] projection: per head (rows of d_head) or over the whole row. */
  private qkNorm(t: GpuTensor, weight: GpuTensor, heads: number): GpuTensor {
    const c = this.config;
    const rows = t.size / (heads * c.dHead);
    const view = c.qkNorm === 'head' ? t.reshape([rows * heads, c.dHead]) : t;
    const out = rmsNorm(this.ctx, { x: view, weight, eps: c.normEps, weightOffset: c.normWeightOffset ?? 0 });
    return out.reshape(t.shape);
  }

  /**
   * One layer's MLP on already-normed rows; public for weight-space analyses (ov-circuit.ts). With `into`,
   * the output is added into that tensor (the residual stream) and it is returned.
   */
  mlp(h: GpuTensor, layer: number, into?: GpuTensor): GpuTensor {
    const { ctx, config: c } = this;
    const lw = this.weights.layers[layer]!;
    let hidden: GpuTensor;
    if (c.gatedMlp) {
      const up = linear(ctx, h, lw.mlpIn);
      const gate = linear(ctx, h, lw.mlpGate!);
      hidden = gatedProduct(ctx, { gate, up, act: gateActivation(c.act), out: gate });
      ctx.release(up);
    } else {
      // The activation runs in the up projection's epilogue.
      hidden = linear(ctx, h, lw.mlpIn, { activation: c.act });
    }
    const out = linear(ctx, hidden, lw.mlpOut, into ? { out: into, accumulate: true } : {});
    ctx.release(hidden);
    return out;
  }
}

/**
 * W_Q | W_K | W_V joined column-wise ([d, q + k + v], bias likewise), so the three projections are one
 * product: at T = 1024 the separate N = 768 products left most of a large GPU idle, and each dispatch costs
 * recording time. Only for [in, out] weights of one dtype (f32, or 16-bit kept from the checkpoint) whose
 * biases are all present or all absent.
 */
function fuseQkv(ctx: GpuContext, lw: LayerWeights): Linear | undefined {
  const lins = [lw.q, lw.k, lw.v];
  const biased = lins.filter((l) => l.b).length;
  if (lins.some((l) => l.transB || l.w.dtype !== lw.q.w.dtype || l.w.shape.length !== 2) || (biased !== 0 && biased !== 3)) return undefined;
  const rows = lw.q.w.shape[0]!;
  const w = concatColumns(ctx, [lw.q.w, lw.k.w, lw.v.w], rows);
  return { w, transB: false, ...(biased ? { b: concatColumns(ctx, [lw.q.b!, lw.k.b!, lw.v.b!], 1) } : {}) };
}

/** x·W (+ b), with an optional epilogue (activation, or adding into `out`). */
function linear(ctx: GpuContext, x: GpuTensor, lin: Linear, epilogue: Pick<MatmulArgs, 'out' | 'accumulate' | 'activation' | 'outs'> = {}): GpuTensor {
  return matmul(ctx, { a: x, b: lin.w, transB: lin.transB, ...(lin.b ? { bias: lin.b } : {}), ...epilogue });
}
