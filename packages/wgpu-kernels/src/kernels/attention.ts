import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { ceilDiv, packParams } from '../wgsl/common.js';
import { ACT_PARAMS_PER_HEAD, actColumnsWgsl, actRewriteWgsl } from './attention-act-wgsl.js';
import { BJ, BK, pvWgsl, reduceWgsl, type ScoreStats, scoresWgsl, softmaxWgsl } from './attention-wgsl.js';

export { ACT_PARAMS_PER_HEAD } from './attention-act-wgsl.js';

export interface AttentionArgs {
  /** [T, Hq*D] query rows, heads contiguous within a row (already rotated). */
  q: GpuTensor;
  /** [Tmax, Hkv*D]; only the first kvLength rows are used (key j = absolute position j). */
  k: GpuTensor;
  /** [Tmax, Hkv*D] */
  v: GpuTensor;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** Default k.shape[0]. */
  kvLength?: number;
  /** Absolute position of query row 0 (= KV-cache past length); default kvLength − T. Key j is visible to row i iff j ≤ queryOffset + i. */
  queryOffset?: number;
  /** Default 1/sqrt(headDim). */
  scale?: number;
  /**
   * Sliding window (Gemma's local layers): key j is visible to the query at absolute position i only if
   * i − j < window, so each query sees at most `window` keys, itself included. Masked keys get probability 0.
   */
  window?: number;
  /** Attention-logit soft-capping (Gemma 2): the scaled score s becomes softcap·tanh(s/softcap), before the bias and softmax. */
  softcap?: number;
  /** [Hq, kvLength] added to the scaled score before softmax; ≤ −1e30 (or −∞) masks the key. */
  logitBias?: GpuTensor;
  /** [Hq, kvLength] post-softmax rewrite (ACT): keys with s ≠ 1 get s·A, the removed mass goes pro rata to the visible keys with s = 1. */
  colScale?: GpuTensor;
  /** [Hq] per-head output scale (0 ablates the head). */
  headScale?: GpuTensor;
  /**
   * ACT on this pass's own probabilities: [Hq, 4] per head (mode 0 off / 1 on, first key of Sraw exempt /
   * 2 on, none exempt; τ; β; last keys ignored). The calibrated keys are found after softmax and written
   * as a column scale (on top of `colScale` for heads with ACT off), then the rows are rewritten.
   */
  act?: GpuTensor;
  /** [Hq, kvLength] receives the column scale ACT used (β on calibrated keys); scratch when omitted. */
  actScale?: GpuTensor;
  /** [Hq, T, kvLength] receives the probabilities actually used (after the rewrite); masked entries = 0. */
  capture?: GpuTensor;
  /** [Hq, T, kvLength] probabilities before the rewrite. */
  capturePre?: GpuTensor;
  /** [T, Hq*D] */
  out?: GpuTensor;
  /**
   * [Hq, T, kvLength] scratch for the scores when nothing is captured (a forward pass shares one across its
   * layers); what it holds afterwards is unspecified. Default: pooled scratch, released after the call.
   */
  scores?: GpuTensor;
}

/** Use this bias value to mask a key: WGSL implementations may not honour −∞, so ≤ −1e30 counts as masked. */
export const ATTENTION_MASK_BIAS = -1e30;

/** Enough P·V workgroups to fill a large GPU several times over. */
const PV_TARGET_WORKGROUPS = 1024;

/**
 * Benchmark switch: `separateSoftmax` makes every call run the softmax as its own pass, as before P·V
 * normalised scores itself, so both can be timed in one process (bench/model.ts --separate-softmax).
 */
export const attentionTuning = { separateSoftmax: false };

const partials = new WeakMap<GpuContext, GpuTensor>();
const blockStatsKept = new WeakMap<GpuContext, GpuTensor>();
const sumPartialsKept = new WeakMap<GpuContext, GpuTensor>();

/**
 * The split-K partial sums and the softmax's block statistics live in one buffer each per context, kept
 * across calls: passes recorded in one encoder run in order, so calls can share them, and keeping them
 * avoids a submit per call.
 */
function contextScratch(kept: WeakMap<GpuContext, GpuTensor>, ctx: GpuContext, elements: number, label: string): GpuTensor {
  const have = kept.get(ctx);
  if (have && have.size >= elements) return have;
  if (have) {
    // Passes already recorded may still use the old buffer: submit them before it can be reused.
    ctx.flush();
    ctx.release(have);
  }
  const t = ctx.createTensor([elements], 'f32', label);
  kept.set(ctx, t);
  return t;
}

/** Register block height: small query counts (decode steps) waste fewer threads with shorter tiles. */
function rowsPerThread(t: number): number {
  return t <= 16 ? 1 : t <= 32 ? 2 : 4;
}

/**
 * Up to this many keys P·V is not split: each workgroup walks at most 16 short steps, and the split would
 * cost a dispatch for its sum (a 128-token prompt or decode step is bound by recording dispatches).
 */
const PV_SPLIT_MIN_KEYS = 256;

/** How P·V is tiled and split over keys (past PV_SPLIT_MIN_KEYS, until there are about PV_TARGET_WORKGROUPS, ≥ 64 keys per split). */
function pvPlan(t: number, tk: number, hq: number, d: number) {
  const tn = d <= 16 ? 1 : d <= 32 ? 2 : 4;
  const dtiles = ceilDiv(d, 16 * tn);
  const rowTiles = ceilDiv(t, 16 * rowsPerThread(t));
  const want = tk <= PV_SPLIT_MIN_KEYS ? 1 : Math.min(ceilDiv(PV_TARGET_WORKGROUPS, dtiles * rowTiles * hq), ceilDiv(tk, 64));
  const kc = ceilDiv(ceilDiv(tk, Math.max(1, want)), BJ) * BJ;
  return { tn, dtiles, rowTiles, kc, splits: ceilDiv(tk, kc) };
}

/**
 * Elements of the scratch `attention` allocates for a call: the score buffer (without a capture), the
 * split-K partial sums, each split's Σexp per row and head (the uncaptured softmax divides by them in the
 * reduce pass), and the softmax statistics (row max and Σexp per 64-key block; unused when a separate
 * softmax pass runs: ACT, a column scale or the pre-rewrite capture). Each is its own buffer.
 */
export function attentionScratchElements(
  t: number,
  tk: number,
  hq: number,
  d: number,
  captured: boolean,
): { scores: number; partials: number; sums: number; stats: number } {
  const { splits } = pvPlan(t, tk, hq, d);
  return {
    scores: captured ? 0 : hq * t * tk,
    partials: splits > 1 ? splits * t * hq * d : 0,
    sums: splits > 1 ? splits * t * hq : 0,
    stats: 2 * hq * t * ceilDiv(tk, BK),
  };
}

/** The query rows, visible keys and query offset of an attention call. */
export interface AttentionGeometry {
  t: number;
  tk: number;
  qoff: number;
}

type SharedAttentionArgs = Pick<
  AttentionArgs,
  'q' | 'k' | 'v' | 'numHeads' | 'numKvHeads' | 'headDim' | 'kvLength' | 'queryOffset' | 'logitBias' | 'headScale' | 'out' | 'window' | 'softcap'
>;

/**
 * Checks what both attention kernels take (shapes of q/k/v, the KV window, the logit-bias, head-scale and
 * output buffers, the sliding window and soft-cap) and returns the geometry; KernelArgumentError names `kernel`.
 */
export function checkAttentionArgs(kernel: string, args: SharedAttentionArgs, maxHeadDim = Number.POSITIVE_INFINITY): AttentionGeometry {
  const check = (ok: boolean, detail: string): void => {
    if (!ok) throw new KernelArgumentError(kernel, detail);
  };
  const { q, k, v, numHeads: hq, numKvHeads: hkv, headDim: d } = args;
  check(
    Number.isInteger(hq) && Number.isInteger(hkv) && hq > 0 && hkv > 0 && hkv <= hq,
    `numHeads ${hq} / numKvHeads ${hkv} must be integers with 0 < numKvHeads <= numHeads`,
  );
  check(
    Number.isInteger(d) && d > 0 && d <= maxHeadDim,
    Number.isFinite(maxHeadDim) ? `headDim ${d} must be an integer in 1..${maxHeadDim}` : `headDim ${d} must be a positive integer`,
  );
  check(q.size % (hq * d) === 0, `q has ${q.size} values, not a multiple of numHeads*headDim = ${hq * d}`);
  const t = q.size / (hq * d);
  const kRows = k.size / (hkv * d);
  check(Number.isInteger(kRows) && v.size === k.size, `k (${k.size}) and v (${v.size}) must both be [Tmax, ${hkv * d}]`);
  const tk = args.kvLength ?? kRows;
  check(Number.isInteger(tk) && tk >= 1 && tk <= kRows, `kvLength ${tk} must be in 1..${kRows}`);
  const qoff = args.queryOffset ?? tk - t;
  check(Number.isInteger(qoff) && qoff >= 0, `queryOffset ${qoff} must be a non-negative integer (T=${t}, kvLength=${tk})`);
  check(!args.logitBias || args.logitBias.size === hq * tk, `logitBias has ${args.logitBias?.size} values, expected [${hq}, ${tk}]`);
  check(!args.headScale || args.headScale.size === hq, `headScale has ${args.headScale?.size} values, expected ${hq}`);
  check(!args.out || args.out.size === t * hq * d, `out has ${args.out?.size} values, expected [${t}, ${hq * d}]`);
  check(args.window === undefined || (Number.isInteger(args.window) && args.window >= 1), `window ${args.window} must be a positive integer`);
  check(args.softcap === undefined || (Number.isFinite(args.softcap) && args.softcap > 0), `softcap ${args.softcap} must be a positive number`);
  return { t, tk, qoff };
}

function check(ok: boolean, detail: string): void {
  if (!ok) throw new KernelArgumentError('attention', detail);
}

/**
 * Causal (grouped-query) attention with capture and three hook points, in two to five passes over a
 * [Hq, T, kvLength] score buffer: the capture buffer itself, or pooled scratch when none is given.
 */
export function attention(ctx: GpuContext, args: AttentionArgs): GpuTensor {
  const { q, k, v, numHeads: hq, numKvHeads: hkv, headDim: d } = args;
  const { t, tk, qoff } = checkAttentionArgs('attention', args);
  const maps = hq * t * tk;
  check(!args.colScale || args.colScale.size === hq * tk, `colScale has ${args.colScale?.size} values, expected [${hq}, ${tk}]`);
  check(!args.act || args.act.size === hq * ACT_PARAMS_PER_HEAD, `act has ${args.act?.size} values, expected [${hq}, ${ACT_PARAMS_PER_HEAD}]`);
  check(!args.actScale || (!!args.act && args.actScale.size === hq * tk), `actScale needs act and [${hq}, ${tk}] values (has ${args.actScale?.size})`);
  check(!args.capture || args.capture.size === maps, `capture has ${args.capture?.size} values, expected [${hq}, ${t}, ${tk}]`);
  check(!args.capturePre || args.capturePre.size === maps, `capturePre has ${args.capturePre?.size} values, expected [${hq}, ${t}, ${tk}]`);

  check(!args.scores || args.scores.size >= maps, `scores has ${args.scores?.size} values, needs at least [${hq}, ${t}, ${tk}]`);

  const out = args.out ?? ctx.createTensor([t, hq * d], 'f32', 'attention');
  if (t === 0) return out;
  const scratch = args.capture || args.scores ? undefined : ctx.createTensor([hq, t, tk], 'f32', 'attention.scores');
  const scores = args.capture ?? args.scores ?? (scratch as GpuTensor);
  const tm = rowsPerThread(t);
  const { tn, dtiles, rowTiles, kc, splits } = pvPlan(t, tk, hq, d);
  // Without a post-softmax rewrite or a pre-rewrite capture, the softmax happens in P·V from per-block row
  // statistics the score pass leaves, instead of a pass reading and writing every score (H200, Pythia
  // shape at 2,048 tokens, no capture: 17.96 vs 19.79 ms of GPU time a pass). A captured layer gets its
  // probabilities written back by P·V, which needs a single head-dim tile (no other workgroup reads the
  // same scores).
  const separate = attentionTuning.separateSoftmax || !!args.capturePre || !!args.colScale || !!args.act || (!!args.capture && dtiles > 1);
  const scoreStats: ScoreStats = separate ? 'separate' : args.capture ? 'stats-zeroed' : 'max';
  const rows = hq * t;
  const fields = [t, tk, qoff, hq, hkv, d, kc, dtiles, rows].map((x) => ['u32', x] as const);
  const params = packParams([...fields, ['f32', args.scale ?? 1 / Math.sqrt(d)], ['u32', args.window ?? 0], ['f32', args.softcap ?? 0]]);
  const scoreOpts = { window: args.window !== undefined, softcap: args.softcap !== undefined };

  const bias = args.logitBias;
  const sizes = attentionScratchElements(t, tk, hq, d, true);
  const blockStats = separate ? undefined : contextScratch(blockStatsKept, ctx, sizes.stats, 'attention.blockStats');
  ctx.dispatch({
    pipeline: ctx.pipelines.get('attention.scores', scoresWgsl(tm, !!bias, scoreOpts, scoreStats)),
    bindings: [q, k, scores, ...(bias ? [bias] : []), ...(blockStats ? [blockStats] : [])],
    params,
    workgroups: [ceilDiv(tk, BK), ceilDiv(t, 16 * tm), hq],
    label: 'attention.scores',
  });
  if (separate) softmaxPasses(ctx, args, scores, params, rows, hq, tk);

  const hs = args.headScale;
  const partial = splits > 1 ? contextScratch(partials, ctx, sizes.partials, 'attention.partials') : undefined;
  const normalise = separate ? 'off' : args.capture ? 'write' : 'read';
  // Unnormalised split partials carry each split's Σexp per row and head for the reduce pass to divide by.
  const sums = partial && normalise === 'read' ? contextScratch(sumPartialsKept, ctx, sizes.sums, 'attention.sumPartials') : undefined;
  ctx.dispatch({
    pipeline: ctx.pipelines.get('attention.pv', pvWgsl(tm, tn, !!partial, !partial && !!hs, normalise)),
    bindings: [scores, v, partial ?? out, ...(!partial && hs ? [hs] : []), ...(blockStats ? [blockStats] : []), ...(sums ? [sums] : [])],
    params,
    workgroups: [dtiles * splits, rowTiles, hq],
    label: 'attention.pv',
  });
  if (partial) {
    const groups = ceilDiv(t * hq * d, 256);
    ctx.dispatch({
      pipeline: ctx.pipelines.get('attention.pvReduce', reduceWgsl(!!hs, !!sums)),
      bindings: [partial, out, ...(hs ? [hs] : []), ...(sums ? [sums] : [])],
      params,
      workgroups: [Math.min(groups, 65535), ceilDiv(groups, 65535)],
      label: 'attention.pvReduce',
    });
  }

  if (scratch) {
    // Submit before the scratch goes back to the pool: a later upload (queue.writeBuffer) into the same
    // buffer would otherwise land before these recorded passes run.
    ctx.flush();
    ctx.release(scratch);
  }
  return out;
}

/** The separate softmax pass, and ACT's column search and row rewrite when asked. */
function softmaxPasses(ctx: GpuContext, args: AttentionArgs, scores: GpuTensor, params: ArrayBuffer, rows: number, hq: number, tk: number): void {
  const pre = args.capturePre;
  // With ACT the static scale is folded into ACT's column scale, applied after the columns are known.
  const cs = args.act ? undefined : args.colScale;
  ctx.dispatch({
    pipeline: ctx.pipelines.get('attention.softmax', softmaxWgsl(!!pre, !!cs)),
    bindings: [scores, ...(pre ? [pre] : []), ...(cs ? [cs] : [])],
    params,
    workgroups: [Math.min(rows, 65535), ceilDiv(rows, 65535)],
    label: 'attention.softmax',
  });

  const act = args.act;
  const actScratch = act && !args.actScale ? ctx.createTensor([hq, tk], 'f32', 'attention.actScale') : undefined;
  if (act) {
    const scale = (args.actScale ?? actScratch) as GpuTensor;
    const base = args.colScale;
    ctx.dispatch({
      pipeline: ctx.pipelines.get('attention.actColumns', actColumnsWgsl(!!base)),
      bindings: [scores, act, scale, ...(base ? [base] : [])],
      params,
      workgroups: [hq],
      label: 'attention.actColumns',
    });
    ctx.dispatch({
      pipeline: ctx.pipelines.get('attention.actRewrite', actRewriteWgsl()),
      bindings: [scores, scale],
      params,
      workgroups: [Math.min(rows, 65535), ceilDiv(rows, 65535)],
      label: 'attention.actRewrite',
    });
  }

  if (actScratch) {
    ctx.flush();
    ctx.release(actScratch);
  }
}
