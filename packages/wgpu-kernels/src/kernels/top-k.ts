import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { memoWgsl, packParams, ROW_THREADS } from '../wgsl/common.js';
import { rowsCols } from './softmax.js';

export const TOP_K_MAX = 64;

export interface TopKArgs {
  /** [R, C] (the last dim is the row). */
  x: GpuTensor;
  /** 1..64, at most C. */
  k: number;
}

export interface TopKResult {
  /** [R, k], descending. */
  values: GpuTensor;
  /** u32 [R, k]; equal values are ordered by lower index first. */
  indices: GpuTensor;
}

const N = ROW_THREADS;

/*
 * Order: (v, i) ranks before (w, j) when v > w, or v == w and i < j. Thread t owns the strided elements
 * t, t+N, t+2N, … and keeps in shared memory its best element not yet emitted. Each of the k steps
 * reduces the N candidates to the winner, emits it, and then — since only the winner's owner lost its
 * candidate (every other candidate still ranks after the winner) — the whole workgroup rescans just that
 * owner's C/N elements for its best element ranking after the winner. The row is read once in full,
 * then k−1 times C/N elements; results are exact (values are copied, never combined).
 */
function buildTopKWgsl(withValues: boolean): string {
  return /* wgsl */ `
struct Params { rows: u32, cols: u32, k: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out_i: array<u32>;
${withValues ? '@group(0) @binding(2) var<storage, read_write> out_v: array<f32>;' : ''}
@group(0) @binding(${withValues ? 3 : 2}) var<uniform> p: Params;

const NONE = 0xffffffffu;
var<workgroup> cand_v: array<f32, ${N}>;
var<workgroup> cand_i: array<u32, ${N}>;
var<workgroup> red_v: array<f32, ${N}>;
var<workgroup> red_i: array<u32, ${N}>;

// (av, ai) ranks strictly before (bv, bi); an empty slot (index NONE) ranks after everything.
fn before(av: f32, ai: u32, bv: f32, bi: u32) -> bool {
  if (ai == NONE) { return false; }
  if (bi == NONE) { return true; }
  return av > bv || (av == bv && ai < bi);
}

// Leaves the best of the workgroup's (v, i) pairs in red_v[0], red_i[0].
fn reduce_best(v: f32, i: u32, lid: u32) {
  red_v[lid] = v;
  red_i[lid] = i;
  workgroupBarrier();
  for (var s = ${N / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s && before(red_v[lid + s], red_i[lid + s], red_v[lid], red_i[lid])) {
      red_v[lid] = red_v[lid + s];
      red_i[lid] = red_i[lid + s];
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(${N})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x + wg.y * 65535u;
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  var bv = 0.0;
  var bi = NONE;
  for (var e = lid; e < p.cols; e += ${N}u) {
    let v = x[base + e];
    if (before(v, e, bv, bi)) { bv = v; bi = e; }
  }
  cand_v[lid] = bv;
  cand_i[lid] = bi;
  workgroupBarrier();
  for (var j = 0u; j < p.k; j++) {
    reduce_best(cand_v[lid], cand_i[lid], lid);
    let wv = red_v[0];
    let wi = red_i[0];
    workgroupBarrier();
    if (lid == 0u) {
      out_i[row * p.k + j] = wi;
      ${withValues ? 'out_v[row * p.k + j] = wv;' : ''}
    }
    if (j + 1u < p.k) {
      let owner = wi % ${N}u;
      var ov = 0.0;
      var oi = NONE;
      for (var e = owner + lid * ${N}u; e < p.cols; e += ${N * N}u) {
        let v = x[base + e];
        let after = v < wv || (v == wv && e > wi);
        if (after && before(v, e, ov, oi)) { ov = v; oi = e; }
      }
      reduce_best(ov, oi, lid);
      if (lid == 0u) {
        cand_v[owner] = red_v[0];
        cand_i[owner] = red_i[0];
      }
      workgroupBarrier();
    }
  }
}`;
}

function runTopK(ctx: GpuContext, x: GpuTensor, k: number, withValues: boolean): { values?: GpuTensor; indices: GpuTensor } {
  const [rows, cols] = rowsCols(x);
  if (x.dtype !== 'f32') throw new KernelArgumentError('topK', 'x must be f32');
  if (!(Number.isInteger(k) && k >= 1 && k <= TOP_K_MAX)) throw new KernelArgumentError('topK', `k = ${k} must be an integer in 1..${TOP_K_MAX}`);
  if (k > cols) throw new KernelArgumentError('topK', `k = ${k} exceeds the row length ${cols}`);
  const outShape = [...x.shape.slice(0, -1), k];
  const indices = ctx.createTensor(outShape, 'u32', 'topK.indices');
  const values = withValues ? ctx.createTensor(outShape, 'f32', 'topK.values') : undefined;
  if (rows === 0) return { values, indices };
  const label = withValues ? 'topK' : 'argmax';
  ctx.dispatch({
    pipeline: ctx.pipelines.get(label, topKWgsl(withValues)),
    bindings: [x, indices, ...(values ? [values] : [])],
    params: packParams([
      ['u32', rows],
      ['u32', cols],
      ['u32', k],
    ]),
    workgroups: [Math.min(rows, 65535), Math.ceil(rows / 65535)],
    label,
  });
  return { values, indices };
}

/** The k largest values of each row, sorted descending (ties: lower index first), with their indices. Exact. */
export function topK(ctx: GpuContext, args: TopKArgs): TopKResult {
  const { values, indices } = runTopK(ctx, args.x, args.k, true);
  return { values: values!, indices };
}

/** Index of the largest value of each row (lowest index among equals): u32 [R, 1], as topK's k = 1 indices. */
export function argmax(ctx: GpuContext, x: GpuTensor): GpuTensor {
  return runTopK(ctx, x, 1, false).indices;
}

// Generated once per distinct argument list (see memoWgsl).
const topKWgsl = memoWgsl(buildTopKWgsl);
