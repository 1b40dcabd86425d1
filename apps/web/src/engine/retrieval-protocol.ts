/**
 * The retrieval lab's messages (methods.md §4): what the page asks the worker to run, the per-test rows
 * that stream back as progress, the whole report, and one test viewed in detail. Plain data only.
 */
import type { CellAccuracy } from '@headscope/analysis';

/** The lab's settings as the page holds them; the worker parses and checks them (typed errors). */
export interface RetrievalRequest {
  /** A needle file (JSONL); absent: the built-in needles. */
  needlesJsonl?: string;
  /** Haystack text; absent: the built-in extract. */
  haystack?: string;
  /** "256,512,…" in tokens; empty: the default lengths for this model. */
  lengths: string;
  /** "0,50,100" in percent; empty: 0…100 in steps of 10. */
  depths: string;
  maxNewTokens: number;
  /** Re-run the grid with the top K heads masked and with K random heads masked (0: no masking check). */
  maskTop: number;
  seed: number;
}

export type RetrievalPhase = 'grid' | 'mask-top' | 'mask-random';

/** One finished test, as it streams in. */
export interface RetrievalTestRow {
  phase: RetrievalPhase;
  index: number;
  needleIndex: number;
  length: number;
  depth: number;
  response: string;
  recall: number;
  counted: boolean;
  promptTokens: number;
  /** Per emitted token: its text and the heads (layer·H + head) whose argmax key was the needle token it copied. */
  steps: { text: string; heads: number[] }[];
  /** This test's score per head (layer·H + head). */
  scores: Float64Array;
  seconds: number;
}

export interface RetrievalProgress {
  done: number;
  total: number;
  elapsedMs: number;
  /** Time left, from the mean time per test so far. */
  etaMs: number;
  row: RetrievalTestRow;
  /** The grid's axes and needle count (defaults filled in), so the page can draw cells still to come. */
  lengths: number[];
  depths: number[];
  needles: number;
}

export interface RetrievalMaskArm {
  heads: { layer: number; head: number }[];
  accuracy: number;
  counted: number;
  tests: number;
}

export interface RetrievalOutcome {
  model: { layers: number; heads: number; nCtx: number };
  lengths: number[];
  depths: number[];
  maxNewTokens: number;
  needles: number;
  /** The grid's tests (masking re-runs are summarised in `masking`). */
  tests: RetrievalTestRow[];
  counted: number;
  accuracy: { overall: number; cells: CellAccuracy[] };
  /** Mean score over counted tests, per head (layer·H + head). */
  retrieval: Float64Array;
  threshold: number;
  masking?: { baseline: number; top: RetrievalMaskArm; random: RetrievalMaskArm; seed: number };
  seconds: number;
}

/** One test of the last run, recomputed with its attention rows kept for one head. */
export interface RetrievalTestRequest {
  settings: RetrievalRequest;
  index: number;
  layer: number;
  head: number;
}

export interface RetrievalTestView {
  index: number;
  needleIndex: number;
  length: number;
  depth: number;
  response: string;
  /** Prompt token texts. */
  tokens: string[];
  /** Answer tokens [s, e) and the whole needle, in prompt positions. */
  span: [number, number];
  needleSpan: [number, number];
  layer: number;
  head: number;
  /** The decode step shown: the first that emitted the answer's first token, else step 0. */
  step: number;
  /** Emitted token texts. */
  emitted: string[];
  /** The head's attention row at that step over the prompt (and the tokens emitted before it). */
  row: Float32Array;
}
