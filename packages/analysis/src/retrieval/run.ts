import { decodeTrace, type HeadscopeTokenizer, type Intervention, mulberry32, type Transformer, uniformMasks } from '@headscope/models';
import { buildGrid, DEFAULT_DEPTHS, DEFAULT_MAX_NEW_TOKENS, defaultLengths, type GridSpec, maxContextLength, type NeedleTest } from './grid.js';
import { BUILTIN_HAYSTACK } from './haystack.js';
import { BUILTIN_NEEDLES, type Needle } from './needles.js';
import {
  type CellAccuracy,
  copyingHeadsAt,
  RETRIEVAL_THRESHOLD,
  RETRIEVED_RECALL,
  randomHeadsLike,
  retrievalScores,
  rouge1Recall,
  summariseRetrieval,
  topHeads,
} from './score.js';

/** What the lab needs of a loaded model (LoadedModel fits). */
export interface RetrievalModel {
  transformer: Transformer;
  tokenizer: HeadscopeTokenizer;
}

export interface RetrievalSettings {
  needles?: readonly Needle[];
  haystack?: string;
  /** Default: 10 lengths from 256 to the context minus the question and the answer budget. */
  lengths?: readonly number[];
  depths?: readonly number[];
  maxNewTokens?: number;
  template?: string;
  addBos?: boolean;
  /** Also re-run the grid with the top-K heads masked, and with K random heads of the same layers. */
  maskTop?: number;
  /** Seed of the random heads (default 0). */
  seed?: number;
  /** Budget of the prefill's transient attention scores per layer (decodeTrace's default when absent). */
  prefillScoreBytes?: number;
}

export interface StepEvidence {
  token: number;
  text: string;
  /** Heads (flat layer·H + head) whose argmax key was the needle token just emitted. */
  heads: number[];
}

export interface TestResult {
  index: number;
  needleIndex: number;
  length: number;
  depth: number;
  /** Decoded answer (up to the first newline). */
  response: string;
  recall: number;
  /** Retrieved (recall > 0.5): only these tests score heads. */
  counted: boolean;
  span: [number, number];
  promptTokens: number;
  steps: StepEvidence[];
  /** Per-head score of this test (flat layer·H + head). */
  scores: Float64Array;
  seconds: number;
}

export interface MaskingArm {
  heads: { layer: number; head: number }[];
  accuracy: number;
  counted: number;
  tests: number;
}

export interface RetrievalReport {
  model: { layers: number; heads: number; nCtx: number };
  settings: { lengths: number[]; depths: number[]; maxNewTokens: number; needles: number; template?: string };
  tests: TestResult[];
  counted: number;
  accuracy: { overall: number; cells: CellAccuracy[] };
  /** One entry per (layer, head), with its retrieval score (mean over counted tests). */
  heads: { layer: number; head: number; retrieval: number }[];
  threshold: number;
  masking?: { top: MaskingArm; random: MaskingArm; baseline: number; seed: number };
  seconds: number;
}

export interface RunHooks {
  signal?: AbortSignal;
  /** After each test: the result, and how many tests of the whole run (masking included) are done. */
  onTest?: (result: TestResult, done: number, total: number, phase: 'grid' | 'mask-top' | 'mask-random') => void;
}

/** The grid this model and these settings make (defaults filled in); bad input throws a RetrievalInputError. */
export function planGrid(model: RetrievalModel, settings: RetrievalSettings): { tests: NeedleTest[]; spec: GridSpec; maxNewTokens: number } {
  const tok = model.tokenizer;
  const nCtx = model.transformer.config.nCtx;
  const maxNewTokens = settings.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  const needles = settings.needles ?? BUILTIN_NEEDLES;
  const haystack = settings.haystack ?? BUILTIN_HAYSTACK;
  let lengths = settings.lengths;
  if (!lengths) {
    const q = Math.max(...needles.map((n) => tok.encode(n.question, { addBos: false, checkContext: false }).length));
    const t = settings.template
      ? tok.encode(settings.template.replace('{context}', '').replace('{question}', ''), { addBos: false, checkContext: false }).length
      : 0;
    lengths = defaultLengths(maxContextLength(nCtx, q + t + 1, maxNewTokens));
  }
  const spec: GridSpec = {
    needles,
    haystack,
    lengths,
    depths: settings.depths ?? DEFAULT_DEPTHS,
    ...(settings.template !== undefined ? { template: settings.template } : {}),
    ...(settings.addBos !== undefined ? { addBos: settings.addBos } : {}),
  };
  return { tests: buildGrid(tok, spec, { nCtx, maxNewTokens }), spec, maxNewTokens };
}

/** Decoding's stop rule (methods.md §4): a token whose text holds a newline (memoised per id). */
export function stopAtNewline(tok: Pick<HeadscopeTokenizer, 'decode'>): (id: number) => boolean {
  const newline = new Map<number, boolean>();
  return (id) => {
    let nl = newline.get(id);
    if (nl === undefined) {
      nl = tok.decode([id]).includes('\n');
      newline.set(id, nl);
    }
    return nl;
  };
}

/** Runs one needle test: greedy decoding with per-step argmaxes, the response, its recall and the head scores. */
export async function runNeedleTest(
  model: RetrievalModel,
  test: NeedleTest,
  needle: Needle,
  maxNewTokens: number,
  options: { interventions?: readonly Intervention[]; signal?: AbortSignal; prefillScoreBytes?: number } = {},
): Promise<TestResult> {
  const t0 = performance.now();
  const tok = model.tokenizer;
  const { nLayers, nHeads } = model.transformer.config;
  const stopWhen = stopAtNewline(tok);
  const trace = await decodeTrace(model.transformer, test.ids, {
    maxNewTokens,
    stopWhen,
    ...(options.interventions ? { interventions: options.interventions } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.prefillScoreBytes ? { prefillScoreBytes: options.prefillScoreBytes } : {}),
  });
  // Decoding stops before a newline; an answer that starts with one is cut at it, as the protocol reads it.
  const response = tok.decode(trace.ids, { skipSpecialTokens: true }).split('\n')[0]!;
  const recall = rouge1Recall(needle.answer, response);
  const decoded = { prompt: test.ids, span: test.span, emitted: trace.ids, argmax: trace.argmax };
  const heads = nLayers * nHeads;
  return {
    index: test.index,
    needleIndex: test.needleIndex,
    length: test.length,
    depth: test.depth,
    response,
    recall,
    counted: recall > RETRIEVED_RECALL,
    span: test.span,
    promptTokens: test.ids.length,
    steps: trace.ids.map((token, t) => ({ token, text: tok.decode([token]), heads: copyingHeadsAt(decoded, t, heads) })),
    scores: retrievalScores(decoded, heads),
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * The retrieval lab (methods.md §4): every (needle, length, depth) test, NIAH accuracy per cell, each
 * head's retrieval score over the counted tests, and optionally the masking check (top-K heads vs K
 * random heads of the same layers, seeded), each a full re-run of the grid.
 */
export async function runRetrieval(model: RetrievalModel, settings: RetrievalSettings = {}, hooks: RunHooks = {}): Promise<RetrievalReport> {
  const t0 = performance.now();
  const { nLayers, nHeads, nCtx } = model.transformer.config;
  const heads = nLayers * nHeads;
  const { tests, spec, maxNewTokens } = planGrid(model, settings);
  const maskTop = settings.maskTop ?? 0;
  const total = tests.length * (maskTop > 0 ? 3 : 1);
  let done = 0;
  const runAll = async (phase: 'grid' | 'mask-top' | 'mask-random', interventions?: Intervention[]) => {
    const out: TestResult[] = [];
    for (const t of tests) {
      const r = await runNeedleTest(model, t, spec.needles[t.needleIndex]!, maxNewTokens, {
        ...(interventions ? { interventions } : {}),
        ...(hooks.signal ? { signal: hooks.signal } : {}),
        ...(settings.prefillScoreBytes ? { prefillScoreBytes: settings.prefillScoreBytes } : {}),
      });
      out.push(r);
      hooks.onTest?.(r, ++done, total, phase);
    }
    return out;
  };
  const results = await runAll('grid');
  const summary = summariseRetrieval(results, heads);
  const asHead = (i: number) => ({ layer: Math.floor(i / nHeads), head: i % nHeads });
  const report: RetrievalReport = {
    model: { layers: nLayers, heads: nHeads, nCtx },
    settings: {
      lengths: [...spec.lengths],
      depths: [...spec.depths],
      maxNewTokens,
      needles: spec.needles.length,
      ...(spec.template !== undefined ? { template: spec.template } : {}),
    },
    tests: results,
    counted: summary.counted,
    accuracy: { overall: summary.accuracy, cells: summary.cells },
    heads: Array.from(summary.retrieval, (retrieval, i) => ({ ...asHead(i), retrieval })),
    threshold: RETRIEVAL_THRESHOLD,
    seconds: 0,
  };
  if (maskTop > 0) {
    const seed = settings.seed ?? 0;
    const top = topHeads(summary.retrieval, Math.min(maskTop, heads)).map(asHead);
    const random = randomHeadsLike(
      top.map((h) => h.layer * nHeads + h.head),
      nHeads,
      nLayers,
      mulberry32(seed),
    ).map(asHead);
    const arm = async (phase: 'mask-top' | 'mask-random', masked: { layer: number; head: number }[]): Promise<MaskingArm> => {
      const s = summariseRetrieval(await runAll(phase, uniformMasks(masked)), heads);
      return { heads: masked, accuracy: s.accuracy, counted: s.counted, tests: s.tests };
    };
    report.masking = { top: await arm('mask-top', top), random: await arm('mask-random', random), baseline: summary.accuracy, seed };
  }
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}

/** The report as JSON-ready data (typed arrays as plain lists). */
export function reportJson(report: RetrievalReport): unknown {
  return { ...report, tests: report.tests.map((t) => ({ ...t, scores: Array.from(t.scores) })) };
}
