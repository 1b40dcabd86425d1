/**
 * Successor-head benchmark: the whole successor analysis (task sets from the tokenizer, the restricted OV
 * circuit of every head on the GPU, scores) of a model folder, timed after warm-up, with the bytes read
 * back from the GPU counted. `--make-tokenizer` first writes a tokenizer.json whose single tokens are every
 * task member (for random checkpoints made without their real tokenizer). Writes tasks.json and
 * argmax.bin beside --out for tools/reference/successor_reference.py. Then the behavioural check (one short
 * pass per ordinal and control prompt), timed likewise; behaviour.json beside --out holds its prompts and
 * per-head numbers for tools/reference/successor_behaviour_reference.py.
 *
 *   node bench/dist/successor.mjs --model DIR [--make-tokenizer] [--runs 10] [--out result.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  analyzeSuccessors,
  findTaskSets,
  rankSuccessorHeads,
  SUCCESSOR_TASKS,
  successorBehaviour,
  taskReport,
  taskTokenizer,
} from '../packages/analysis/src/index.js';
import { loadModel } from '../packages/models/src/index.js';
import { NodeDirSource } from '../packages/models/src/node.js';
import { createNodeContext } from '../packages/wgpu-kernels/src/node.js';
import { PLANTED_OTHER_WORDS, wordTokenizerJson } from '../test/support/successor-model.js';
import { median } from './timing.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const dir = arg('model');
if (!dir) throw new Error('--model DIR is required');
const runs = Number(arg('runs') ?? 10);
const out = arg('out') ?? 'successor-result.json';

if (process.argv.includes('--make-tokenizer')) {
  const vocab = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).vocab_size as number;
  const words = [...new Set(SUCCESSOR_TASKS.flatMap((t) => t.words))];
  writeFileSync(join(dir, 'tokenizer.json'), wordTokenizerJson([...words, ...PLANTED_OTHER_WORDS], vocab).json);
}

const ctx = await createNodeContext({ profile: false });
let readBytes = 0;
const read = ctx.read.bind(ctx);
ctx.read = async (t, offset = 0, count = t.size - offset) => {
  readBytes += count * 4;
  return read(t, offset, count);
};
const t0 = performance.now();
const model = await loadModel(ctx, new NodeDirSource(dir));
const loadMs = performance.now() - t0;
const c = model.config;
const params = model.transformer.config;
console.log(
  `${c.modelType}: ${c.nLayers} layers × ${c.nHeads} heads (${c.nKvHeads} KV), d_model ${c.dModel}, vocab ${c.vocabSize}; loaded in ${loadMs.toFixed(0)} ms`,
);

const wall: number[] = [];
let bytesPerRun = 0;
let coldMs = 0;
let last: Awaited<ReturnType<typeof analyzeSuccessors>> | undefined;
for (let i = 0; i < runs + 3; i++) {
  last?.circuit.release();
  readBytes = 0;
  const s = performance.now();
  last = await analyzeSuccessors(model);
  const ms = performance.now() - s;
  if (i === 0) coldMs = ms;
  if (i >= 3) wall.push(ms);
  bytesPerRun = readBytes;
}
const a = last!;
// The CPU part alone: finding the task sets in the tokenizer.
const taskMs: number[] = [];
for (let i = 0; i < 5; i++) {
  const s = performance.now();
  findTaskSets(taskTokenizer(model));
  taskMs.push(performance.now() - s);
}
// The behavioural check: every prompt's pass and the per-head attribution, cold then warm.
const behaviourWall: number[] = [];
let behaviourCold = 0;
let behaviourBytes = 0;
let behaviour: Awaited<ReturnType<typeof successorBehaviour>> | undefined;
for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)) + 2; i++) {
  readBytes = 0;
  const s = performance.now();
  behaviour = await successorBehaviour(model, a.tasks);
  const ms = performance.now() - s;
  if (i === 0) behaviourCold = ms;
  if (i >= 2) behaviourWall.push(ms);
  behaviourBytes = readBytes;
}
const b = behaviour!;
const ranked = rankSuccessorHeads(a.heads);
const weightBytes = (c.vocabSize * c.dModel + c.nLayers * 12 * c.dModel * c.dModel) * 4;
const result = {
  model: c.modelType,
  shape: { layers: c.nLayers, heads: c.nHeads, kv_heads: c.nKvHeads, d_model: c.dModel, d_head: params.dHead, vocab: c.vocabSize },
  tasks: a.tasks.all.map((t) => ({ id: t.id, members: t.members.length, of: t.total, pairs: t.pairs.length })),
  task_report: taskReport(a.tasks.all),
  task_tokens: a.tasks.tokens.length,
  analysis_ms: { cold_first_run: coldMs, warm_median: median(wall), warm_min: Math.min(...wall), runs: wall.length, all: wall },
  task_sets_ms_median: median(taskMs),
  readback_bytes_per_run: bytesPerRun,
  approx_weight_bytes: weightBytes,
  top_heads: ranked.slice(0, 10).map((h) => ({ layer: h.layer, head: h.head, score: h.score, tasks: h.tasks })),
  load_ms: loadMs,
  behaviour: {
    prompts: b.prompts.length,
    ms: { cold_first_run: behaviourCold, warm_median: median(behaviourWall), runs: behaviourWall.length, all: behaviourWall },
    readback_bytes_per_run: behaviourBytes,
    holds: b.heads.filter((h) => h.holds).map((h) => `L${h.layer}H${h.head}`),
    top_by_margin: [...b.heads].sort((x, y) => y.margin - x.margin).slice(0, 5),
  },
};
console.log(JSON.stringify(result, null, 1));
writeFileSync(out, JSON.stringify(result, null, 1));
// For the PyTorch reference: the tasks (token ids, pairs) and every head's argmax (u32 [L, H, R]).
const tasksOut = { tokens: a.tasks.tokens, tasks: a.tasks.tasks.map((t) => ({ id: t.id, tokens: t.members.map((m) => m.token), pairs: t.pairs })) };
writeFileSync(join(dirname(out), 'tasks.json'), JSON.stringify(tasksOut));
writeFileSync(join(dirname(out), 'argmax.bin'), a.circuit.argmax);
writeFileSync(
  join(dirname(out), 'behaviour.json'),
  JSON.stringify({
    prompts: b.prompts.map((p) => ({ kind: p.kind, text: p.text, tokens: p.tokens, last_item: p.lastItem, successor: p.successor, item: p.item })),
    // per_prompt[p][layer·H + head] = [attention to the last item, DLA successor, DLA item]
    per_prompt: b.perPrompt.map((row) => row.map((r) => [r.attention, r.successor, r.item])),
    holds: b.heads.map((h) => h.holds),
  }),
);
a.circuit.release();
model.dispose();
ctx.destroy();
