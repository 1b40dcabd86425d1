/**
 * Kernel benchmark (Node, Dawn). Times matmul and attention with GPU timestamps and wall clock, against a
 * plain 16×16-tiled matmul defined here (the same-process reference). See bench/README.md.
 *
 *   node bench/dist/kernels.mjs [--full] [--variants] [--reps N] [--warmup N] [--warm-ms N] [--robustness-off] [--only NAME] [--json FILE]
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
import { threadsOf } from '../packages/wgpu-kernels/src/kernels/matmul-wgsl.js';
import { createNodeContext } from '../packages/wgpu-kernels/src/node.js';
import { GpuContext } from '../packages/wgpu-kernels/src/runtime/context.js';
import { GpuTensor } from '../packages/wgpu-kernels/src/runtime/tensor.js';
import { TENSOR_USAGE } from '../packages/wgpu-kernels/src/runtime/usage.js';
import { refMatmul } from './reference.js';
import { perSet, type Timing, type TimingOptions, time as timeWith } from './timing.js';

const argv = process.argv.slice(2);
const flag = (f: string): boolean => argv.includes(f);
const opt = (f: string, d: number): number => {
  const i = argv.indexOf(f);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const FULL = flag('--full');
const VARIANTS = flag('--variants');
const PER_SET = flag('--per-set');
const PAD_MB = opt('--pad-mb', 0);
const REPS = opt('--reps', FULL ? 20 : 3);
const WARMUP = opt('--warmup', FULL ? 5 : 1);
const SAMPLE_MS = opt('--sample-ms', FULL ? 20 : 1);
const WARM_MS = opt('--warm-ms', FULL ? 500 : 0);
const TIMING: TimingOptions = { reps: REPS, warmup: WARMUP, sampleMs: SAMPLE_MS, warmMs: WARM_MS };
const time = (ctx: GpuContext, run: (i: number) => void): Promise<Timing> => timeWith(ctx, run, TIMING);
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;

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

const planName = (p: MatmulPlan): string =>
  p.kind === 'small'
    ? 'small'
    : `${p.tile.bm}x${p.tile.bn}x${p.tile.bk} ${p.tile.tm}x${p.tile.tn}${threadsOf(p.tile) !== 256 ? ` ${threadsOf(p.tile)}thr` : ''}${p.tile.flat ? ' flat' : ''}${p.splitK > 1 ? ` splitK${p.splitK}` : ''}`;

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
  if (PER_SET) await perSet(ctx, name, sets, (s) => matmulWithPlan(ctx, args(s), chosen, dims));
  const plans: MatmulPlan[] = [chosen];
  if (VARIANTS) {
    const large = (c: Partial<MatmulTile>): MatmulTile => ({ ...TILE_LARGE, ...c });
    const tiles: MatmulTile[] = [
      TILE_LARGE,
      large({ tm: 16, tn: 8 }),
      large({ bm: 64 }),
      large({ bk: 4 }),
      large({ bk: 16 }),
      large({ tn: 8 }),
      large({ bn: 256 }),
      large({ tn: 8, bk: 16 }),
      large({ tn: 8, flat: true }),
      large({ bm: 64, bn: 64, bk: 16, tn: 8 }),
      TILE_MID,
      { ...TILE_MID, bk: 8 },
      TILE_TALL,
      { ...TILE_TALL, bk: 8 },
      TILE_WIDE,
      TILE_SMALL,
      { ...TILE_SMALL, bk: 32 },
      { bm: 32, bn: 64, bk: 16, tm: 4, tn: 4 } as MatmulTile,
      { bm: 32, bn: 32, bk: 16, tm: 4, tn: 4 } as MatmulTile,
    ].filter((t) => tileFits(ctx, t));
    for (const tile of tiles) {
      for (const splitK of [1, 2, 4, 8])
        if (splitK === 1 || ((K >= 1024 || (M <= 256 && K >= 256)) && M * N < 2 ** 22 && !tile.flat && tile.bk !== 8 && K / splitK >= 64))
          plans.push({ kind: 'tiled', tile, splitK });
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
    const weightGBs = M <= 8 ? ` weights ${((K * N * 4) / (t.gpuMs ?? t.wallMs) / 1e6).toFixed(0)} GB/s` : undefined;
    record(rows, name, variant, flops, t, ref, { maxAbsDiff: diff, ...(weightGBs ? { note: weightGBs } : {}) });
  }
  if (PAD_MB > 0) {
    // The same weights, each in its own buffer of at least PAD_MB MiB (does allocation size change cold reads?).
    const padded = ins.map((x) => {
      const buf = ctx.device.createBuffer({ size: Math.max(PAD_MB * 2 ** 20, K * N * 4), usage: TENSOR_USAGE, label: 'bench.padded' });
      const t = new GpuTensor(buf, x.b.shape);
      ctx.copy(x.b, t);
      return { a, b: t };
    });
    const pargs = (i: number): MatmulArgs => ({ ...(padded[i % sets] as { a: GpuTensor; b: GpuTensor }), transB, out });
    if (PER_SET) await perSet(ctx, `${name} padded`, sets, (s) => matmulWithPlan(ctx, pargs(s), chosen, dims));
    const t = await time(ctx, (i) => matmulWithPlan(ctx, pargs(i), chosen, dims));
    record(rows, name, `${planName(chosen)} padded ${PAD_MB}MiB`, flops, t, ref, {});
    await ctx.sync();
    for (const x of padded) x.b.buffer.destroy();
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
      `  ref ${f(r.refGpuMs).padStart(8)} ms  x${f(r.speedup, 2)}  maxdiff ${r.maxAbsDiff === undefined ? '-' : r.maxAbsDiff.toExponential(1)}${r.note ? ` ${r.note}` : ''}`,
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
        // One decode step (the few-rows kernel): bound by reading the weights, so GB/s is the figure.
        ['decode qkv 1x768.768x2304', 1, 2304, 768],
        ['decode fc 1x768.768x3072', 1, 3072, 768],
        ['decode proj 1x3072.3072x768', 1, 768, 3072],
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
