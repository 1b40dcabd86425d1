/**
 * Kernel benchmark (Node, Dawn). Times matmul and attention with GPU timestamps and wall clock, against a
 * plain 16×16-tiled matmul defined here (the same-process reference). See bench/README.md.
 *
 *   node bench/dist/kernels.mjs [--full] [--variants] [--reps N] [--warmup N] [--robustness-off] [--only NAME] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import {
  type MatmulArgs,
  type MatmulPlan,
  type MatmulTile,
  matmulDims,
  matmulWithPlan,
  planMatmul,
  TILE_LARGE,
  TILE_MID,
  TILE_SMALL,
  TILE_TALL,
  TILE_WIDE,
  tileFits,
} from '../packages/wgpu-kernels/src/kernels/matmul.js';
import { createNodeContext } from '../packages/wgpu-kernels/src/node.js';
import { GpuContext } from '../packages/wgpu-kernels/src/runtime/context.js';
import type { GpuTensor } from '../packages/wgpu-kernels/src/runtime/tensor.js';
import { ceilDiv, packParams } from '../packages/wgpu-kernels/src/wgsl/common.js';

const argv = process.argv.slice(2);
const flag = (f: string): boolean => argv.includes(f);
const opt = (f: string, d: number): number => {
  const i = argv.indexOf(f);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const FULL = flag('--full');
const VARIANTS = flag('--variants');
const REPS = opt('--reps', FULL ? 20 : 3);
const WARMUP = opt('--warmup', FULL ? 5 : 1);
const SAMPLE_MS = opt('--sample-ms', FULL ? 20 : 1);
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;

interface Timing {
  gpuMs: number | null;
  wallMs: number;
}
interface Row {
  name: string;
  variant: string;
  flops: number;
  gpuMs: number | null;
  wallMs: number;
  tflops: number;
  refGpuMs?: number | null;
  refWallMs?: number;
  speedup?: number;
  maxAbsDiff?: number;
  note?: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? ((s[(s.length - 1) >> 1] as number) + (s[s.length >> 1] as number)) / 2 : Number.NaN;
};

/** Deterministic N(0, scale²) values (inputs are never zeros: zeros can run faster than real data). */
function randn(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  const r = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
  return out;
}

/**
 * Warm-up, then REPS timed samples. Dawn rounds GPU timestamps (to 2^16 ns on the H100 seen here), so a
 * sample runs the work `batch` times back to back (≥ SAMPLE_MS in all) and reports the per-run mean of the
 * pass durations (rounding errors average out) and of the wall clock around submit + `await ctx.sync()`.
 */
async function time(ctx: GpuContext, run: (i: number) => void): Promise<Timing> {
  for (let i = 0; i < WARMUP; i++) run(i);
  await ctx.sync();
  const w0 = performance.now();
  for (let i = 0; i < 5; i++) run(i);
  await ctx.sync();
  const est = (performance.now() - w0) / 5; // after warm-up: no compilation inside
  await ctx.timings();
  // Long samples keep the GPU busy, as a forward pass does: with short ones its clocks drop between them.
  const batch = Math.max(1, Math.min(200, Math.ceil(SAMPLE_MS / Math.max(est, 1e-3))));
  const gpu: number[] = [];
  const wall: number[] = [];
  let n = 0;
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    for (let j = 0; j < batch; j++) run(n++);
    await ctx.sync();
    wall.push((performance.now() - t0) / batch);
    const passes = await ctx.timings();
    if (passes.length) gpu.push(passes.reduce((a, p) => a + p.ms, 0) / batch);
  }
  return { gpuMs: gpu.length ? median(gpu) : null, wallMs: median(wall) };
}

/** The same-process reference: one output per thread, 16×16 tiles of A and B through workgroup memory. */
function refWgsl(transB: boolean): string {
  const bAt = transB ? 'B[bb + n * p.K + k]' : 'B[bb + k * p.N + n]';
  return /* wgsl */ `
struct Params { M: u32, N: u32, K: u32, batch: u32, aBatch: u32, bBatch: u32 }
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
var<workgroup> sa: array<f32, 256>;
var<workgroup> sb: array<f32, 256>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let row = wg.y * 16u + l.y;
  let col = wg.x * 16u + l.x;
  let ab = wg.z * p.aBatch;
  let bb = wg.z * p.bBatch;
  var s = 0.0;
  for (var k0 = 0u; k0 < p.K; k0 += 16u) {
    let ka = k0 + l.x;
    sa[l.y * 16u + l.x] = select(0.0, A[ab + row * p.K + ka], row < p.M && ka < p.K);
    let k = k0 + l.y;
    let n = col;
    sb[l.y * 16u + l.x] = select(0.0, ${bAt}, n < p.N && k < p.K);
    workgroupBarrier();
    for (var i = 0u; i < 16u; i++) { s += sa[l.y * 16u + i] * sb[i * 16u + l.x]; }
    workgroupBarrier();
  }
  if (row < p.M && col < p.N) { C[wg.z * p.M * p.N + row * p.N + col] = s; }
}`;
}

function refMatmul(
  ctx: GpuContext,
  a: GpuTensor,
  b: GpuTensor,
  out: GpuTensor,
  M: number,
  N: number,
  K: number,
  transB: boolean,
  batch = 1,
  bBatched = false,
): void {
  ctx.dispatch({
    pipeline: ctx.pipelines.get('refMatmul', refWgsl(transB)),
    bindings: [a, b, out],
    params: packParams([
      ['u32', M],
      ['u32', N],
      ['u32', K],
      ['u32', batch],
      ['u32', M * K],
      ['u32', bBatched ? N * K : 0],
    ]),
    workgroups: [ceilDiv(N, 16), ceilDiv(M, 16), batch],
    label: 'refMatmul',
  });
}

const threads = (t: MatmulTile): number => (t.bm / t.tm) * (t.bn / t.tn);
const planName = (p: MatmulPlan): string =>
  p.kind === 'small'
    ? 'small'
    : `${p.tile.bm}x${p.tile.bn}x${p.tile.bk}${threads(p.tile) !== 256 ? ` ${threads(p.tile)}thr` : ''}${p.tile.flat ? ' flat' : ''}${p.splitK > 1 ? ` splitK${p.splitK}` : ''}`;

async function benchMatmul(ctx: GpuContext, name: string, M: number, N: number, K: number, transB: boolean, rows: Row[]): Promise<void> {
  const flops = 2 * M * N * K;
  // Weights (b) rotate over enough copies (≥ 96 MiB) that they come from device memory, as in a forward
  // pass where every layer has its own; activations (a) stay hot, as the previous kernel just wrote them.
  // --sets 1 measures everything L2-resident.
  const sets = opt('--sets', Math.min(16, Math.ceil((96 * 2 ** 20) / (K * N * 4))));
  const a = ctx.upload(randn(M * K, 11, 1 / Math.sqrt(K)), [M, K]);
  const ins = Array.from({ length: sets }, (_, s) => ({ a, b: ctx.upload(randn(K * N, 23 + s, 1), transB ? [N, K] : [K, N]) }));
  const out = ctx.createTensor([M, N], 'f32', 'bench.out');
  const refOut = ctx.createTensor([M, N], 'f32', 'bench.ref');
  const args = (i: number): MatmulArgs => ({ ...(ins[i % sets] as { a: GpuTensor; b: GpuTensor }), transB, out });
  const dims = matmulDims(args(0));
  const ref = await time(ctx, (i) => {
    const x = ins[i % sets] as { a: GpuTensor; b: GpuTensor };
    refMatmul(ctx, x.a, x.b, refOut, M, N, K, transB);
  });
  refMatmul(ctx, ins[0]!.a, ins[0]!.b, refOut, M, N, K, transB);
  const want = await ctx.readF32(refOut);
  const chosen = planMatmul(ctx, dims);
  const plans: MatmulPlan[] = [chosen];
  if (VARIANTS) {
    const tiles: MatmulTile[] = [
      TILE_LARGE,
      { ...TILE_LARGE, bk: 16 },
      { ...TILE_LARGE, flat: true },
      TILE_MID,
      { ...TILE_MID, bm: 128, bn: 64 },
      { ...TILE_MID, bm: 128, bn: 64, bk: 8 },
      TILE_TALL,
      { ...TILE_TALL, bk: 32 },
      TILE_WIDE,
      TILE_SMALL,
      { ...TILE_SMALL, bk: 32 },
    ].filter((t) => tileFits(ctx, t));
    for (const tile of tiles) {
      for (const splitK of [1, 2, 4]) if (splitK === 1 || (K >= 1024 && !tile.flat && tile.bk !== 8)) plans.push({ kind: 'tiled', tile, splitK });
    }
    plans.push({ ...chosen }); // the default again, last: the spread between the two is the noise
  }
  const seen = new Set<string>();
  for (const plan of plans) {
    const again = seen.has(planName(plan));
    if (again && plan.kind === 'tiled' && plans.indexOf(plan) !== plans.length - 1) continue;
    const variant = planName(plan) + (plan === chosen ? ' (default)' : again ? ' (default, again)' : '');
    seen.add(planName(plan));
    const t = await time(ctx, (i) => matmulWithPlan(ctx, args(i), plan, dims));
    matmulWithPlan(ctx, args(0), plan, dims);
    const got = await ctx.readF32(out);
    let diff = 0;
    for (let i = 0; i < got.length; i++) diff = Math.max(diff, Math.abs((got[i] as number) - (want[i] as number)));
    record(rows, name, variant, flops, t, ref, { maxAbsDiff: diff });
  }
  ctx.release(out, refOut, a, ...ins.map((x) => x.b));
}

async function benchAttention(ctx: GpuContext, H: number, T: number, D: number, rows: Row[]): Promise<void> {
  const name = `attention H=${H} T=${T} D=${D} capture`;
  let mod: typeof import('../packages/wgpu-kernels/src/kernels/attention.js');
  try {
    mod = await import('../packages/wgpu-kernels/src/kernels/attention.js');
  } catch (e) {
    console.log(`attention: not available (${(e as Error).message})`);
    rows.push({ name, variant: 'n/a', flops: 0, gpuMs: null, wallMs: Number.NaN, tflops: Number.NaN, note: 'attention: not available' });
    return;
  }
  // Causal: QK^T and P·V each cost about T²/2·D multiply-adds per head.
  const flops = 2 * 2 * H * D * ((T * (T + 1)) / 2);
  const q = ctx.upload(randn(T * H * D, 5, 1), [T, H * D]);
  const k = ctx.upload(randn(T * H * D, 6, 1), [T, H * D]);
  const v = ctx.upload(randn(T * H * D, 7, 1), [T, H * D]);
  const capture = ctx.createTensor([H, T, T], 'f32', 'bench.capture');
  const out = ctx.createTensor([T, H * D], 'f32', 'bench.attn');
  const t = await time(ctx, () => mod.attention(ctx, { q, k, v, numHeads: H, numKvHeads: H, headDim: D, capture, out }));
  // Reference: the two products alone (per-head Q·Kᵀ over all T×T, P·V) with the plain 16×16 kernel.
  const qh = ctx.upload(randn(H * T * D, 8, 1), [H, T, D]);
  const s = ctx.createTensor([H, T, T]);
  const o = ctx.createTensor([H, T, D]);
  const ref = await time(ctx, () => {
    refMatmul(ctx, qh, qh, s, T, T, D, true, H, true);
    refMatmul(ctx, s, qh, o, T, D, T, false, H, true);
  });
  record(rows, name, 'attention.ts', flops, t, ref, { note: 'reference = two plain 16x16 batched products (QK^T full T×T, P·V), no softmax' });
  ctx.release(q, k, v, capture, out, qh, s, o);
}

/** Device-memory bandwidth: buffer copies (wall clock) and a vec4 copy kernel (GPU timestamps); bytes read + written. */
async function copyBandwidth(ctx: GpuContext): Promise<void> {
  const code = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let stride = nw.x * 256u;
  for (var i = g.x; i < arrayLength(&dst); i += stride) { dst[i] = src[i]; }
}`;
  for (const mib of [12, 64, 256]) {
    const n = (mib * 1024 * 1024) / 4;
    const a = ctx.upload(randn(n, 3, 1));
    const b = ctx.createTensor([n]);
    const bytes = 2 * mib * 1024 * 1024;
    const t1 = await time(ctx, () => ctx.copy(a, b));
    const t2 = await time(ctx, () =>
      ctx.dispatch({ pipeline: ctx.pipelines.get('benchCopy', code), bindings: [a, b], workgroups: [132 * 16], label: 'benchCopy' }),
    );
    const gbs = (ms: number | null): string => (ms ? `${(bytes / ms / 1e6).toFixed(0)} GB/s` : '-');
    console.log(
      `copy ${mib} MiB: copyBufferToBuffer ${f(t1.wallMs)} ms wall (${gbs(t1.wallMs)}); kernel ${f(t2.gpuMs)} ms gpu (${gbs(t2.gpuMs)}), ${f(t2.wallMs)} ms wall`,
    );
    ctx.release(a, b);
  }
}

const f = (x: number | null | undefined, d = 3): string => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
/** One timed case against its same-process reference: TFLOP/s from GPU time where there is one, else wall time. */
function record(
  rows: Row[],
  name: string,
  variant: string,
  flops: number,
  t: { gpuMs: number | null; wallMs: number },
  ref: { gpuMs: number | null; wallMs: number },
  extra: Pick<Row, 'maxAbsDiff' | 'note'>,
): void {
  const ms = t.gpuMs ?? t.wallMs;
  const row: Row = {
    name,
    variant,
    flops,
    gpuMs: t.gpuMs,
    wallMs: t.wallMs,
    tflops: flops / ms / 1e9,
    refGpuMs: ref.gpuMs,
    refWallMs: ref.wallMs,
    speedup: (ref.gpuMs ?? ref.wallMs) / ms,
    ...extra,
  };
  rows.push(row);
  printRow(row);
}

function printRow(r: Row): void {
  console.log(
    `${r.name.padEnd(34)} ${r.variant.padEnd(26)} gpu ${f(r.gpuMs).padStart(8)} ms  wall ${f(r.wallMs).padStart(8)} ms  ${r.tflops < 0.01 ? r.tflops.toPrecision(2) : f(r.tflops, 2).padStart(6)} TFLOP/s` +
      `  ref ${f(r.refGpuMs).padStart(8)} ms  x${f(r.speedup, 2)}  maxdiff ${r.maxAbsDiff === undefined ? '-' : r.maxAbsDiff.toExponential(1)}`,
  );
}

async function runAll(ctx: GpuContext, label: string): Promise<Row[]> {
  console.log(
    `\n== ${label}: ${ctx.adapter.description || ctx.adapter.vendor} (${ctx.profiler ? 'GPU timestamps' : 'wall clock only'}), reps ${REPS}, warm-up ${WARMUP}`,
  );
  const rows: Row[] = [];
  const shapes: [string, number, number, number][] = FULL
    ? [
        ['matmul 4096^3', 4096, 4096, 4096],
        ['gpt2 qkv 1024x768.768x2304', 1024, 2304, 768],
        ['gpt2 fc 1024x768.768x3072', 1024, 3072, 768],
        ['gpt2 proj 1024x3072.3072x768', 1024, 768, 3072],
      ]
    : [
        ['matmul 256^3', 256, 256, 256],
        ['gpt2-like 64x96.96x288', 64, 288, 96],
        ['gpt2-like 64x384.384x96', 64, 96, 384],
      ];
  const custom = argv.includes('--shapes') ? argv[argv.indexOf('--shapes') + 1] : undefined;
  if (custom) {
    // --shapes "M,N,K,t;…" (t = 1 for transB): ad-hoc cases in the given order.
    for (const spec of custom.split(';')) {
      const [M = 1, N = 1, K = 1, t = 0] = spec.split(',').map(Number);
      await benchMatmul(ctx, `${M}x${K}.${K}x${N}${t ? ' transB' : ''}`, M, N, K, t === 1, rows);
    }
  } else {
    for (const [name, M, N, K] of shapes) {
      for (const transB of name.startsWith('matmul') ? [false] : [false, true]) {
        const n = `${name}${transB ? ' transB' : ''}`;
        if (only && !n.includes(only)) continue;
        await benchMatmul(ctx, n, M, N, K, transB, rows);
      }
    }
  }
  if (flag('--diag')) await copyBandwidth(ctx);
  if (!custom && (!only || 'attention'.includes(only))) await (FULL ? benchAttention(ctx, 12, 1024, 64, rows) : benchAttention(ctx, 2, 64, 16, rows));
  return rows;
}

const ctx = await createNodeContext({ profile: true });
const summary: Record<string, Row[]> = { default: await runAll(ctx, 'default device') };
ctx.destroy();
if (flag('--robustness-off')) {
  // Experiment: Dawn's bounds clamping off, to see what it costs (not how the app runs).
  // Imported by name at run time (bench/dist/kernels.mjs on the GPU machine resolves it from ./node_modules).
  const webgpu = 'webgpu';
  const { create } = (await import(webgpu)) as { create: (flags: string[]) => GPU };
  const gpu = create(['enable-dawn-features=allow_unsafe_apis,disable_robustness']);
  const ctx2 = await GpuContext.acquire({ gpu, profile: true });
  summary['robustness-off'] = await runAll(ctx2, 'robustness off');
  ctx2.destroy();
}
// Best variant per case last, so the end of the output (all that some runners keep) says the most.
console.log('\nBest per case (GPU ms):');
for (const [label, rows] of Object.entries(summary)) {
  const best = new Map<string, Row>();
  for (const r of rows) {
    const b = best.get(r.name);
    if (!b || (r.gpuMs ?? r.wallMs) < (b.gpuMs ?? b.wallMs)) best.set(r.name, r);
  }
  for (const r of best.values()) {
    const d = rows.find((x) => x.name === r.name && (x.variant.includes('default') || x.variant === 'attention.ts'));
    console.log(
      `  [${label}] ${r.name.padEnd(34)} best ${r.variant.padEnd(26)} ${f(r.tflops, 2)} TFLOP/s; default ${d ? `${f(d.tflops, 2)} TFLOP/s (${f(d.gpuMs)} ms, x${f(d.speedup, 2)} vs ref)` : '-'}`,
    );
  }
}
const json = JSON.stringify({ full: FULL, reps: REPS, warmup: WARMUP, adapter: ctx.adapter.description, results: summary });
const jsonPath = argv.includes('--json') ? argv[argv.indexOf('--json') + 1] : undefined;
if (jsonPath) {
  writeFileSync(jsonPath, json);
  console.log(`SUMMARY written to ${jsonPath}`);
} else console.log(`SUMMARY ${json}`);
process.exit(0);
