import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { ceilDiv, packParams } from '../wgsl/common.js';
import { type AttentionArgs, checkAttentionArgs } from './attention.js';
import type { AttentionStats } from './attention-stats.js';
import { BK } from './attention-wgsl.js';
import { flashColMeanWgsl, flashMapsWgsl, flashWgsl } from './flash-attention-wgsl.js';

/** What the online-softmax kernel takes: the attention arguments without maps or the post-softmax rewrite. */
export type FlashAttentionArgs = Omit<AttentionArgs, 'capture' | 'capturePre' | 'colScale' | 'act' | 'actScale'> & {
  /** Also compute attentionStats' per-head reductions (a second pass recomputes the probabilities). */
  stats?: boolean;
  /** Heads whose [T, kvLength] probabilities to write, each into its own buffer (recomputed from the saved row max and sum). */
  maps?: ReadonlyArray<{ head: number; out: GpuTensor }>;
};

export interface FlashAttentionResult {
  /** [T, Hq*D] */
  out: GpuTensor;
  /** The reductions attentionStats computes from captured maps, here without them; the caller releases them. */
  stats?: AttentionStats;
}

/** Head dims up to 256 (Gemma) fit the 16 threads × 16 registers of one output row. */
export const FLASH_MAX_HEAD_DIM = 256;

function check(ok: boolean, detail: string): void {
  if (!ok) throw new KernelArgumentError('flashAttention', detail);
}

/**
 * Causal (grouped-query) attention with an online softmax: memory O(T·D) instead of the [Hq, T, Tk]
 * score buffer of `attention`, with the logit bias and head scale hooks. With `stats`, also the per-head
 * reductions of the probabilities (column means, row entropy, argmax, key-0 mass) for every head.
 */
export function flashAttention(ctx: GpuContext, args: FlashAttentionArgs): FlashAttentionResult {
  const { q, k, v, numHeads: hq, numKvHeads: hkv, headDim: d } = args;
  const { t, tk, qoff } = checkAttentionArgs('flashAttention', args, FLASH_MAX_HEAD_DIM);
  const maps = args.maps ?? [];
  for (const m of maps) {
    check(Number.isInteger(m.head) && m.head >= 0 && m.head < hq, `maps head ${m.head} is outside 0..${hq - 1}`);
    check(m.out.size === t * tk, `maps for head ${m.head} have ${m.out.size} values, expected [${t}, ${tk}]`);
  }

  const out = args.out ?? ctx.createTensor([t, hq * d], 'f32', 'flashAttention');
  if (t === 0) return { out };
  // Decode steps and short prompts: 16-row tiles waste fewer threads.
  const tm = t <= 16 ? 1 : 2;
  const dn = ceilDiv(d, 16);
  const rows = hq * t;
  // Field 6 (kc in PARAMS_WGSL) carries the head in the maps pass.
  const fields = [t, tk, qoff, hq, hkv, d, 0, 0, rows].map((x) => ['u32', x] as const);
  const tail = [
    ['f32', args.scale ?? 1 / Math.sqrt(d)],
    ['u32', args.window ?? 0],
    ['f32', args.softcap ?? 0],
  ] as const;
  const params = packParams([...fields, ...tail]);
  const opts = { window: args.window !== undefined, softcap: args.softcap !== undefined };
  const bias = args.logitBias;
  const hs = args.headScale;
  const rowStats = args.stats || maps.length ? ctx.createTensor([5, rows], 'f32', 'flashAttention.rowStats') : undefined;
  ctx.dispatch({
    pipeline: ctx.pipelines.get('attention.flash', flashWgsl(tm, dn, !!bias, !!hs, !!rowStats, opts)),
    bindings: [q, k, v, out, ...(bias ? [bias] : []), ...(hs ? [hs] : []), ...(rowStats ? [rowStats] : [])],
    params,
    workgroups: [ceilDiv(t, 16 * tm), hq],
    label: 'attention.flash',
  });
  if (!rowStats) return { out };
  for (const m of maps) {
    const mapParams = packParams([...fields.map(([k, x], i) => [k, i === 6 ? m.head : x] as const), ...tail]);
    ctx.dispatch({
      pipeline: ctx.pipelines.get('attention.flashMaps', flashMapsWgsl(tm, !!bias, opts)),
      bindings: [q, k, rowStats, m.out, ...(bias ? [bias] : [])],
      params: mapParams,
      workgroups: [ceilDiv(tk, BK), ceilDiv(t, 16 * tm)],
      label: 'attention.flashMaps',
    });
  }
  if (!args.stats) {
    ctx.release(rowStats);
    return { out };
  }

  const colMean = ctx.createTensor([hq, tk], 'f32', 'attentionStats.colMean');
  ctx.dispatch({
    pipeline: ctx.pipelines.get('attention.flashColMean', flashColMeanWgsl(tm, !!bias, opts)),
    bindings: [q, k, rowStats, colMean, ...(bias ? [bias] : [])],
    params,
    workgroups: [ceilDiv(tk, BK), hq],
    label: 'attention.flashColMean',
  });
  const entropy = ctx.createTensor([hq, t], 'f32', 'attentionStats.entropy');
  const argmax = ctx.createTensor([hq, t], 'u32', 'attentionStats.argmax');
  const firstMass = ctx.createTensor([hq, t], 'f32', 'attentionStats.firstMass');
  ctx.copy(rowStats, entropy, 2 * rows, 0, rows);
  ctx.copy(rowStats, argmax, 3 * rows, 0, rows);
  ctx.copy(rowStats, firstMass, 4 * rows, 0, rows);
  ctx.release(rowStats);
  return { out, stats: { colMean, entropy, argmax, firstMass } };
}
