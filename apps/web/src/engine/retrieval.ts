/**
 * The retrieval lab's engine side: parses the page's settings (typed errors for bad needles, lengths,
 * depths or an empty haystack), runs the needle grid with runRetrieval and streams every finished test
 * back, and recomputes one test with its attention rows kept so that the page can show where a head
 * looked at the answer step. Needs KV-cache decoding on the GPU engine.
 */
import {
  EmptyHaystackError,
  parseNeedlesJsonl,
  parseNumberList,
  planGrid,
  type RetrievalSettings,
  runRetrieval,
  stopAtNewline,
  type TestResult,
} from '@headscope/analysis';
import { decodeTrace, type LoadedModel } from '@headscope/models';
import type {
  RetrievalOutcome,
  RetrievalPhase,
  RetrievalProgress,
  RetrievalRequest,
  RetrievalTestRequest,
  RetrievalTestRow,
  RetrievalTestView,
} from './retrieval-protocol.js';

/** The model runs on the CPU reference path or onnxruntime-web, which have no KV-cache decoding with captured rows. */
export class RetrievalNeedsGpuError extends Error {
  readonly fix = 'Load the model on the WebGPU engine (a safetensors checkpoint in a browser with WebGPU) to run needle tests.';
  constructor(runtime: string) {
    super(`The retrieval lab decodes with the KV cache and captures each step's attention, which ${runtime} cannot do.`);
    this.name = 'RetrievalNeedsGpuError';
  }
}

/** The page's settings as runRetrieval's; every parse error is a typed RetrievalInputError. */
export function retrievalSettings(req: RetrievalRequest): RetrievalSettings {
  const needles = req.needlesJsonl !== undefined ? parseNeedlesJsonl(req.needlesJsonl) : undefined;
  if (req.haystack !== undefined && req.haystack.trim() === '') throw new EmptyHaystackError();
  return {
    ...(needles ? { needles } : {}),
    ...(req.haystack !== undefined ? { haystack: req.haystack } : {}),
    ...(req.lengths.trim() !== '' ? { lengths: parseNumberList(req.lengths, 'lengths') } : {}),
    ...(req.depths.trim() !== '' ? { depths: parseNumberList(req.depths, 'depths') } : {}),
    maxNewTokens: req.maxNewTokens,
    maskTop: req.maskTop,
    seed: req.seed,
  };
}

function rowOf(r: TestResult, phase: RetrievalPhase): RetrievalTestRow {
  return {
    phase,
    index: r.index,
    needleIndex: r.needleIndex,
    length: r.length,
    depth: r.depth,
    response: r.response,
    recall: r.recall,
    counted: r.counted,
    promptTokens: r.promptTokens,
    steps: r.steps.map((s) => ({ text: s.text, heads: s.heads })),
    scores: r.scores,
    seconds: r.seconds,
  };
}

/** The whole lab: every test streams through `onProgress`; the report comes back at the end. */
export async function runLab(
  model: LoadedModel,
  req: RetrievalRequest,
  signal: AbortSignal,
  onProgress: (p: RetrievalProgress) => void,
): Promise<RetrievalOutcome> {
  const parsed = retrievalSettings(req);
  // Planned here first so that every progress event can carry the grid's axes (the defaults filled in).
  const { spec } = planGrid(model, parsed);
  const settings = { ...parsed, lengths: spec.lengths, depths: spec.depths };
  const axes = { lengths: [...spec.lengths], depths: [...spec.depths], needles: spec.needles.length };
  const t0 = performance.now();
  const grid: RetrievalTestRow[] = [];
  const report = await runRetrieval(model, settings, {
    signal,
    onTest: (r, done, total, phase) => {
      const row = rowOf(r, phase);
      if (phase === 'grid') grid.push(row);
      const elapsedMs = performance.now() - t0;
      onProgress({ done, total, elapsedMs, etaMs: (elapsedMs / done) * (total - done), row, ...axes });
    },
  });
  return {
    model: report.model,
    lengths: report.settings.lengths,
    depths: report.settings.depths,
    maxNewTokens: report.settings.maxNewTokens,
    needles: report.settings.needles,
    tests: grid,
    counted: report.counted,
    accuracy: report.accuracy,
    retrieval: Float64Array.from(report.heads, (h) => h.retrieval),
    threshold: report.threshold,
    ...(report.masking ? { masking: report.masking } : {}),
    seconds: report.seconds,
  };
}

/** One grid test again, greedy as in the run, keeping the attention rows of (layer, head) at the answer step. */
export async function viewTest(model: LoadedModel, req: RetrievalTestRequest): Promise<RetrievalTestView> {
  const { nLayers: L, nHeads: H } = model.transformer.config;
  const { layer, head } = req;
  if (!(layer >= 0 && layer < L && head >= 0 && head < H)) throw new RangeError(`head L${layer}H${head} is outside this model`);
  const { tests, maxNewTokens } = planGrid(model, retrievalSettings(req.settings));
  const test = tests[req.index];
  if (!test) throw new RangeError(`test ${req.index} is not in this grid (${tests.length} tests); run the grid again`);
  const tok = model.tokenizer;
  const trace = await decodeTrace(model.transformer, test.ids, { maxNewTokens, stopWhen: stopAtNewline(tok), keepRows: true });
  const first = test.ids[test.span[0]];
  const step = Math.max(0, trace.ids.indexOf(first!));
  const keys = test.ids.length + step;
  const rows = trace.rows?.[step];
  const h = layer * H + head;
  return {
    index: test.index,
    needleIndex: test.needleIndex,
    length: test.length,
    depth: test.depth,
    response: tok.decode(trace.ids, { skipSpecialTokens: true }).split('\n')[0]!,
    tokens: test.ids.map((id) => tok.tokenText(id)),
    span: test.span,
    needleSpan: test.needleSpan,
    layer,
    head,
    step,
    emitted: trace.ids.map((id) => tok.tokenText(id)),
    row: rows ? rows.slice(h * keys, (h + 1) * keys) : new Float32Array(keys),
  };
}
