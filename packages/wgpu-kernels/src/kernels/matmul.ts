import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { ceilDiv, type FloatStorage, floatStorage, packParams } from '../wgsl/common.js';
import { type ActivationOp, checkActivation } from './activation.js';
import { type MatmulEdges, type MatmulEpilogue, type MatmulTile, smallWgsl, splitSumWgsl, threadsOf, tiledWgsl } from './matmul-wgsl.js';

export { type MatmulEdges, type MatmulEpilogue, type MatmulTile, tiledWgsl } from './matmul-wgsl.js';

const EPILOGUE_ACTIVATIONS: readonly ActivationOp[] = ['gelu_tanh', 'gelu_erf', 'silu', 'relu'];

export interface MatmulArgs {
  /** [M, K] or [batch, M, K]; f32, or 16-bit ('f16' / 'bf16', e.g. a weight as the left operand) */
  a: GpuTensor;
  /**
   * [K, N], or [N, K] when transB (the nn.Linear weight layout); [batch, …] or shared by all batches. f32 or
   * 16-bit weights ('f16' / 'bf16', unpacked in the kernel; the products accumulate in f32).
   */
  b: GpuTensor;
  transB?: boolean;
  /** [N], added to every row */
  bias?: GpuTensor;
  /** [M, N] or [batch, M, N]; may hold more rows than m (only the first m of each batch are written) */
  out?: GpuTensor;
  /** Use only the first m rows of a (per batch); default all rows. */
  m?: number;
  /** Applied to every output after the bias: C = act(A·B + bias). */
  activation?: ActivationOp;
  /** Add into `out` instead of overwriting it: out += A·B + bias (after the activation, if any). Needs `out`. */
  accumulate?: boolean;
  /**
   * Instead of one output, the columns in order across these [M, w_i] tensors (each w_i a multiple of 4,
   * Σ w_i = N; one batch): a fused Q|K|V product writes Q, K and V without a separate split pass.
   */
  outs?: readonly GpuTensor[];
}

/** How one product is computed: register-blocked tiles (optionally split over K, then summed) or the few-rows path. */
export type MatmulPlan = { kind: 'tiled'; tile: MatmulTile; splitK: number } | { kind: 'small' };

/** The problem as the kernels see it (strides in elements). */
export interface MatmulDims {
  batch: number;
  M: number;
  N: number;
  K: number;
  transB: boolean;
  aBatch: number;
  bBatch: number;
  outBatch: number;
  hasBias: boolean;
  /** Storage of a and b ('f32' unless a 16-bit tensor is passed). */
  aStorage: FloatStorage;
  bStorage: FloatStorage;
}

/**
 * 128 threads with 8×16 outputs each: on the H100 this beat 256 threads × 8×8 at 4096³ (38.5 vs 34.1
 * TFLOP/s, same process): fewer workgroup-memory reads and barrier waits per multiply-add.
 */
export const TILE_LARGE: MatmulTile = { bm: 128, bn: 128, bk: 8, tm: 8, tn: 16 };
export const TILE_WIDE: MatmulTile = { bm: 64, bn: 128, bk: 16, tm: 4, tn: 8 };
/** 128 threads × 8×8 (beat 256 threads × 8×4 at 4096³ on the H100: 33.0 vs 23.1 TFLOP/s). */
export const TILE_TALL: MatmulTile = { bm: 128, bn: 64, bk: 16, tm: 8, tn: 8 };
export const TILE_SMALL: MatmulTile = { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 };
/** 128 threads with 8×8 outputs each. */
export const TILE_MID: MatmulTile = { bm: 64, bn: 128, bk: 16, tm: 8, tn: 8 };

/** Rows up to which the few-rows (decode-step) kernel is used. */
const SMALL_MAX_ROWS = 8;
/** Workgroups wanted: enough loads in flight to hide device-memory latency (H100: 132 SMs); smaller problems pick smaller tiles or split K. */
const TARGET_WORKGROUPS = 512;
/** TILE_MID is taken from this many workgroups (about two per H100 SM): GPT-2's qkv (288) and fc (384) ran 10–14% faster on it than on 64×64 tiles. */
const MID_MIN_WORKGROUPS = 256;

/** Shortest K slice a split of a few-workgroup product gets (8 steps of TILE_SMALL's bk = 16). */
const SHORT_SPLIT_MIN_K = 128;

/** Double-buffered A and B tiles. */
const tileBytes = (t: MatmulTile): number => 2 * t.bk * (t.bm + t.bn) * 4;

/** Whether a tile is well formed and fits the device (shared memory, invocations, whole vec4 loads per thread). */
export function tileFits(ctx: GpuContext, t: MatmulTile): boolean {
  const threads = threadsOf(t);
  return (
    threads <= ctx.limits.maxComputeInvocationsPerWorkgroup &&
    tileBytes(t) <= ctx.limits.maxComputeWorkgroupStorageSize &&
    t.bk % 4 === 0 &&
    ((t.bm * t.bk) / 4) % threads === 0 &&
    ((t.bn * t.bk) / 4) % threads === 0
  );
}

/**
 * Picks the largest tile that still gives enough workgroups: TILE_LARGE/TILE_TALL from TARGET_WORKGROUPS,
 * TILE_MID from MID_MIN_WORKGROUPS. Below that K is split (if long enough) over TILE_MID, which beat 64×64
 * split the same way on the H100 (GPT-2 c_proj: 27 vs 23 TFLOP/s); short K keeps 64×64 tiles for the most
 * workgroups.
 */
export function planMatmul(ctx: GpuContext, d: MatmulDims): MatmulPlan {
  if (d.M <= SMALL_MAX_ROWS) return { kind: 'small' };
  const count = (t: MatmulTile): number => ceilDiv(d.M, t.bm) * ceilDiv(d.N, t.bn) * d.batch;
  const large = [TILE_LARGE, TILE_TALL].filter((t) => tileFits(ctx, t)).find((t) => count(t) >= TARGET_WORKGROUPS);
  if (large || !tileFits(ctx, TILE_SMALL)) return { kind: 'tiled', tile: large ?? TILE_SMALL, splitK: 1 };
  if (!tileFits(ctx, TILE_MID)) return { kind: 'tiled', tile: TILE_SMALL, splitK: 1 };
  if (count(TILE_MID) >= MID_MIN_WORKGROUPS) return { kind: 'tiled', tile: TILE_MID, splitK: 1 };
  let splitK = 1;
  while (count(TILE_MID) * splitK < TARGET_WORKGROUPS && d.K / (splitK * 2) >= 512) splitK *= 2;
  if (splitK > 1) return { kind: 'tiled', tile: TILE_MID, splitK };
  // Short K and few rows (a 128-token prompt: 24 workgroups of 64×64 for GPT-2's 768×768 products, 4 for
  // Qwen's 128-wide K and V): each workgroup walks all of K in dependent steps while most SMs idle, ~70 µs
  // a product on the H200. Splitting K shortens the walk; the split sum is one cheap pass.
  while (count(TILE_SMALL) * splitK * 2 <= TARGET_WORKGROUPS && d.K / (splitK * 2) >= SHORT_SPLIT_MIN_K) splitK *= 2;
  return { kind: 'tiled', tile: TILE_SMALL, splitK };
}

/** C = A·B (+ bias) in fp32. Picks a plan by shape; see `matmulWithPlan` to force one. */
export function matmul(ctx: GpuContext, args: MatmulArgs): GpuTensor {
  const d = matmulDims(args);
  return matmulWithPlan(ctx, args, planMatmul(ctx, d), d);
}

export function matmulDims(args: MatmulArgs): MatmulDims {
  const { a, b } = args;
  const transB = args.transB ?? false;
  const fail = (msg: string): never => {
    throw new KernelArgumentError('matmul', msg);
  };
  if (a.shape.length !== 2 && a.shape.length !== 3) fail(`a must be [M, K] or [batch, M, K], got [${a.shape}]`);
  if (b.shape.length !== 2 && b.shape.length !== 3) fail(`b must be 2-D or 3-D, got [${b.shape}]`);
  const batch = a.shape.length === 3 ? (a.shape[0] as number) : 1;
  const rows = a.shape.at(-2) as number;
  const K = a.shape.at(-1) as number;
  const bRows = b.shape.at(-2) as number;
  const bCols = b.shape.at(-1) as number;
  const [bk, N] = transB ? [bCols, bRows] : [bRows, bCols];
  if (bk !== K) fail(`a has K = ${K} but b [${b.shape}]${transB ? ' (transB)' : ''} has ${bk}`);
  const bBatched = b.shape.length === 3;
  if (bBatched && (a.shape.length !== 3 || b.shape[0] !== batch)) fail(`batched b [${b.shape}] needs a with the same batch, got [${a.shape}]`);
  const M = args.m ?? rows;
  if (!Number.isInteger(M) || M < 0 || M > rows) fail(`m = ${args.m} outside 0..${rows}`);
  if (args.bias && args.bias.size !== N) fail(`bias has ${args.bias.size} values, N = ${N}`);
  if (args.accumulate && !args.out) fail('accumulate adds into out, so out must be given');
  if (args.outs) {
    const widths = args.outs.map((o) => o.size / Math.max(1, M));
    if (args.out || args.accumulate || batch !== 1) fail('outs replaces out, for one batch, without accumulate');
    const badShape = args.outs.some((o) => o.dtype !== 'f32' || o.shape.length !== 2 || o.shape[0] !== M);
    if (badShape || widths.some((w) => !Number.isInteger(w) || w <= 0 || w % 4) || widths.reduce((a, b) => a + b, 0) !== N)
      fail(
        `outs must be f32 [${M}, w] tensors with widths that are multiples of 4 adding up to N = ${N}, got ${args.outs.map((o) => `[${o.shape}]`).join(', ')}`,
      );
  }
  if (args.activation) checkActivation('matmul', args.activation, EPILOGUE_ACTIVATIONS);

  let outRows = M;
  if (args.out) {
    const o = args.out.shape;
    outRows = o.at(-2) ?? 1;
    const oBatch = o.length === 3 ? (o[0] as number) : 1;
    if (o.at(-1) !== N || outRows < M || oBatch !== batch) fail(`out [${o}] cannot hold ${batch} × ${M} × ${N}`);
  }
  return {
    batch,
    M,
    N,
    K,
    transB,
    aBatch: rows * K,
    bBatch: bBatched ? K * N : 0,
    outBatch: outRows * N,
    hasBias: !!args.bias,
    aStorage: halfOr32(a.dtype),
    bStorage: halfOr32(b.dtype),
  };
}

/** Runs one product with a given plan (the benchmark and tests use this to compare plans). */
export function matmulWithPlan(ctx: GpuContext, args: MatmulArgs, plan: MatmulPlan, dims?: MatmulDims): GpuTensor {
  const d = dims ?? matmulDims(args);
  const { a, b, bias } = args;
  if (!floatStorage(a.dtype) || !floatStorage(b.dtype))
    throw new KernelArgumentError('matmul', `a and b must be float tensors (f32, f16 or bf16), got ${a.dtype} and ${b.dtype}`);
  if (bias && bias.dtype !== 'f32') throw new KernelArgumentError('matmul', `bias must be f32, got ${bias.dtype}`);
  // With `outs` the product has no single output tensor; the first part stands in as the return value.
  const out = args.outs?.[0] ?? args.out ?? ctx.createTensor(args.a.shape.length === 3 ? [d.batch, d.M, d.N] : [d.M, d.N], 'f32', 'matmul');
  const targets = args.outs ?? [out];
  if (d.M === 0 || d.N === 0 || d.batch === 0) return out;
  if (plan.kind === 'small' && d.M <= SMALL_MAX_ROWS) {
    runSmall(ctx, args, d, out);
    return out;
  }
  const tile = plan.kind === 'tiled' ? plan.tile : TILE_SMALL;
  if (!tileFits(ctx, tile)) throw new KernelArgumentError('matmul', `tile ${JSON.stringify(tile)} does not fit this device`);
  const kTiles = ceilDiv(d.K, tile.bk);
  const splitK = plan.kind === 'tiled' ? Math.max(1, Math.min(plan.splitK, kTiles)) : 1;
  const tilesPerSplit = Math.max(1, ceilDiv(kTiles, splitK));
  const splits = Math.max(1, ceilDiv(kTiles, tilesPerSplit)); // no empty trailing split
  const vecK = d.K % 4 === 0;
  const vecN = d.N % 4 === 0;
  const edges = matmulEdges(tile, d);
  const withBias = d.hasBias && splits === 1;
  const target = splits === 1 ? undefined : scratch(ctx, d.batch * splits * d.M * d.N);
  const ep = epilogueOf(args);
  const code = tiledWgsl(tile, d.transB, edges, vecK, vecN, withBias, d.aStorage, d.bStorage, splits === 1 ? ep : {});
  ctx.dispatch({
    pipeline: ctx.pipelines.get('matmul', code),
    bindings: [args.a, args.b, ...(target ? [target] : targets), ...(withBias && args.bias ? [args.bias] : [])],
    params: u32Params(d.M, d.N, d.K, tilesPerSplit, d.aBatch, d.bBatch, splits === 1 ? d.outBatch : d.M * d.N, splits),
    workgroups: [ceilDiv(d.N, tile.bn), ceilDiv(d.M, tile.bm), d.batch * splits],
    label: 'matmul',
  });
  if (target) {
    const total = d.batch * d.M * d.N;
    const groups = ceilDiv(total, 256);
    ctx.dispatch({
      pipeline: ctx.pipelines.get('matmulSplitSum', splitSumWgsl(d.hasBias, ep)),
      bindings: [target, ...targets, ...(args.bias ? [args.bias] : [])],
      params: u32Params(d.M, d.N, splits, d.outBatch, total),
      workgroups: [Math.min(groups, 65535), ceilDiv(groups, 65535)],
      label: 'matmulSplitSum',
    });
  }
  return out;
}

/** How the tiled kernel keeps loads in bounds for this problem (see MatmulEdges). */
export function matmulEdges(tile: MatmulTile, d: MatmulDims): MatmulEdges {
  const kWhole = d.K > 0 && d.K % tile.bk === 0;
  if (kWhole && d.M % tile.bm === 0 && d.N % tile.bn === 0) return 'none';
  // Clamped rows need whole vec4 loads along K (A, and B when transposed) or along N (B otherwise).
  return kWhole && d.K % 4 === 0 && (d.transB || d.N % 4 === 0) ? 'clamp' : 'select';
}

/** Split-K partial sums live in a per-context buffer that is never pooled: a pooled buffer could be handed to an upload (queue write) while these passes are still unsubmitted. */
const scratchBuffers = new WeakMap<GpuContext, GpuTensor>();
function scratch(ctx: GpuContext, elements: number): GpuTensor {
  const have = scratchBuffers.get(ctx);
  if (have && have.size >= elements) return have;
  // The old buffer may still be bound by recorded passes; dropping our reference is enough (no destroy).
  const t = ctx.createTensor([Math.ceil(Math.max(elements, (have?.size ?? 0) * 2) / 4) * 4], 'f32', 'matmul.splitK');
  scratchBuffers.set(ctx, t);
  return t;
}

/** The epilogue as the WGSL generators take it (empty fields left out, so plain products share one memo key). */
function epilogueOf(args: MatmulArgs): MatmulEpilogue {
  return {
    ...(args.activation ? { activation: args.activation } : {}),
    ...(args.accumulate ? { accumulate: true } : {}),
    ...(args.outs ? { split: args.outs.map((o) => o.shape[1] as number) } : {}),
  };
}

/** The storage a matmul operand's dtype asks for (u32/i32 operands are refused in matmulWithPlan). */
const halfOr32 = (dtype: string): FloatStorage => (dtype === 'f16' || dtype === 'bf16' ? dtype : 'f32');

/** A uniform block of u32 fields, in order. */
const u32Params = (...values: number[]): ArrayBuffer => packParams(values.map((v) => ['u32', v] as const));

function runSmall(ctx: GpuContext, args: MatmulArgs, d: MatmulDims, out: GpuTensor): void {
  const vecK = d.K % 4 === 0;
  const vecN = d.N % 4 === 0;
  const code = smallWgsl(d.M, d.transB, vecK, vecN, d.hasBias, d.aStorage, d.bStorage, epilogueOf(args));
  ctx.dispatch({
    pipeline: ctx.pipelines.get('matmulSmall', code),
    bindings: [args.a, args.b, ...(args.outs ?? [out]), ...(args.bias ? [args.bias] : [])],
    params: u32Params(d.M, d.N, d.K, 0, d.aBatch, d.bBatch, d.outBatch, 1),
    workgroups: [d.transB ? ceilDiv(d.N, 8) : ceilDiv(d.N, 16 * (vecN ? 4 : 1)), 1, d.batch],
    label: 'matmulSmall',
  });
}
