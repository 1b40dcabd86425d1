import { columnImportance } from './column-importance.js';
import type { AttentionMap, Finding } from './finding.js';

/** Maps of every head for one prompt: maps[layer][head]. */
export type PromptMaps = ReadonlyArray<ReadonlyArray<AttentionMap>>;

export interface SinkRateOptions {
  /** ε, default 0.3 (Gu et al.). */
  epsilon?: number;
  /** Key position k, default 0 (the headline figure). */
  key?: number;
}

export interface SinkRate {
  /** Percentage of (prompt, layer, head) with imp[k] > ε. */
  rate: number;
  count: number;
  total: number;
  epsilon: number;
  key: number;
}

/** sink_rate_k = 100 · mean over (prompts, layers, heads) of 1[imp[l,h,k] > ε] (methods.md §2). */
export function sinkRate(prompts: readonly PromptMaps[], options: SinkRateOptions = {}): SinkRate {
  const epsilon = options.epsilon ?? 0.3;
  const key = options.key ?? 0;
  let count = 0;
  let total = 0;
  for (const layers of prompts) {
    for (const heads of layers) {
      for (const m of heads) {
        if (key >= m.n) continue;
        total++;
        if (columnImportance(m)[key]! > epsilon) count++;
      }
    }
  }
  return { rate: total === 0 ? 0 : (100 * count) / total, count, total, epsilon, key };
}

/** Heads whose imp[0] exceeds ε on this prompt. */
export function firstTokenSinkHeads(layers: PromptMaps, epsilon = 0.3): Finding[] {
  const out: Finding[] = [];
  layers.forEach((heads, layer) => {
    heads.forEach((m, head) => {
      const s = columnImportance(m)[0]!;
      if (s > epsilon) out.push({ kind: 'first-token-sink', layer, head, score: s, threshold: epsilon });
    });
  });
  return out;
}

export interface HiddenSinkOptions {
  /** 'absolute': imp > tau (default 0.1, the ACT authors' code); 'relative': imp > alpha / N (the paper's form). */
  mode?: 'absolute' | 'relative';
  tau?: number;
  alpha?: number;
  /** Ignore the last k keys, which few queries see (default 4). */
  ignoreLastKeys?: number;
}

/** Tokens after position 0 that act as sinks (ACT, methods.md §2), per head. */
export function hiddenSinks(layers: PromptMaps, options: HiddenSinkOptions = {}): Finding[] {
  const mode = options.mode ?? 'absolute';
  const ignore = options.ignoreLastKeys ?? 4;
  const out: Finding[] = [];
  layers.forEach((heads, layer) => {
    heads.forEach((m, head) => {
      const threshold = mode === 'absolute' ? (options.tau ?? 0.1) : (options.alpha ?? 5) / m.n;
      const imp = columnImportance(m);
      for (let j = 1; j < m.n - ignore; j++) {
        if (imp[j]! > threshold) out.push({ kind: 'hidden-sink', layer, head, score: imp[j]!, threshold, evidence: { key: j } });
      }
    });
  });
  return out;
}
