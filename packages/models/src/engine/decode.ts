import { topK } from '@headscope/wgpu-kernels';
import type { AttentionStore } from './attention-store.js';
import type { CaptureSpec, Transformer } from './forward.js';
import type { Intervention } from './interventions.js';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 or omitted = greedy (argmax, ties to the lower id). */
  temperature?: number;
  /** Sample among the k most likely tokens (1..64, default 50) when temperature > 0. */
  topK?: number;
  seed?: number;
  /** Stop after emitting one of these ids (the id is kept in the output). */
  stopIds?: readonly number[];
  /** Stop before emitting a token for which this returns true (e.g. a newline), after at least one token. */
  stopWhen?: (id: number) => boolean;
  /** Capture each step's attention rows (queries = 1) of these layers; default none. */
  capture?: CaptureSpec;
  interventions?: readonly Intervention[];
  /** Called after each emitted token. Return false to stop. */
  onToken?: (id: number, step: number) => boolean | undefined;
}

export interface GenerateResult {
  /** The new tokens only. */
  ids: number[];
  /** Attention of the prompt (prefill) pass; release when done. */
  prefill: AttentionStore;
  /** One store per emitted token after the first: the step that consumed token i−1 and produced token i. */
  steps: AttentionStore[];
}

/**
 * KV-cache decoding: one prefill pass over the prompt, then one single-token pass per new token. Each
 * step's attention rows are captured as asked, so retrieval scoring can see the row that produced each
 * token. Sampling is seeded and done on the host over the GPU's top-k, so runs repeat exactly.
 */
export async function generate(model: Transformer, prompt: readonly number[], options: GenerateOptions): Promise<GenerateResult> {
  const { ctx } = model;
  const temperature = options.temperature ?? 0;
  const k = temperature > 0 ? Math.min(64, Math.max(1, options.topK ?? 50), model.config.vocabSize) : 1;
  const random = mulberry32(options.seed ?? 0);
  const capture = options.capture ?? { layers: 'none' as const };
  const cache = model.createCache(Math.min(model.config.nCtx, prompt.length + options.maxNewTokens));
  const ids: number[] = [];
  const steps: AttentionStore[] = [];
  let prefill: AttentionStore | undefined;
  try {
    let input: readonly number[] = prompt;
    for (let step = 0; step < options.maxNewTokens; step++) {
      if (cache.length + input.length > cache.capacity) break;
      const { logits, attention } = model.forward(input, {
        cache,
        capture,
        logits: 'last',
        ...(options.interventions ? { interventions: options.interventions } : {}),
      });
      if (step === 0) prefill = attention;
      else steps.push(attention);
      const top = topK(ctx, { x: logits, k });
      const [values, indices] = await Promise.all([ctx.readF32(top.values), ctx.readU32(top.indices)]);
      ctx.release(logits, top.values, top.indices);
      const next = temperature > 0 ? sampleTopK(values, indices, temperature, random) : indices[0]!;
      if (options.stopWhen?.(next) && ids.length > 0) break;
      ids.push(next);
      if (options.onToken?.(next, step) === false) break;
      if (options.stopIds?.includes(next)) break;
      input = [next];
    }
  } finally {
    model.releaseCache(cache);
  }
  if (!prefill) throw new RangeError('generate needs maxNewTokens ≥ 1 and a prompt that fits the context');
  return { ids, prefill, steps };
}

/** Softmax over the top-k logits at the given temperature, then one draw. */
export function sampleTopK(values: Float32Array, indices: Uint32Array, temperature: number, random: () => number): number {
  const max = values[0]!;
  const w = Array.from(values, (v) => Math.exp((v - max) / temperature));
  const total = w.reduce((a, b) => a + b, 0);
  let u = random() * total;
  for (let i = 0; i < w.length; i++) {
    u -= w[i]!;
    if (u <= 0) return indices[i]!;
  }
  return indices[w.length - 1]!;
}

/** Small seeded generator (mulberry32): the same seed gives the same continuation everywhere. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
