import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { ceilDiv, memoWgsl, packParams, ROW_THREADS } from '../wgsl/common.js';

export interface AttentionStatsArgs {
  /** [H, T, Tk] probabilities as captured by `attention`. */
  probs: GpuTensor;
  /** Absolute position of query row 0; default Tk − T. */
  queryOffset?: number;
}

export interface AttentionStats {
  /** [H, Tk]: mean of column j over the rows that can see key j (queryOffset + i ≥ j); 0 if none. */
  colMean: GpuTensor;
  /** [H, T]: −Σ p ln p per row (0·ln 0 = 0). */
  entropy: GpuTensor;
  /** u32 [H, T]: first index of the row maximum. */
  argmax: GpuTensor;
  /** [H, T]: A[i, 0], the mass on key 0. */
  firstMass: GpuTensor;
}

/** Columns per workgroup of the column-mean kernel; 8 row slices share each column. */
const COLS = 32;
const SLICES = 8;

/** One workgroup per (head, row): entropy, argmax (ties → lowest index) and the key-0 mass. */
function buildRowStatsWgsl(): string {
  const n = ROW_THREADS;
  return /* wgsl */ `
struct Params { rows: u32, tk: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> entropy: array<f32>;
@group(0) @binding(2) var<storage, read_write> amax: array<u32>;
@group(0) @binding(3) var<storage, read_write> first: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> ent_buf: array<f32, ${n}>;
var<workgroup> val_buf: array<f32, ${n}>;
var<workgroup> idx_buf: array<u32, ${n}>;

@compute @workgroup_size(${n})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x + wg.y * 65535u;
  if (row >= p.rows) { return; }
  let base = row * p.tk;
  var ent = 0.0;
  var best = -3.0e38;
  var bi = 0xffffffffu;
  // Each thread walks its indices upwards, so a strict > keeps its first maximum.
  for (var j = lid; j < p.tk; j += ${n}u) {
    let x = a[base + j];
    if (x > 0.0) { ent -= x * log(x); }
    if (x > best) { best = x; bi = j; }
  }
  ent_buf[lid] = ent;
  val_buf[lid] = best;
  idx_buf[lid] = bi;
  workgroupBarrier();
  for (var w = ${n / 2}u; w > 0u; w = w >> 1u) {
    if (lid < w) {
      ent_buf[lid] += ent_buf[lid + w];
      let vb = val_buf[lid + w];
      let ib = idx_buf[lid + w];
      if (vb > val_buf[lid] || (vb == val_buf[lid] && ib < idx_buf[lid])) {
        val_buf[lid] = vb;
        idx_buf[lid] = ib;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    entropy[row] = ent_buf[0];
    amax[row] = select(0u, idx_buf[0], idx_buf[0] < p.tk);
    first[row] = a[base];
  }
}`;
}

/**
 * Column means: 32 columns × 8 row slices per workgroup; a warp reads 32 neighbouring keys of one row.
 * Rows before the first one that sees the tile's first key are skipped; four loads are kept in flight.
 */
function buildColMeanWgsl(): string {
  const at = (o: number) => `select(0.0, a[(h * p.t + i + ${o}u) * p.tk + j], i + ${o}u >= i0)`;
  return /* wgsl */ `
struct Params { t: u32, tk: u32, qoff: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> col: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> part: array<f32, ${COLS * SLICES}>;

@compute @workgroup_size(${COLS}, ${SLICES})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let h = wg.y;
  let jt = wg.x * ${COLS}u;
  let j = jt + l.x;
  // Row i sees key j iff qoff + i >= j, i.e. i >= j − qoff.
  let i0 = select(0u, j - p.qoff, j > p.qoff);
  var acc = vec4f(0.0);
  if (j < p.tk) {
    var i = select(0u, jt - p.qoff, jt > p.qoff) + l.y;
    for (; i + ${3 * SLICES}u < p.t; i += ${4 * SLICES}u) {
      acc += vec4f(${at(0)}, ${at(SLICES)}, ${at(2 * SLICES)}, ${at(3 * SLICES)});
    }
    for (; i < p.t; i += ${SLICES}u) { acc.x += ${at(0)}; }
  }
  part[l.y * ${COLS}u + l.x] = acc.x + acc.y + acc.z + acc.w;
  workgroupBarrier();
  if (l.y == 0u && j < p.tk) {
    var sum = 0.0;
    for (var r = 0u; r < ${SLICES}u; r++) { sum += part[r * ${COLS}u + l.x]; }
    col[h * p.tk + j] = select(0.0, sum / f32(p.t - i0), i0 < p.t);
  }
}`;
}

/** Per-view reductions over captured attention maps, computed on the GPU so only small vectors come back. */
export function attentionStats(ctx: GpuContext, args: AttentionStatsArgs): AttentionStats {
  const { probs } = args;
  if (probs.shape.length !== 3) throw new KernelArgumentError('attentionStats', `probs must be [H, T, Tk], got [${probs.shape}]`);
  const [h, t, tk] = probs.shape as [number, number, number];
  const qoff = args.queryOffset ?? tk - t;
  if (!Number.isInteger(qoff) || qoff < 0)
    throw new KernelArgumentError('attentionStats', `queryOffset ${qoff} must be a non-negative integer (T=${t}, Tk=${tk})`);
  const colMean = ctx.createTensor([h, tk], 'f32', 'attentionStats.colMean');
  const entropy = ctx.createTensor([h, t], 'f32', 'attentionStats.entropy');
  const argmax = ctx.createTensor([h, t], 'u32', 'attentionStats.argmax');
  const firstMass = ctx.createTensor([h, t], 'f32', 'attentionStats.firstMass');
  const rows = h * t;
  if (rows === 0 || tk === 0) return { colMean, entropy, argmax, firstMass };

  ctx.dispatch({
    pipeline: ctx.pipelines.get('attentionStats.rows', rowStatsWgsl()),
    bindings: [probs, entropy, argmax, firstMass],
    params: packParams([
      ['u32', rows],
      ['u32', tk],
    ]),
    workgroups: [Math.min(rows, 65535), ceilDiv(rows, 65535)],
    label: 'attentionStats.rows',
  });
  columnMeanInto(ctx, probs, colMean, qoff);
  return { colMean, entropy, argmax, firstMass };
}

/** [H, Tk] column means alone (the head atlas needs no per-row statistics). */
export function columnMean(ctx: GpuContext, probs: GpuTensor, queryOffset?: number): GpuTensor {
  if (probs.shape.length !== 3) throw new KernelArgumentError('columnMean', `probs must be [H, T, Tk], got [${probs.shape}]`);
  const [h, t, tk] = probs.shape as [number, number, number];
  const qoff = queryOffset ?? tk - t;
  if (!Number.isInteger(qoff) || qoff < 0) throw new KernelArgumentError('columnMean', `queryOffset ${qoff} must be a non-negative integer (T=${t}, Tk=${tk})`);
  const colMean = ctx.createTensor([h, tk], 'f32', 'columnMean');
  if (h * t > 0 && tk > 0) columnMeanInto(ctx, probs, colMean, qoff);
  return colMean;
}

function columnMeanInto(ctx: GpuContext, probs: GpuTensor, colMean: GpuTensor, qoff: number): void {
  const [h, t, tk] = probs.shape as [number, number, number];
  ctx.dispatch({
    pipeline: ctx.pipelines.get('attentionStats.colMean', colMeanWgsl()),
    bindings: [probs, colMean],
    params: packParams([
      ['u32', t],
      ['u32', tk],
      ['u32', qoff],
      ['u32', 0],
    ]),
    workgroups: [ceilDiv(tk, COLS), h],
    label: 'attentionStats.colMean',
  });
}

// Generated once per distinct argument list (see memoWgsl).
const rowStatsWgsl = memoWgsl(buildRowStatsWgsl);
const colMeanWgsl = memoWgsl(buildColMeanWgsl);
