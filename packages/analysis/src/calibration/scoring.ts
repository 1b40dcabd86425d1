/**
 * Scoring as in the ACT authors' code: one forward pass per example; compare the logits of each choice's
 * last sub-token at the last position. Beside accuracy, the valid-format rate: the share of examples whose
 * top-1 token over the whole vocabulary is one of the choices (methods.md §7).
 */
import type { CpuLoadedModel, Intervention, LoadedModel } from '@headscope/models';
import type { EncodedExample } from './tasks.js';

/** What scoring and search need from a model. */
export interface ScoringModel {
  readonly nLayers: number;
  readonly nHeads: number;
  /** Logits at the last position of `ids` under the interventions. */
  lastLogits(ids: readonly number[], interventions: readonly Intervention[]): Promise<Float32Array>;
}

/** The adapter for a loaded model (WebGPU or the CPU reference path). */
export function scoringModel(model: LoadedModel | CpuLoadedModel): ScoringModel {
  const { nLayers, nHeads } = model.config;
  if ('backend' in model) {
    return { nLayers, nHeads, lastLogits: async (ids, interventions) => model.run(ids, { interventions, capture: { layers: 'none' }, logits: 'last' }).logits };
  }
  const ctx = model.transformer.ctx;
  return {
    nLayers,
    nHeads,
    async lastLogits(ids, interventions) {
      const r = model.run(ids, { interventions, capture: { layers: 'none' }, logits: 'last' });
      try {
        return await ctx.readF32(r.logits);
      } finally {
        ctx.release(r.logits);
      }
    },
  };
}

export interface ExampleScore {
  /** Index of the predicted choice. */
  predicted: number;
  correct: boolean;
  /** The top-1 token over the vocabulary is one of the choices. */
  validFormat: boolean;
  /** Next-token entropy (nats) at the answer position. */
  entropy: number;
}

export interface TaskScore {
  n: number;
  accuracy: number;
  validFormat: number;
  /** Mean next-token entropy at the answer position (the unsupervised objective). */
  meanEntropy: number;
  examples: ExampleScore[];
}

export function scoreLogits(logits: Float32Array, ex: EncodedExample): ExampleScore {
  let best = 0;
  ex.choiceTokens.forEach((t, i) => {
    if (logits[t]! > logits[ex.choiceTokens[best]!]!) best = i;
  });
  let top = 0;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i]! > max) {
      max = logits[i]!;
      top = i;
    }
  }
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += Math.exp(logits[i]! - max);
  let entropy = 0;
  for (let i = 0; i < logits.length; i++) {
    const p = Math.exp(logits[i]! - max) / z;
    if (p > 0) entropy -= p * Math.log(p);
  }
  return { predicted: best, correct: best === ex.label, validFormat: ex.choiceTokens.includes(top), entropy };
}

export function summarise(examples: ExampleScore[]): TaskScore {
  const n = examples.length;
  const mean = (f: (e: ExampleScore) => number) => (n === 0 ? 0 : examples.reduce((a, e) => a + f(e), 0) / n);
  return { n, accuracy: mean((e) => (e.correct ? 1 : 0)), validFormat: mean((e) => (e.validFormat ? 1 : 0)), meanEntropy: mean((e) => e.entropy), examples };
}

/** Throws the standard AbortError when the signal fired (between forward passes). */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new DOMException('the calibration search was cancelled', 'AbortError');
}

export async function scoreTask(
  model: ScoringModel,
  examples: readonly EncodedExample[],
  interventions: readonly Intervention[],
  options: { signal?: AbortSignal; onExample?: () => void } = {},
): Promise<TaskScore> {
  const out: ExampleScore[] = [];
  for (const ex of examples) {
    throwIfAborted(options.signal);
    out.push(scoreLogits(await model.lastLogits(ex.ids, interventions), ex));
    options.onExample?.();
  }
  return summarise(out);
}
