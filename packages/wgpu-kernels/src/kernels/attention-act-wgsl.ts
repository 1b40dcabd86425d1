/**
 * WGSL of ACT (methods.md §6) inside the attention kernel, run between softmax and P·V on the
 * probabilities of this pass: `actColumns` finds each head's calibrated keys from its own column
 * importance and writes the column-scale buffer; `actRewrite` rescales and redistributes every row.
 */
import { memoWgsl, ROW_THREADS } from '../wgsl/common.js';
import { PARAMS_WGSL } from './attention-wgsl.js';

/**
 * Per query head, four floats: mode (0 = off, 1 = on and the first key of Sraw exempt, 2 = on, none
 * exempt), τ (absolute; relative α/N is resolved on the host), β, and how many last keys never count.
 */
export const ACT_PARAMS_PER_HEAD = 4;

/**
 * One workgroup per head. imp[j] = mean of A[i,j] over the rows that see key j (row i sees j iff
 * j ≤ qoff + i). Keys with imp > τ (and before the ignored tail) form Sraw; the smallest is exempt when
 * asked; the others get β in the column-scale row, every other key keeps the base scale (the static
 * column scale when one is bound, else 1). Each thread reads back only the entries it wrote itself.
 */
function buildActColumnsWgsl(hasBase: boolean): string {
  const n = ROW_THREADS;
  return /* wgsl */ `
${PARAMS_WGSL}
@group(0) @binding(0) var<storage, read> s: array<f32>;
@group(0) @binding(1) var<storage, read> ap: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> cs: array<f32>;
${hasBase ? '@group(0) @binding(3) var<storage, read> base: array<f32>;' : ''}
@group(0) @binding(${hasBase ? 4 : 3}) var<uniform> p: Params;

var<workgroup> first: atomic<u32>;

fn base_scale(h: u32, j: u32) -> f32 { return ${hasBase ? 'base[h * p.tk + j]' : '1.0'}; }

@compute @workgroup_size(${n})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let h = wg.x;
  let a = ap[h];
  let mode = u32(a.x);
  if (lid == 0u) { atomicStore(&first, 0xffffffffu); }
  workgroupBarrier();
  let tail = u32(a.w);
  let last = select(0u, p.tk - tail, tail < p.tk);
  for (var j = lid; j < p.tk; j += ${n}u) {
    var flagged = false;
    if (mode != 0u && j < last) {
      // Rows i ≥ j − qoff see key j.
      let i0 = select(0u, j - p.qoff, j > p.qoff);
      if (i0 < p.t) {
        var sum = 0.0;
        for (var i = i0; i < p.t; i++) { sum += s[(h * p.t + i) * p.tk + j]; }
        flagged = sum / f32(p.t - i0) > a.y;
      }
    }
    // −1 marks a key of Sraw until the exempt one is known.
    cs[h * p.tk + j] = select(base_scale(h, j), -1.0, flagged);
    if (flagged) { atomicMin(&first, j); }
  }
  workgroupBarrier();
  let exempt = select(0xffffffffu, atomicLoad(&first), mode == 1u);
  for (var j = lid; j < p.tk; j += ${n}u) {
    if (cs[h * p.tk + j] == -1.0) { cs[h * p.tk + j] = select(a.z, base_scale(h, j), j == exempt); }
  }
}`;
}

/**
 * One workgroup per (head, query row), in place on the probabilities: keys with scale c ≠ 1 keep c·A,
 * the removed mass Σ(1−c)·A goes to the keys with c = 1 in proportion to their attention. A row with no
 * mass on c = 1 keys stays as it is. Heads with ACT off (and no static scale) have c = 1 everywhere.
 */
function buildActRewriteWgsl(): string {
  const n = ROW_THREADS;
  return /* wgsl */ `
${PARAMS_WGSL}
@group(0) @binding(0) var<storage, read_write> s: array<f32>;
@group(0) @binding(1) var<storage, read> cs: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> red: array<vec2f, ${n}>;

@compute @workgroup_size(${n})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x + wg.y * 65535u;
  if (row >= p.rows) { return; }
  let h = row / p.t;
  let i = row % p.t;
  let base = row * p.tk;
  let nvis = min(p.tk, p.qoff + i + 1u);
  // x: mass on uncalibrated keys; y: mass removed from calibrated keys.
  var acc = vec2f(0.0);
  for (var j = lid; j < nvis; j += ${n}u) {
    let c = cs[h * p.tk + j];
    let a = s[base + j];
    if (c == 1.0) { acc.x += a; } else { acc.y += (1.0 - c) * a; }
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var w = ${n / 2}u; w > 0u; w = w >> 1u) {
    if (lid < w) { red[lid] = red[lid] + red[lid + w]; }
    workgroupBarrier();
  }
  let sums = red[0];
  if (sums.x <= 0.0) { return; }
  let factor = 1.0 + sums.y / sums.x;
  for (var j = lid; j < nvis; j += ${n}u) {
    let c = cs[h * p.tk + j];
    let a = s[base + j];
    s[base + j] = select(c * a, a * factor, c == 1.0);
  }
}`;
}

export const actColumnsWgsl = memoWgsl(buildActColumnsWgsl);
export const actRewriteWgsl = memoWgsl(buildActRewriteWgsl);
