import { topK } from '@headscope/wgpu-kernels';
import type { Transformer } from './forward.js';
import type { Intervention } from './interventions.js';
import { estimateRunCost } from './run-cost.js';
import { prefersMaterialising } from './weights.js';

export interface TraceOptions {
  maxNewTokens: number;
  /** Stop before emitting a token for which this returns true (a newline), after at least one token. */
  stopWhen?: (id: number) => boolean;
  /** Applied to the prompt pass and every step (masking heads). */
  interventions?: readonly Intervention[];
  /** Also read back every step's attention rows ([L, H, keys] per step): for tests and the step view. */
  keepRows?: boolean;
  /** Most prompt tokens per prefill pass (default: prefillChunkForModel with prefillScoreBytes). */
  prefillChunk?: number;
  /**
   * Budget per layer of a prefill pass's transient memory: its activations and, where a layer materialises
   * attention, its [H, chunk, keys] scores (default PREFILL_SCORE_BYTES; capped by the device's binding size).
   */
  prefillScoreBytes?: number;
  signal?: AbortSignal;
}

/** Budget of a prefill pass's transient memory per layer; longer prompts are prefilled in chunks. */
export const PREFILL_SCORE_BYTES = 256 * 2 ** 20;

/** Prompt tokens per prefill pass for `keys` keys: the score buffer H·chunk·keys·4 bytes stays within `budget`. */
export function prefillChunkFor(nHeads: number, keys: number, budget: number): number {
  return Math.max(1, Math.floor(budget / (nHeads * keys * 4)));
}

/**
 * Prompt tokens per prefill pass of `prefill` tokens. Without maps, layers take the online softmax, which
 * holds no score matrix, so the chunk is as long as keeps one layer's activations (run-cost's estimate)
 * within `budget`: a 32k-token prompt of a Qwen2.5-0.5B shape takes 10 passes of 3,449 tokens, not the ~220 that a
 * score-buffer rule would. Layers that still materialise attention (sliding windows, soft caps, and the
 * post-softmax rewrites of ACT) also keep their [H, chunk, keys] scores within it.
 */
export function prefillChunkForModel(model: Transformer, prefill: number, budget: number, interventions: readonly Intervention[] = []): number {
  const c = model.config;
  const fits = (n: number) => prefillLayerBytes(model, n) <= budget;
  let lo = 1;
  let hi = Math.max(1, prefill);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  const materialises =
    Array.from({ length: c.nLayers }, (_, l) => prefersMaterialising(c, l)).some(Boolean) ||
    interventions.some((iv) => iv.kind === 'keyScale' || iv.kind === 'act');
  return materialises ? Math.min(lo, prefillChunkFor(c.nHeads, prefill, budget)) : lo;
}

/** One layer's share of a prefill pass of `tokens` tokens without maps (run-cost's estimate): what the chunk rule bounds. */
export function prefillLayerBytes(model: Transformer, tokens: number): number {
  return estimateRunCost({ ...model.runShape, nLayers: 1 }, { tokens, logits: 'last', capture: { layers: 'none' } }).totalBytes;
}

export interface DecodeTrace {
  /** Emitted ids w_0 … w_{n−1} (greedy). */
  ids: number[];
  /** argmax[t][layer·H + head]: the key each query head attended most in the step that produced ids[t]. */
  argmax: Uint32Array[];
  /** rows[t]: [L, H, keys_t] probabilities of that step's query row (only with keepRows). */
  rows?: Float32Array[];
}

/**
 * Greedy KV-cache decoding that keeps only what retrieval scoring needs. The prompt's first T−1 tokens
 * fill the cache without capture; the last prompt token then runs as a one-row step like every later
 * token, so the row that produced each emitted token is a [H, 1, keys] capture per layer. Per-head
 * argmaxes are reduced on the GPU and one small index array is read back per step; no T×T map of the
 * prompt is ever kept, and the prefill runs in chunks whose transient memory stays within a budget
 * (prefillChunkForModel), so memory grows linearly with the prompt: the KV cache, and per step one
 * [H, keys] row per layer.
 */
export async function decodeTrace(model: Transformer, prompt: readonly number[], options: TraceOptions): Promise<DecodeTrace> {
  const { ctx, config: c } = model;
  if (prompt.length === 0) throw new RangeError('decodeTrace needs a prompt of at least one token');
  if (!(options.maxNewTokens >= 1)) throw new RangeError('decodeTrace needs maxNewTokens ≥ 1');
  const iv = options.interventions ? { interventions: options.interventions } : {};
  const cache = model.createCache(Math.min(c.nCtx, prompt.length + options.maxNewTokens - 1));
  const ids: number[] = [];
  const argmax: Uint32Array[] = [];
  const rows: Float32Array[] = [];
  try {
    const prefill = prompt.length - 1;
    const budget = Math.min(options.prefillScoreBytes ?? PREFILL_SCORE_BYTES, ctx.limits.maxStorageBufferBindingSize);
    const chunk = options.prefillChunk ?? prefillChunkForModel(model, prefill, budget, options.interventions);
    for (let at = 0; at < prefill; at += chunk) {
      options.signal?.throwIfAborted();
      const part = model.forward(prompt.slice(at, Math.min(prefill, at + chunk)), { cache, capture: { layers: 'none' }, logits: 'last', ...iv });
      ctx.release(part.logits);
      part.attention.release();
      // Wait for the chunk: temporaries the pool does not keep are destroyed, and their memory only returns once
      // the GPU is done with them. Racing ahead, the CPU recorded every chunk first, and a 32k-token Qwen2.5-0.5B
      // prompt peaked at 20 GiB on the H200 instead of a chunk's worth.
      await ctx.sync();
    }
    let input = prompt[prompt.length - 1]!;
    for (let step = 0; step < options.maxNewTokens; step++) {
      options.signal?.throwIfAborted();
      if (cache.length + 1 > cache.capacity) break;
      const { logits, attention } = model.forward([input], { cache, capture: { layers: 'all' }, logits: 'last', ...iv });
      try {
        const top = topK(ctx, { x: logits, k: 1 });
        const [next, heads, kept] = await Promise.all([
          ctx.readU32(top.indices).then((v) => v[0]!),
          attention.argmaxAll(),
          options.keepRows ? readRows(attention, c.nLayers) : undefined,
        ]);
        ctx.release(top.values, top.indices);
        if (options.stopWhen?.(next) && ids.length > 0) break;
        ids.push(next);
        argmax.push(heads);
        if (kept) rows.push(kept);
        input = next;
      } finally {
        ctx.release(logits);
        attention.release();
      }
    }
  } finally {
    model.releaseCache(cache);
  }
  return { ids, argmax, ...(options.keepRows ? { rows } : {}) };
}

async function readRows(attention: { layer(l: number): Promise<Float32Array> }, nLayers: number): Promise<Float32Array> {
  const parts = await Promise.all(Array.from({ length: nLayers }, (_, l) => attention.layer(l)));
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
