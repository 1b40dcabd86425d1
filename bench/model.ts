/**
 * Model-level benchmark (Node, Dawn): the whole forward pass from `run` to results ready, for checkpoints
 * in Hugging Face layout (bench/model_torch.py writes seeded random ones with transformers on the GPU
 * machine and times PyTorch on them in the same job). See bench/README.md.
 *
 *   node bench/dist/model.mjs --dir DIR [--models gpt2,pythia,qwen] [--T 128,512,…] [--modes maps,reductions,stats,none] [--logits all,needed]
 *     [--reps N] [--decode N] [--profile] [--torch torch.json] [--json out.json] [--budget-s S]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '../packages/models/src/engine/decode.js';
import { Transformer } from '../packages/models/src/engine/forward.js';
import { engineConfigOf, uploadWeights } from '../packages/models/src/engine/upload.js';
import { releaseWeights } from '../packages/models/src/engine/weights.js';
import { inspectModel } from '../packages/models/src/loading/inspect.js';
import { canonicalTensors } from '../packages/models/src/loading/load-model.js';
import { NodeDirSource } from '../packages/models/src/loading/node-dir-source.js';
import { attentionTuning } from '../packages/wgpu-kernels/src/kernels/attention.js';
import { createNodeContext } from '../packages/wgpu-kernels/src/node.js';
import type { GpuContext } from '../packages/wgpu-kernels/src/runtime/context.js';
import { phaseProfile } from './model-profile.js';
import { type CaptureMode, forwardOnce, type LogitsPolicy, logitsFor, passProfile, type TorchResults, torchRatios, warmGpu } from './model-run.js';
import { median } from './timing.js';

const argv = process.argv.slice(2);
const arg = (f: string): string | undefined => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : undefined);
const num = (f: string, d: number): number => Number(arg(f) ?? d);
const list = (f: string, d: string): string[] => (arg(f) ?? d).split(',').filter(Boolean);

const DIR = arg('--dir') ?? 'bench/models';
const MODELS = list('--models', 'gpt2,pythia,qwen');
const LENGTHS = list('--T', '128,512,1024,2048,4096').map(Number);
const MODES = list('--modes', 'maps,reductions,stats,none') as CaptureMode[];
/** all: every position's logits (PyTorch's forward); needed: the logits the user's path needs (model-run.ts). */
const POLICIES = list('--logits', 'all,needed') as LogitsPolicy[];
const REPS = num('--reps', 15);
const DECODE = num('--decode', 64);
const DECODE_PROMPT = num('--decode-prompt', 128);
const PROFILE = argv.includes('--profile');
/** Prompt lengths that get the per-phase profile (with --profile). */
const PROFILE_AT = list('--profile-at', '128,1024').map(Number);
const PROFILE_MODELS = list('--profile-models', 'gpt2,pythia,qwen');
const BUDGET_MS = num('--budget-s', 1e9) * 1000;
/** Wall time one timed configuration may take (reps are cut to fit). */
const CASE_MS = num('--case-s', 3) * 1000;
/** GPU kept busy after loading each model, before timing (the H200 idles at 345 MHz). */
const WARM_MS = num('--warm-ms', 0);
/**
 * GPU kept busy again before each case's timed runs: CPU-bound cases (reads, long recording) let the H200
 * drop to 345 MHz, and the next case's GPU time then measured 2-3x too long (job 4: GPT-2 T = 128).
 */
const WARM_CASE_MS = num('--warm-case-ms', 150);
const started = performance.now();
const overBudget = (): boolean => performance.now() - started > BUDGET_MS;

export interface ForwardRow {
  model: string;
  T: number;
  mode: CaptureMode;
  /** run() → results ready (GPU done), one pass at a time: median over reps. */
  latencyMs: number;
  /** The part of that spent inside run() (recording and submitting). */
  recordMs: number;
  reps: number;
  /** The logits the pass made (policy 'all' falls back to 'last' where [T, vocab] exceeds one binding). */
  logits: 'all' | 'last' | 'none';
  /** Absent in older result files: 'all'. */
  policy?: LogitsPolicy;
  /** Sum of the pass timestamps of one forward (profile context), median over runs. */
  gpuMs?: number;
  /** First pass begin → last pass end of one forward. */
  spanMs?: number;
  passes?: number;
}

export interface DecodeRow {
  model: string;
  prompt: number;
  steps: number;
  tokensPerS: number;
  msPerToken: number;
  prefillMs: number;
}

const f = (x: number | undefined, d = 2): string => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));

async function loadTransformer(ctx: GpuContext, dir: string): Promise<Transformer> {
  const source = new NodeDirSource(dir);
  const maxBufferBytes = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
  const inspection = await inspectModel(source, { maxBufferBytes });
  const config = inspection.config;
  // As loadModel: a tied unembedding reads W_E transposed rather than keeping a copy.
  const tied = config.tiedEmbeddings && !config.unembedBias;
  const weights = await uploadWeights(ctx, config, canonicalTensors(source, inspection, { skip: (n) => n === 'unembed.W_U' && tied }));
  await ctx.sync();
  return new Transformer(ctx, engineConfigOf(config), weights);
}

/** Deterministic token ids in 0..vocab−1. */
function tokens(n: number, vocab: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % vocab;
  });
}

async function timeForward(ctx: GpuContext, model: Transformer, name: string, T: number, mode: CaptureMode, policy: LogitsPolicy): Promise<ForwardRow> {
  const ids = tokens(T, model.config.vocabSize, T);
  // First runs compile pipelines and fill the pool; they also tell how many reps fit the case budget.
  await forwardOnce(ctx, model, ids, mode, policy);
  const second = await forwardOnce(ctx, model, ids, mode, policy);
  const reps = Math.max(3, Math.min(REPS, Math.floor(CASE_MS / Math.max(second.latencyMs, 0.01))));
  await warmGpu(ctx, WARM_CASE_MS);
  const lat: number[] = [];
  const rec: number[] = [];
  for (let i = 0; i < reps; i++) {
    const r = await forwardOnce(ctx, model, ids, mode, policy);
    lat.push(r.latencyMs);
    rec.push(r.recordMs);
  }
  const logits = logitsFor(ctx, model, T, mode, policy);
  const row: ForwardRow = { model: name, T, mode, latencyMs: median(lat), recordMs: median(rec), reps, logits, policy };
  if (ctx.profiler) {
    const p = await passProfile(ctx, model, ids, mode, Math.min(5, reps), policy);
    row.gpuMs = p.gpuMs;
    row.spanMs = p.spanMs;
    row.passes = p.passes;
  }
  console.log(
    `${name.padEnd(7)} T=${String(T).padStart(4)} ${mode.padEnd(10)} ${policy.padEnd(6)} latency ${f(row.latencyMs).padStart(8)} ms  record ${f(row.recordMs).padStart(7)} ms` +
      `  gpu ${f(row.gpuMs).padStart(8)} ms  span ${f(row.spanMs).padStart(8)} ms  passes ${row.passes ?? '-'}  (reps ${reps}, logits ${row.logits})`,
  );
  return row;
}

async function timeDecode(model: Transformer, name: string): Promise<DecodeRow> {
  const prompt = tokens(DECODE_PROMPT, model.config.vocabSize, 7);
  /** Prefill (and its token) ms, then ms for the n tokens after it. */
  const run = async (n: number): Promise<[number, number]> => {
    const t0 = performance.now();
    let t1 = t0;
    const r = await generate(model, prompt, {
      maxNewTokens: n + 1,
      onToken: (_id, step) => {
        if (step === 0) t1 = performance.now();
        return undefined;
      },
    });
    const t2 = performance.now();
    r.prefill.release();
    for (const s of r.steps) s.release();
    if (r.ids.length !== n + 1) throw new Error(`decode stopped after ${r.ids.length} tokens`);
    return [t1 - t0, t2 - t1];
  };
  await run(DECODE); // compile every shape once
  const runs: [number, number][] = [];
  for (let i = 0; i < 3; i++) runs.push(await run(DECODE));
  const msPerToken = median(runs.map((r) => r[1])) / DECODE;
  const row = { model: name, prompt: DECODE_PROMPT, steps: DECODE, tokensPerS: 1000 / msPerToken, msPerToken, prefillMs: median(runs.map((r) => r[0])) };
  console.log(
    `${name.padEnd(7)} decode ${DECODE} tokens after ${DECODE_PROMPT}: ${f(row.tokensPerS, 1)} tokens/s (${f(msPerToken, 3)} ms/token, prefill and its token ${f(row.prefillMs)} ms)`,
  );
  return row;
}

const ctx = await createNodeContext({ profile: PROFILE });
// --flush-every N: dispatches per submit (the engine's default is 48), to measure what submits cost.
if (arg('--flush-every')) ctx.flushEvery = num('--flush-every', ctx.flushEvery);
// --separate-softmax: the softmax as its own pass (the materialising kernel before P·V normalised scores).
if (argv.includes('--separate-softmax')) attentionTuning.separateSoftmax = true;
console.log(`adapter: ${ctx.adapter.description || ctx.adapter.vendor}; ${PROFILE ? 'GPU timestamps on' : 'wall clock only'}`);
const forward: ForwardRow[] = [];
const decode: DecodeRow[] = [];
const profiles: Record<string, unknown> = {};
const skipped: string[] = [];
for (const name of MODELS) {
  if (overBudget()) {
    skipped.push(name);
    continue;
  }
  const t0 = performance.now();
  const model = await loadTransformer(ctx, join(DIR, name));
  console.log(
    `\n== ${name}: loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s (${model.config.nLayers} layers, d ${model.config.dModel}, n_ctx ${model.config.nCtx})`,
  );
  await warmGpu(ctx, WARM_MS);
  for (const T of LENGTHS.filter((t) => t <= model.config.nCtx)) {
    for (const policy of POLICIES) {
      for (const mode of MODES) {
        if (overBudget()) {
          skipped.push(`${name} T=${T} ${mode} (${policy} logits)`);
          continue;
        }
        forward.push(await timeForward(ctx, model, name, T, mode, policy));
      }
    }
    if (PROFILE && PROFILE_AT.includes(T) && PROFILE_MODELS.includes(name) && !overBudget())
      profiles[`${name}@${T}`] = await phaseProfile(ctx, model, tokens(T, model.config.vocabSize, T));
  }
  if (DECODE > 0 && !overBudget()) decode.push(await timeDecode(model, name));
  releaseWeights(model.weights);
  ctx.pool.trim();
}
const torchPath = arg('--torch');
const torch = torchPath ? (JSON.parse(readFileSync(torchPath, 'utf8')) as TorchResults) : undefined;
const table = torch ? torchRatios(forward, decode, torch) : [];
if (skipped.length) console.log(`\nskipped (over --budget-s): ${skipped.join('; ')}`);
const out = { adapter: ctx.adapter.description, profile: PROFILE, forward, decode, profiles, torch, table, skipped };
const jsonPath = arg('--json');
if (jsonPath) writeFileSync(jsonPath, JSON.stringify(out, null, 1));
ctx.destroy();
process.exit(0);
