/**
 * Retrieval-lab benchmark (Node, Dawn): the needle grid on one checkpoint, seconds per test, the memory
 * that bounds the longest length, and (for a real model) the whole report. Stops cleanly at --budget-s,
 * keeping the tests done so far.
 *
 *   node bench/dist/retrieval.mjs --dir DIR --out OUT.json [--lengths a,b,…] [--depths 0,50,100] [--needles N]
 *     [--max-new-tokens 50] [--mask-top K] [--budget-s S] [--warm-ms MS] [--prefill-mib 256]
 */
import { writeFileSync } from 'node:fs';
import { BUILTIN_NEEDLES, parseNumberList, planGrid, reportJson, runRetrieval, summariseRetrieval, type TestResult } from '../packages/analysis/src/index.js';
import { PREFILL_SCORE_BYTES, prefillChunkForModel, prefillLayerBytes } from '../packages/models/src/engine/decode-trace.js';
import { NodeDirSource } from '../packages/models/src/loading/node-dir-source.js';
import { loadModel } from '../packages/models/src/model.js';
import { createNodeContext } from '../packages/wgpu-kernels/src/node.js';
import { warmGpu } from './model-run.js';
import { median } from './timing.js';

const argv = process.argv.slice(2);
const arg = (f: string): string | undefined => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : undefined);
const dir = arg('--dir') ?? 'public/models/headscope-tiny';
const out = arg('--out') ?? 'retrieval.json';
const budgetS = arg('--budget-s');

const ctx = await createNodeContext();
const t0 = performance.now();
const model = await loadModel(ctx, new NodeDirSource(dir));
const loadSeconds = (performance.now() - t0) / 1000;
const c = model.transformer.config;
await warmGpu(ctx, Number(arg('--warm-ms') ?? 0));
const settings = {
  needles: BUILTIN_NEEDLES.slice(0, Number(arg('--needles') ?? BUILTIN_NEEDLES.length)),
  ...(arg('--lengths') ? { lengths: parseNumberList(arg('--lengths')!, 'lengths') } : {}),
  ...(arg('--depths') ? { depths: parseNumberList(arg('--depths')!, 'depths') } : {}),
  maxNewTokens: Number(arg('--max-new-tokens') ?? 50),
  maskTop: Number(arg('--mask-top') ?? 0),
  prefillScoreBytes: Number(arg('--prefill-mib') ?? PREFILL_SCORE_BYTES / 2 ** 20) * 2 ** 20,
};
const plan = planGrid(model, settings);
const longest = Math.max(...plan.tests.map((t) => t.ids.length));
const rows: (Pick<TestResult, 'length' | 'depth' | 'seconds' | 'recall' | 'counted' | 'response'> & { phase: string; scores: number[] })[] = [];
const steps: number[] = [];
const abort = new AbortController();
// setTimeout takes at most 2^31 − 1 ms (longer delays fire at once), so no budget means no timer.
const timer = budgetS ? setTimeout(() => abort.abort(), Number(budgetS) * 1000) : undefined;
let report: Awaited<ReturnType<typeof runRetrieval>> | undefined;
const started = performance.now();
try {
  report = await runRetrieval(model, settings, {
    signal: abort.signal,
    onTest: (r, done, total, phase) => {
      rows.push({
        phase,
        length: r.length,
        depth: r.depth,
        seconds: r.seconds,
        recall: r.recall,
        counted: r.counted,
        response: r.response,
        scores: Array.from(r.scores),
      });
      steps.push(r.steps.length);
      if (done % 10 === 0 || done === total)
        console.log(`test ${done}/${total}: length ${r.length} depth ${r.depth} ${r.seconds.toFixed(3)} s, ${r.steps.length} tokens`);
    },
  });
} catch (e) {
  if (!abort.signal.aborted) throw e;
  console.log(`budget reached after ${rows.length} tests`);
}
clearTimeout(timer);
const byLength = [...new Set(rows.map((r) => r.length))].map((length) => {
  const s = rows.filter((r) => r.length === length).map((r) => r.seconds);
  return { length, tests: s.length, medianSeconds: median(s) };
});
// When the budget cut the run short: the grid's tests done so far, summarised the same way.
const gridRows = rows.filter((r) => r.phase === 'grid');
const partial = summariseRetrieval(gridRows, c.nLayers * c.nHeads);
const partialTop = Array.from(partial.retrieval, (retrieval, i) => ({ layer: Math.floor(i / c.nHeads), head: i % c.nHeads, retrieval }))
  .sort((a, b) => b.retrieval - a.retrieval)
  .slice(0, 10);
const f32 = 4;
const chunk = prefillChunkForModel(model.transformer, longest - 1, Math.min(settings.prefillScoreBytes, ctx.limits.maxStorageBufferBindingSize));
const chunkLayerBytes = prefillLayerBytes(model.transformer, chunk);
const result = {
  dir,
  model: { layers: c.nLayers, heads: c.nHeads, kvHeads: c.nKvHeads, dHead: c.dHead, dModel: c.dModel, vocab: c.vocabSize, nCtx: c.nCtx },
  loadSeconds,
  planned: plan.tests.length * (settings.maskTop > 0 ? 3 : 1),
  completed: rows.length,
  wallSeconds: (performance.now() - started) / 1000,
  secondsPerTest: { median: median(rows.map((r) => r.seconds)), mean: rows.reduce((a, r) => a + r.seconds, 0) / Math.max(1, rows.length) },
  tokensPerTest: { median: median(steps), max: Math.max(0, ...steps) },
  byLength,
  memory: {
    longestPromptTokens: longest,
    kvCacheBytes: 2 * c.nLayers * (longest + settings.maxNewTokens) * c.nKvHeads * c.dHead * f32,
    // The prompt pass runs in chunks (decodeTrace, prefillChunkForModel) through the online softmax: no score
    // matrix, and one layer's activations of a chunk within the --prefill-mib budget.
    prefillChunkTokens: chunk,
    prefillLayerActivationBytes: chunkLayerBytes,
    // A materialising kernel would hold H·T² scores per layer for the whole prompt in one pass.
    unchunkedScoresBytesPerLayer: c.nHeads * (longest - 1) ** 2 * f32,
    // What decoding keeps per step: one row per head and layer, then only the argmax indices.
    stepCaptureBytes: c.nLayers * c.nHeads * (longest + settings.maxNewTokens) * f32,
    pool: ctx.pool.stats,
  },
  gridSummary: { tests: partial.tests, counted: partial.counted, accuracy: partial.accuracy, cells: partial.cells, topHeads: partialTop },
  rows,
  ...(report ? { report: reportJson(report) } : {}),
};
writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
console.log(JSON.stringify({ ...result, rows: undefined, report: report ? { counted: report.counted, accuracy: report.accuracy.overall } : undefined }));
model.dispose();
ctx.destroy();
