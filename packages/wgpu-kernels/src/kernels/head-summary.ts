import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { ceilDiv, memoWgsl, packParams } from '../wgsl/common.js';

/**
 * What headSummary sums over the query rows of each head (all as plain sums; the caller divides):
 * row entropy −Σ p ln p; attention distance Σ_j A[i,j]·(i−j); mass on self A[i,i]; for the TransformerLens
 * head detector (methods.md §3) the kept mass ΣA, Σ A⊙P and Σ|A−P| of the previous-token, duplicate-token
 * and induction patterns (P built on the fly from the tokens; exclusions zero key 0 and/or the diagonal);
 * and the probe diagonals at offsets −1, −n, −(n−1) (the last two over rows ≥ n).
 */
export const HEAD_SUMMARY_FIELDS = [
  'entropy',
  'distance',
  'self',
  'kept',
  'mulPrevious',
  'mulDuplicate',
  'mulInduction',
  'absPrevious',
  'absDuplicate',
  'absInduction',
  'diagPrevious',
  'diagDuplicate',
  'diagInduction',
] as const;
export const HEAD_SUMMARY_STRIDE = 16;
const NF = HEAD_SUMMARY_FIELDS.length;

export interface HeadSummaryOptions {
  /** Absolute position of query row 0; default Tk − T. */
  queryOffset?: number;
  excludeBos?: boolean;
  excludeCurrentToken?: boolean;
  /** Half length of the repeated random-token probe; 0 (default) = not a probe, diagonals −n/−(n−1) stay 0. */
  probeN?: number;
}

export interface HeadSummaryArgs extends HeadSummaryOptions {
  /** [H, T, Tk] captured probabilities. */
  probs: GpuTensor;
  /** u32 [Tk]: the token of every key position. */
  tokens: GpuTensor;
}

const THREADS = 64;

/** Pass 1: one workgroup per (head, row), 64 threads stride over the visible keys; writes [H·T, NF] partial sums. */
function buildRowsWgsl(): string {
  return /* wgsl */ `
struct Params { t: u32, tk: u32, qoff: u32, flags: u32, n: u32, rows: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> tok: array<u32>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> buf: array<f32, ${NF * THREADS}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x + wg.y * 65535u;
  if (row >= p.rows) { return; }
  let i = row % p.t;
  let qi = p.qoff + i;
  let qt = tok[qi];
  let base = row * p.tk;
  let ex_bos = (p.flags & 1u) != 0u;
  let ex_cur = (p.flags & 2u) != 0u;
  var acc: array<f32, ${NF}>;
  let last = min(qi, p.tk - 1u);
  for (var j = lid; j <= last; j += ${THREADS}u) {
    let x = a[base + j];
    if (x > 0.0) { acc[0] -= x * log(x); }
    acc[1] += x * f32(qi - j);
    if (j == qi) { acc[2] += x; }
    let pp = select(0.0, 1.0, j + 1u == qi);
    let pd = select(0.0, 1.0, j < qi && tok[j] == qt);
    let pi = select(0.0, 1.0, j >= 1u && tok[max(j, 1u) - 1u] == qt);
    if (!((ex_bos && j == 0u) || (ex_cur && j == qi))) {
      acc[3] += x;
      acc[4] += x * pp;
      acc[5] += x * pd;
      acc[6] += x * pi;
      acc[7] += abs(x - pp);
      acc[8] += abs(x - pd);
      acc[9] += abs(x - pi);
    }
    if (j + 1u == qi) { acc[10] += x; }
    if (p.n > 0u && qi >= p.n && j == qi - p.n) { acc[11] += x; }
    if (p.n > 1u && qi >= p.n && j == qi - p.n + 1u) { acc[12] += x; }
  }
  for (var k = 0u; k < ${NF}u; k++) { buf[k * ${THREADS}u + lid] = acc[k]; }
  workgroupBarrier();
  for (var w = ${THREADS / 2}u; w > 0u; w = w >> 1u) {
    if (lid < w) {
      for (var k = 0u; k < ${NF}u; k++) { buf[k * ${THREADS}u + lid] += buf[k * ${THREADS}u + lid + w]; }
    }
    workgroupBarrier();
  }
  if (lid < ${NF}u) { part[row * ${NF}u + lid] = buf[lid * ${THREADS}u]; }
}
`;
}

/** Pass 2: one workgroup per head sums its T rows of partials into out[h·STRIDE + k]. */
function buildHeadsWgsl(): string {
  return /* wgsl */ `
struct Params { t: u32, h: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> buf: array<f32, ${NF * THREADS}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let h = wg.x;
  var acc: array<f32, ${NF}>;
  for (var i = lid; i < p.t; i += ${THREADS}u) {
    let at = (h * p.t + i) * ${NF}u;
    for (var k = 0u; k < ${NF}u; k++) { acc[k] += part[at + k]; }
  }
  for (var k = 0u; k < ${NF}u; k++) { buf[k * ${THREADS}u + lid] = acc[k]; }
  workgroupBarrier();
  for (var w = ${THREADS / 2}u; w > 0u; w = w >> 1u) {
    if (lid < w) {
      for (var k = 0u; k < ${NF}u; k++) { buf[k * ${THREADS}u + lid] += buf[k * ${THREADS}u + lid + w]; }
    }
    workgroupBarrier();
  }
  if (lid < ${HEAD_SUMMARY_STRIDE}u) { out[h * ${HEAD_SUMMARY_STRIDE}u + lid] = select(0.0, buf[lid * ${THREADS}u], lid < ${NF}u); }
}`;
}

/**
 * Per-head sums over the query rows of a captured layer, for the head atlas: [H, HEAD_SUMMARY_STRIDE] f32
 * (fields in HEAD_SUMMARY_FIELDS order, the rest 0). With the column means of attentionStats, this is
 * everything the atlas reads back: no T×Tk map leaves the GPU.
 */
export function headSummary(ctx: GpuContext, args: HeadSummaryArgs): GpuTensor {
  const { probs, tokens } = args;
  if (probs.shape.length !== 3) throw new KernelArgumentError('headSummary', `probs must be [H, T, Tk], got [${probs.shape}]`);
  const [h, t, tk] = probs.shape as [number, number, number];
  const qoff = args.queryOffset ?? tk - t;
  if (!Number.isInteger(qoff) || qoff < 0 || qoff + t > tk)
    throw new KernelArgumentError('headSummary', `queryOffset ${qoff} must be an integer in 0..Tk−T (T=${t}, Tk=${tk})`);
  if (tokens.size < tk) throw new KernelArgumentError('headSummary', `tokens has ${tokens.size} entries, the keys need ${tk}`);
  const n = args.probeN ?? 0;
  if (!Number.isInteger(n) || n < 0) throw new KernelArgumentError('headSummary', `probeN ${n} must be a non-negative integer`);
  const out = ctx.createTensor([h, HEAD_SUMMARY_STRIDE], 'f32', 'headSummary');
  const rows = h * t;
  if (rows === 0) return out;
  const part = ctx.createTensor([rows, NF], 'f32', 'headSummary.rows');
  ctx.dispatch({
    pipeline: ctx.pipelines.get('headSummary.rows', rowsWgsl()),
    bindings: [probs, tokens, part],
    params: packParams([
      ['u32', t],
      ['u32', tk],
      ['u32', qoff],
      ['u32', (args.excludeBos ? 1 : 0) | (args.excludeCurrentToken ? 2 : 0)],
      ['u32', n],
      ['u32', rows],
      ['u32', 0],
      ['u32', 0],
    ]),
    workgroups: [Math.min(rows, 65535), ceilDiv(rows, 65535)],
    label: 'headSummary.rows',
  });
  ctx.dispatch({
    pipeline: ctx.pipelines.get('headSummary.heads', headsWgsl()),
    bindings: [part, out],
    params: packParams([
      ['u32', t],
      ['u32', h],
      ['u32', 0],
      ['u32', 0],
    ]),
    workgroups: [h],
    label: 'headSummary.heads',
  });
  ctx.release(part);
  return out;
}

const rowsWgsl = memoWgsl(buildRowsWgsl);
const headsWgsl = memoWgsl(buildHeadsWgsl);
