/**
 * Retrieval-head scoring (methods.md §4, Wu et al. 2024) on what decoding captured: per emitted token,
 * the argmax key of every query head's attention row in the step that produced it. Pure TypeScript: the
 * reference the GPU path is tested against, and the scorer itself (only indices come off the GPU).
 */

export interface DecodedTest {
  /** Prompt token ids. */
  prompt: readonly number[];
  /** Answer span in the prompt, [s, e). */
  span: readonly [number, number];
  /** Emitted token ids w_0 … w_{n−1}. */
  emitted: readonly number[];
  /** argmax[t][layer·H + head] = argmax key of that head's row in the step that produced emitted[t]. */
  argmax: ReadonlyArray<ArrayLike<number>>;
}

/**
 * Per-head score of one test: a head earns 1/(e − s) at step t when its argmax key j* lies in [s, e) and
 * prompt[j*] = w_t (it pointed at the very token it helped emit). Returned per head, index layer·H + head.
 */
export function retrievalScores(test: DecodedTest, heads: number): Float64Array {
  const [s, e] = test.span;
  const out = new Float64Array(heads);
  const w = 1 / (e - s);
  test.emitted.forEach((token, t) => {
    const row = test.argmax[t];
    if (!row) return;
    for (let h = 0; h < heads; h++) {
      const j = row[h]!;
      if (j >= s && j < e && test.prompt[j] === token) out[h]! += w;
    }
  });
  return out;
}

/** Which heads pointed at the needle at step t: the per-step evidence the view lists. */
export function copyingHeadsAt(test: DecodedTest, t: number, heads: number): number[] {
  const [s, e] = test.span;
  const row = test.argmax[t];
  const token = test.emitted[t];
  const out: number[] = [];
  if (!row) return out;
  for (let h = 0; h < heads; h++) {
    const j = row[h]!;
    if (j >= s && j < e && test.prompt[j] === token) out.push(h);
  }
  return out;
}

/** Lower-case words (letters and digits) for ROUGE-1. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** ROUGE-1 recall: answer unigrams found in the response (each counted at most as often as it occurs there) / answer unigrams. */
export function rouge1Recall(answer: string, response: string): number {
  const ref = words(answer);
  if (ref.length === 0) return 0;
  const have = new Map<string, number>();
  for (const w of words(response)) have.set(w, (have.get(w) ?? 0) + 1);
  let hit = 0;
  for (const w of ref) {
    const n = have.get(w) ?? 0;
    if (n > 0) {
      hit++;
      have.set(w, n - 1);
    }
  }
  return hit / ref.length;
}

/** A test counts (is evidence) only if the answer was retrieved: ROUGE-1 recall > 0.5. */
export const RETRIEVED_RECALL = 0.5;
/** A head is a retrieval head above this mean score (methods.md §4). */
export const RETRIEVAL_THRESHOLD = 0.1;

export interface TestOutcome {
  length: number;
  depth: number;
  recall: number;
  /** Per-head scores of this test (layer·H + head). */
  scores: ArrayLike<number>;
}

export interface CellAccuracy {
  length: number;
  depth: number;
  tests: number;
  retrieved: number;
  /** retrieved / tests: the NIAH accuracy of this (length, depth) cell. */
  accuracy: number;
}

export interface RetrievalSummary {
  tests: number;
  /** Tests whose answer was retrieved (recall > 0.5): the only ones that score heads. */
  counted: number;
  /** counted / tests. */
  accuracy: number;
  cells: CellAccuracy[];
  /** Per head (layer·H + head): mean score over counted tests; all 0 when none counted (then `counted` says so). */
  retrieval: Float64Array;
}

/** Aggregates tests: NIAH accuracy per (length, depth), and each head's mean score over counted tests. */
export function summariseRetrieval(outcomes: readonly TestOutcome[], heads: number): RetrievalSummary {
  const cells = new Map<string, CellAccuracy>();
  const retrieval = new Float64Array(heads);
  let counted = 0;
  for (const o of outcomes) {
    const key = `${o.length}:${o.depth}`;
    let c = cells.get(key);
    if (!c) {
      c = { length: o.length, depth: o.depth, tests: 0, retrieved: 0, accuracy: 0 };
      cells.set(key, c);
    }
    c.tests++;
    if (o.recall > RETRIEVED_RECALL) {
      c.retrieved++;
      counted++;
      for (let h = 0; h < heads; h++) retrieval[h]! += o.scores[h]!;
    }
  }
  if (counted > 0) for (let h = 0; h < heads; h++) retrieval[h]! /= counted;
  const list = [...cells.values()].sort((a, b) => a.length - b.length || a.depth - b.depth);
  for (const c of list) c.accuracy = c.retrieved / c.tests;
  return { tests: outcomes.length, counted, accuracy: outcomes.length ? counted / outcomes.length : 0, cells: list, retrieval };
}

/** The K best-scoring heads (ties → lower index), as flat indices. */
export function topHeads(retrieval: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: retrieval.length }, (_, i) => i)
    .sort((a, b) => retrieval[b]! - retrieval[a]! || a - b)
    .slice(0, k);
}

/**
 * K random heads for the masking control, drawn with the top heads' layer distribution: for every top
 * head one other head of the same layer (not a top head, not drawn twice), chosen by a seeded generator.
 * Where a layer has no head left, any unused non-top head is taken.
 */
export function randomHeadsLike(top: readonly number[], nHeads: number, nLayers: number, random: () => number): number[] {
  const topSet = new Set(top);
  const used = new Set<number>();
  const pick = (pool: number[]) => {
    const free = pool.filter((h) => !topSet.has(h) && !used.has(h));
    if (free.length === 0) return undefined;
    const h = free[Math.floor(random() * free.length)]!;
    used.add(h);
    return h;
  };
  const all = Array.from({ length: nHeads * nLayers }, (_, i) => i);
  const out: number[] = [];
  for (const t of top) {
    const layer = Math.floor(t / nHeads);
    const h = pick(all.filter((i) => Math.floor(i / nHeads) === layer)) ?? pick(all);
    if (h !== undefined) out.push(h);
  }
  return out;
}
