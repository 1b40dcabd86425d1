/** One timed forward pass, its GPU profile, GPU warm-up and the ratios against PyTorch, for bench/model.ts. */
import type { CaptureSpec } from '../packages/models/src/engine/captured-maps.js';
import type { Transformer } from '../packages/models/src/engine/forward.js';
import { matmul } from '../packages/wgpu-kernels/src/kernels/matmul.js';
import type { GpuContext } from '../packages/wgpu-kernels/src/runtime/context.js';
import type { DecodeRow, ForwardRow } from './model.js';
import { median } from './timing.js';

/**
 * maps: every layer's [H, T, T] probabilities kept; reductions: those plus every head's statistics; stats:
 * every head's statistics without maps (the online softmax and its second pass, the long-prompt budget);
 * none: no capture.
 */
export type CaptureMode = 'maps' | 'reductions' | 'stats' | 'none';

/** The capture a mode asks the forward pass for. */
export function captureFor(mode: CaptureMode): CaptureSpec {
  if (mode === 'stats') return { layers: 'none', stats: 'all' };
  return { layers: mode === 'none' ? 'none' : 'all' };
}

/**
 * Waits for every layer's reductions with one read-back (each row's argmax, packed on the GPU): what the
 * atlas and the retrieval lab do, rather than one read per array.
 */
async function readStats(attention: { argmaxAll(): Promise<Uint32Array> }, mode: CaptureMode): Promise<void> {
  if (mode === 'reductions' || mode === 'stats') await attention.argmaxAll();
}

/**
 * Which logits a timed pass makes. all: every position's, as PyTorch's forward computes them. needed: what
 * the user's path needs: with maps or reductions the app makes a position's logits when it is shown
 * (logits: 'none'), and without capture `headscope generate` needs the last position's.
 */
export type LogitsPolicy = 'all' | 'needed';

/** One pass, run and released: each forward's logits or final rows go back to the pool. */
function runPass(ctx: GpuContext, model: Transformer, ids: readonly number[], mode: CaptureMode, logits: 'all' | 'last' | 'none') {
  const capture = captureFor(mode);
  if (logits === 'none') {
    const r = model.forward(ids, { capture, logits });
    return { attention: r.attention, release: () => ctx.release(r.final) };
  }
  const r = model.forward(ids, { capture, logits });
  return { attention: r.attention, release: () => ctx.release(r.logits) };
}

/**
 * One forward pass from `run` to results ready: the logits the policy asks for and, per mode, the maps
 * or the per-head statistics of every layer on the GPU; then everything is released.
 */
export async function forwardOnce(
  ctx: GpuContext,
  model: Transformer,
  ids: readonly number[],
  mode: CaptureMode,
  policy: LogitsPolicy = 'all',
): Promise<{ latencyMs: number; recordMs: number }> {
  if (ctx.profiler) ctx.profiler.enabled = false;
  const t0 = performance.now();
  const pass = runPass(ctx, model, ids, mode, logitsFor(ctx, model, ids.length, mode, policy));
  const t1 = performance.now();
  await readStats(pass.attention, mode);
  await ctx.sync();
  const t2 = performance.now();
  pass.attention.release();
  pass.release();
  if (ctx.profiler) ctx.profiler.enabled = true;
  return { latencyMs: t2 - t0, recordMs: t1 - t0 };
}

/**
 * The logits option of a timed pass. 'all': every position, as PyTorch computes, unless [T, vocab] exceeds
 * one binding (Qwen at T = 4096: 2.5 GB); then the last only. 'needed': none with capture, last without.
 */
export function logitsFor(ctx: GpuContext, model: Transformer, T: number, mode: CaptureMode, policy: LogitsPolicy): 'all' | 'last' | 'none' {
  if (policy === 'needed') return mode === 'none' ? 'last' : 'none';
  return T * model.config.vocabSize * 4 <= Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize) ? 'all' : 'last';
}

/** GPU time of one forward: the sum of its pass timestamps, and first begin → last end (medians over n runs). */
export async function passProfile(
  ctx: GpuContext,
  model: Transformer,
  ids: readonly number[],
  mode: CaptureMode,
  n: number,
  policy: LogitsPolicy = 'all',
): Promise<{ gpuMs: number; spanMs: number; passes: number }> {
  const gpu: number[] = [];
  const span: number[] = [];
  let passes = 0;
  // Timed as it runs: dispatches share passes (each pass timed), so span − GPU time is the GPU waiting.
  if (ctx.profiler) ctx.profiler.perDispatch = false;
  await ctx.timings();
  for (let i = 0; i < n; i++) {
    const pass = runPass(ctx, model, ids, mode, logitsFor(ctx, model, ids.length, mode, policy));
    await readStats(pass.attention, mode);
    await ctx.sync();
    const t = await ctx.timings();
    pass.attention.release();
    pass.release();
    if (!t.length) continue;
    passes = t.length;
    gpu.push(t.reduce((a, p) => a + p.ms, 0));
    span.push(Math.max(...t.map((p) => p.startMs + p.ms)) - Math.min(...t.map((p) => p.startMs)));
  }
  if (ctx.profiler) ctx.profiler.perDispatch = true;
  return { gpuMs: median(gpu), spanMs: median(span), passes };
}

/** Keeps the GPU busy for `ms` (1024³ products, several in flight) so it runs at its loaded clocks (bench/README.md). */
export async function warmGpu(ctx: GpuContext, ms: number): Promise<void> {
  if (ms <= 0) return;
  const n = 1024;
  const a = ctx.createTensor([n, n], 'f32', 'warm.a');
  const b = ctx.createTensor([n, n], 'f32', 'warm.b');
  const out = ctx.createTensor([n, n], 'f32', 'warm.out');
  const t0 = performance.now();
  let inFlight: Promise<unknown> | null = null;
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 8; i++) matmul(ctx, { a, b, out });
    ctx.flush();
    const done = ctx.device.queue.onSubmittedWorkDone();
    if (inFlight) await inFlight;
    inFlight = done;
  }
  await ctx.sync();
  ctx.release(a, b, out);
}

/** What bench/model_torch.py writes. */
export interface TorchResults {
  device: string;
  torch: string;
  transformers: string;
  /** logits: 'last' = logits_to_keep=1 (absent in older files: every position). */
  forward: { model: string; T: number; impl: 'eager' | 'sdpa'; attentions: boolean; logits?: 'all' | 'last'; ms: number; gpuMs: number | null }[];
  decode: { model: string; impl: 'eager' | 'sdpa'; prompt: number; steps: number; tokensPerS: number; msPerToken: number }[];
}

export interface RatioRow {
  model: string;
  T: number;
  /** Headscope, every position's logits (as PyTorch computes them). */
  mapsMs?: number;
  reductionsMs?: number;
  /** Every head's statistics without maps. */
  statsMs?: number;
  noneMs?: number;
  /** Headscope with the logits its path needs: maps with logits on demand (the app), no capture with the last (generate). */
  mapsNeededMs?: number;
  noneNeededMs?: number;
  torchEagerAttnMs?: number;
  torchSdpaMs?: number;
  /** PyTorch with logits_to_keep=1. */
  torchEagerAttnLastMs?: number;
  torchSdpaLastMs?: number;
  /** Headscope all maps / PyTorch eager with output_attentions, every position's logits on both sides (< 1: faster). */
  mapsVsEager?: number;
  /** Headscope no capture / PyTorch sdpa, every position's logits on both sides. */
  noneVsSdpa?: number;
  /** The app's pass (maps, logits on demand) / PyTorch eager with output_attentions as users call it. */
  mapsNeededVsEager?: number;
  /** The app's pass / PyTorch eager with output_attentions and logits_to_keep=1. */
  mapsNeededVsEagerLast?: number;
  /** No capture, last logits / PyTorch sdpa with logits_to_keep=1. */
  noneNeededVsSdpaLast?: number;
}

/** Joins the two sides by (model, T) and prints the table with ratios (Headscope time / PyTorch time). */
export function torchRatios(forward: ForwardRow[], decode: DecodeRow[], torch: TorchResults): RatioRow[] {
  const ours = (m: string, T: number, mode: string, policy: LogitsPolicy = 'all') =>
    forward.find((r) => r.model === m && r.T === T && r.mode === mode && (r.policy ?? 'all') === policy)?.latencyMs;
  const theirs = (m: string, T: number, impl: string, att: boolean, logits: 'all' | 'last' = 'all') =>
    torch.forward.find((r) => r.model === m && r.T === T && r.impl === impl && r.attentions === att && (r.logits ?? 'all') === logits)?.ms;
  const keys = [...new Set(forward.map((r) => `${r.model}|${r.T}`))];
  const rows: RatioRow[] = keys.map((k) => {
    const [model = '', t = '0'] = k.split('|');
    const T = Number(t);
    const row: RatioRow = { model, T };
    const set = <K extends keyof RatioRow>(key: K, v: RatioRow[K] | undefined) => {
      if (v !== undefined && !Number.isNaN(v)) row[key] = v;
    };
    const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a && b ? a / b : undefined);
    set('mapsMs', ours(model, T, 'maps'));
    set('reductionsMs', ours(model, T, 'reductions'));
    set('statsMs', ours(model, T, 'stats'));
    set('noneMs', ours(model, T, 'none'));
    set('mapsNeededMs', ours(model, T, 'maps', 'needed'));
    set('noneNeededMs', ours(model, T, 'none', 'needed'));
    set('torchEagerAttnMs', theirs(model, T, 'eager', true));
    set('torchSdpaMs', theirs(model, T, 'sdpa', false));
    set('torchEagerAttnLastMs', theirs(model, T, 'eager', true, 'last'));
    set('torchSdpaLastMs', theirs(model, T, 'sdpa', false, 'last'));
    set('mapsVsEager', ratio(row.mapsMs, row.torchEagerAttnMs));
    set('noneVsSdpa', ratio(row.noneMs, row.torchSdpaMs));
    set('mapsNeededVsEager', ratio(row.mapsNeededMs, row.torchEagerAttnMs));
    set('mapsNeededVsEagerLast', ratio(row.mapsNeededMs, row.torchEagerAttnLastMs));
    set('noneNeededVsSdpaLast', ratio(row.noneNeededMs, row.torchSdpaLastMs));
    return row;
  });
  const f = (x: number | undefined, d = 2): string => (x === undefined ? '-' : x.toFixed(d));
  console.log(`\nPyTorch ${torch.torch} (transformers ${torch.transformers}) on ${torch.device}; medians, ms; ratio = Headscope / PyTorch`);
  console.log("\nEvery position's logits on both sides:");
  console.log(
    '| model | T | Headscope all maps | reductions | statistics, no maps | no capture | PyTorch eager + attentions | PyTorch sdpa | maps / eager | none / sdpa |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.model} | ${r.T} | ${f(r.mapsMs)} | ${f(r.reductionsMs)} | ${f(r.statsMs)} | ${f(r.noneMs)} | ${f(r.torchEagerAttnMs)} | ${f(r.torchSdpaMs)} | ${f(r.mapsVsEager)} | ${f(r.noneVsSdpa)} |`,
    );
  }
  console.log('\nThe logits each path needs (app: on demand; generate: last) against PyTorch as called, and with logits_to_keep=1:');
  console.log(
    '| model | T | Headscope maps, logits on demand | eager + attentions | eager + attentions, last logits | / eager | / eager last | Headscope no capture, last logits | sdpa, last logits | / sdpa last |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.model} | ${r.T} | ${f(r.mapsNeededMs)} | ${f(r.torchEagerAttnMs)} | ${f(r.torchEagerAttnLastMs)} | ${f(r.mapsNeededVsEager)} | ${f(r.mapsNeededVsEagerLast)} | ${f(r.noneNeededMs)} | ${f(r.torchSdpaLastMs)} | ${f(r.noneNeededVsSdpaLast)} |`,
    );
  }
  console.log('\n| model | Headscope tokens/s | PyTorch eager (sdpa) tokens/s | PyTorch eager (eager attention) tokens/s | Headscope / PyTorch sdpa |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const d of decode) {
    const sdpa = torch.decode.find((t) => t.model === d.model && t.impl === 'sdpa');
    const eager = torch.decode.find((t) => t.model === d.model && t.impl === 'eager');
    console.log(
      `| ${d.model} | ${f(d.tokensPerS, 1)} | ${f(sdpa?.tokensPerS, 1)} | ${f(eager?.tokensPerS, 1)} | ${f(sdpa ? d.tokensPerS / sdpa.tokensPerS : undefined)} |`,
    );
  }
  return rows;
}
