/** WGSL generators of the attention passes: scores (+ bias), softmax (+ ACT rewrite), P·V (+ split sum, head scale). */
import { memoWgsl, ROW_THREADS, WGSL_SOFTCAP } from '../wgsl/common.js';

/** Keys per score tile (16 threads × 4). */
export const BK = 64;
/** Head-dim slice staged in workgroup memory per step of the score tile. */
export const BD = 16;
/** Keys staged per step of the P·V tile. */
export const BJ = 16;
/** What phase 1 writes for a masked key: finite, so no inf arithmetic is ever needed. */
export const MASKED_WGSL = '-3.0e38';
export const MASK_TEST_WGSL = '-1.0e30';

/**
 * One params struct for all passes (kc: keys per P·V split; dtiles: head-dim tiles; rows: Hq·T; window:
 * sliding-window length, 0 = none; softcap: attention-logit cap, 0 = none).
 */
export const PARAMS_WGSL =
  'struct Params { t: u32, tk: u32, qoff: u32, hq: u32, hkv: u32, d: u32, kc: u32, dtiles: u32, rows: u32, scale: f32, window: u32, softcap: f32 }';

/** Options of the score pass beyond the bias: each adds code only when on, so the plain pipeline stays as it was. */
export interface ScoreOptions {
  /** Keys at or beyond `window` positions behind the query are masked (sliding-window layers). */
  window: boolean;
  /** Scores become softcap·tanh(score/softcap) before the bias (Gemma 2). */
  softcap: boolean;
}

/** Repeats `f(m, n)` over an m×n register block (the tile loops are unrolled so accumulators stay in registers). */
export function unroll(ms: number, ns: number, f: (m: number, n: number) => string): string {
  const parts: string[] = [];
  for (let m = 0; m < ms; m++) for (let n = 0; n < ns; n++) parts.push(f(m, n));
  return parts.join('\n    ');
}

export function repeat(count: number, f: (i: number) => string): string {
  return Array.from({ length: count }, (_, i) => f(i)).join('\n      ');
}

/**
 * The score of key j for query row i of head h (`finish`: scale, soft-cap, sliding window, bias), shared by
 * the materialising and the online-softmax kernels so that a change to the logits reaches both. Needs `p`
 * (Params) and, with a bias, a `bias` binding.
 */
export function scoreFinishWgsl(hasBias: boolean, opts: ScoreOptions): string {
  const scaled = opts.softcap ? 'softcap(x * p.scale, p.softcap)' : 'x * p.scale';
  // Query row i sits at absolute position qoff + i; the window keeps keys with position − j < window.
  const windowTest = opts.window ? `if (p.qoff + i >= j + p.window) { return ${MASKED_WGSL}; }\n  ` : '';
  return /* wgsl */ `
${opts.softcap ? WGSL_SOFTCAP : ''}
fn finish(x: f32, h: u32, i: u32, j: u32) -> f32 {
  ${windowTest}${
    hasBias
      ? `let b = bias[h * p.tk + j];
  // The bit test catches −∞ where a compiler assumes no infinities.
  if (b <= ${MASK_TEST_WGSL} || bitcast<u32>(b) == 0xff800000u) { return ${MASKED_WGSL}; }
  return ${scaled} + b;`
      : `return ${scaled};`
  }
}`;
}

/** Workgroup arrays that `scoreTileWgsl(tm)` stages Q and K slices in. */
export function scoreTileSharedWgsl(tm: number): string {
  return `var<workgroup> qs: array<f32, ${16 * tm * (BD + 1)}>;
var<workgroup> ks: array<f32, ${BK * (BD + 1)}>;`;
}

/**
 * Q·Kᵀ for a (16·tm rows from `row0`) × 64 keys (from `key0`) tile of head h on 16×16 threads: thread
 * (l.x, l.y) ends with acc{m}{n} = q[row0 + l.y + 16m] · k[key0 + l.x + 16n]. Q and K slices of 16 dims
 * are staged in workgroup memory so each K row is read from global memory once per tile rather than once
 * per query row. Expects h, row0, key0, l, li, p and the q, k bindings in scope.
 */
export function scoreTileWgsl(tm: number): string {
  const bq = 16 * tm;
  return `let qbase = h * p.d;
  let kbase = (h * p.hkv / p.hq) * p.d;
  let qstride = p.hq * p.d;
  let kstride = p.hkv * p.d;
  ${unroll(tm, 4, (m, n) => `var acc${m}${n} = 0.0;`)}
  for (var d0 = 0u; d0 < p.d; d0 += ${BD}u) {
    for (var e = li; e < ${bq * BD}u; e += 256u) {
      let r = row0 + e / ${BD}u;
      let c = d0 + e % ${BD}u;
      var x = 0.0;
      if (r < p.t && c < p.d) { x = q[r * qstride + qbase + c]; }
      qs[(e / ${BD}u) * ${BD + 1}u + e % ${BD}u] = x;
    }
    for (var e = li; e < ${BK * BD}u; e += 256u) {
      let r = key0 + e / ${BD}u;
      let c = d0 + e % ${BD}u;
      var x = 0.0;
      if (r < p.tk && c < p.d) { x = k[r * kstride + kbase + c]; }
      ks[(e / ${BD}u) * ${BD + 1}u + e % ${BD}u] = x;
    }
    workgroupBarrier();
    for (var c = 0u; c < ${BD}u; c++) {
      ${repeat(tm, (m) => `let a${m} = qs[(l.y + ${16 * m}u) * ${BD + 1}u + c];`)}
      ${repeat(4, (n) => `let b${n} = ks[(l.x + ${16 * n}u) * ${BD + 1}u + c];`)}
      ${unroll(tm, 4, (m, n) => `acc${m}${n} = fma(a${m}, b${n}, acc${m}${n});`)}
    }
    workgroupBarrier();
  }`;
}

/**
 * How the score pass serves the softmax. 'separate': it writes visible scores only and the softmax pass
 * makes the probabilities. 'max': it also writes each row's max over its 64-key block ([Hq·T, ⌈Tk/64⌉, 2]
 * in `bs`, the max first), and P·V exponentiates against the row max and divides by the sum it gathers
 * (nothing captured). 'stats-zeroed': the block's Σexp(s − max) as well, so P·V can store normalised
 * probabilities back as it loads them (the score buffer is the captured maps), and 0 for every hidden key,
 * tiles past the diagonal included, because P·V only writes the keys it reads.
 */
export type ScoreStats = 'separate' | 'max' | 'stats-zeroed';

/** Merges two (max, Σexp(s − max)) pairs of one row; a masked max (no live key) leaves the other pair. */
const STAT_MERGE_WGSL = `fn stat_merge(a: vec2f, b: vec2f) -> vec2f {
  if (b.x <= ${MASK_TEST_WGSL}) { return a; }
  if (a.x <= ${MASK_TEST_WGSL}) { return b; }
  let m = max(a.x, b.x);
  return vec2f(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}`;

/** Phase 1: S = finish(scale·Q·Kᵀ) for one head and a (16·tm rows) × 64 keys tile; tiles wholly above the diagonal exit. */
function buildScoresWgsl(tm: number, hasBias: boolean, opts: ScoreOptions = { window: false, softcap: false }, stats: ScoreStats = 'separate'): string {
  const bq = 16 * tm;
  const withStats = stats !== 'separate';
  const zeroed = stats === 'stats-zeroed';
  const statsBinding = hasBias ? 4 : 3;
  // Each row's max (and Σexp(s − max)) over the tile's 64 keys, merged as (max, sum) pairs: every thread
  // pairs its 4 keys of each of its rows, then 256/bq threads per row merge tm pairs each, then the first
  // of them merges theirs. The K stage is free by now and holds the pairs' maxima. Only the captured
  // layout pays for the exponentials: exp per score is what made this pass ~45% slower.
  const g = 256 / bq;
  const blockStats = /* wgsl */ `
  ${repeat(
    tm,
    (m) => `{
    let mx = max(max(f${m}0, f${m}1), max(f${m}2, f${m}3));
    ks[(l.y + ${16 * m}u) * 16u + l.x] = mx;${
      zeroed
        ? `
    var e = 0.0;
    if (mx > ${MASK_TEST_WGSL}) { ${repeat(4, (n) => `if (f${m}${n} > ${MASK_TEST_WGSL}) { e += exp(f${m}${n} - mx); }`)} }
    red[(l.y + ${16 * m}u) * 16u + l.x] = e;`
        : ''
    }
  }`,
  )}
  workgroupBarrier();
  var pair = vec2f(${MASKED_WGSL}, 0.0);
  for (var c = 0u; c < ${tm}u; c++) {
    let at = (li / ${g}u) * 16u + (li % ${g}u) * ${tm}u + c;
    ${zeroed ? 'pair = stat_merge(pair, vec2f(ks[at], red[at]));' : 'pair.x = max(pair.x, ks[at]);'}
  }
  workgroupBarrier();
  ks[li] = pair.x;
  ${zeroed ? 'red[li] = pair.y;' : ''}
  workgroupBarrier();
  if (li % ${g}u == 0u) {
    for (var c = 1u; c < ${g}u; c++) { ${zeroed ? 'pair = stat_merge(pair, vec2f(ks[li + c], red[li + c]));' : 'pair.x = max(pair.x, ks[li + c]);'} }
    let i = row0 + li / ${g}u;
    if (i < p.t) { let at = ((h * p.t + i) * ((p.tk + ${BK - 1}u) / ${BK}u) + wg.x) * 2u; bs[at] = pair.x; ${zeroed ? 'bs[at + 1u] = pair.y;' : ''} }
  }`;
  return /* wgsl */ `
${PARAMS_WGSL}
@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read_write> s: array<f32>;
${hasBias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;' : ''}
${withStats ? `@group(0) @binding(${statsBinding}) var<storage, read_write> bs: array<f32>;` : ''}
@group(0) @binding(${statsBinding + (withStats ? 1 : 0)}) var<uniform> p: Params;

${scoreTileSharedWgsl(tm)}
${
  zeroed
    ? `var<workgroup> red: array<f32, ${Math.max(bq * 16, 256)}>;
${STAT_MERGE_WGSL}`
    : ''
}
${scoreFinishWgsl(hasBias, opts)}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u, @builtin(local_invocation_index) li: u32) {
  let h = wg.z;
  let row0 = wg.y * ${bq}u;
  let key0 = wg.x * ${BK}u;
  if (key0 > p.qoff + min(row0 + ${bq}u, p.t) - 1u) {
    ${
      zeroed
        ? `${unroll(tm, 4, (m, n) => `{ let i = row0 + l.y + ${16 * m}u; let j = key0 + l.x + ${16 * n}u; if (i < p.t && j < p.tk) { s[(h * p.t + i) * p.tk + j] = 0.0; } }`)}
    `
        : ''
    }return;
  }
  ${scoreTileWgsl(tm)}
  ${unroll(
    tm,
    4,
    (m, n) => `${
      withStats
        ? `var f${m}${n} = ${MASKED_WGSL};
    `
        : ''
    }{
    let i = row0 + l.y + ${16 * m}u;
    let j = key0 + l.x + ${16 * n}u;
    if (i < p.t && j < p.tk && j <= p.qoff + i) { ${
      withStats
        ? `f${m}${n} = finish(acc${m}${n}, h, i, j); s[(h * p.t + i) * p.tk + j] = f${m}${n};`
        : `s[(h * p.t + i) * p.tk + j] = finish(acc${m}${n}, h, i, j);`
    } }${zeroed ? ' else if (i < p.t && j < p.tk) { s[(h * p.t + i) * p.tk + j] = 0.0; }' : ''}
  }`,
  )}${withStats ? blockStats : ''}
}`;
}

/**
 * P·V's first step when it normalises: each of the tile's bq rows combines the score pass's block
 * statistics into its max m (rm) and, `withSum`, 1/Σexp(s − m) (ri; 0 for a row with no live key).
 * 256/bq threads share a row, each merging a stride of the blocks the row can see as a running (max, sum)
 * pair; the first of them merges the pairs. Expects h, row0, li, p and the `bs` binding in scope.
 */
function rowStatsPrologue(bq: number, withSum: boolean): string {
  const g = 256 / bq;
  return /* wgsl */ `{
    let e = li / ${g}u;
    let part = li % ${g}u;
    let i = min(row0 + e, p.t - 1u);
    let row = h * p.t + i;
    let nb = (p.tk + ${BK - 1}u) / ${BK}u;
    let seen = (min(p.tk, p.qoff + i + 1u) + ${BK - 1}u) / ${BK}u;
    var m = ${MASKED_WGSL};${withSum ? '\n    var l = 0.0;' : ''}
    for (var b = part; b < seen; b += ${g}u) {
      let mb = bs[(row * nb + b) * 2u];${
        withSum
          ? `
      if (mb > ${MASK_TEST_WGSL}) {
        let lb = bs[(row * nb + b) * 2u + 1u];
        if (mb > m) { l = l * exp(m - mb) + lb; m = mb; } else { l += lb * exp(mb - m); }
      }`
          : `
      m = max(m, mb);`
      }
    }
    pm[li] = m;${withSum ? '\n    pl[li] = l;' : ''}
  }
  workgroupBarrier();
  if (li % ${g}u == 0u) {
    var m = ${MASKED_WGSL};
    for (var c = 0u; c < ${g}u; c++) { m = max(m, pm[li + c]); }
    rm[li / ${g}u] = m;${
      withSum
        ? `
    var l = 0.0;
    if (m > ${MASK_TEST_WGSL}) {
      for (var c = 0u; c < ${g}u; c++) { if (pm[li + c] > ${MASK_TEST_WGSL}) { l += pl[li + c] * exp(pm[li + c] - m); } }
    }
    ri[li / ${g}u] = select(0.0, 1.0 / l, l > 0.0);`
        : ''
    }
  }
  workgroupBarrier();`;
}

/**
 * Phase 2: one workgroup per (head, query row), in place on the score rows: max, then Σexp (and the
 * two ACT sums), then the probabilities. Each thread touches only its own strided elements, so the
 * in-place overwrite is safe. Keys past the diagonal and masked keys become 0.
 */
function buildSoftmaxWgsl(hasPre: boolean, hasColScale: boolean): string {
  const n = ROW_THREADS;
  let b = 1;
  const preBinding = hasPre ? b++ : -1;
  const csBinding = hasColScale ? b++ : -1;
  return /* wgsl */ `
${PARAMS_WGSL}
@group(0) @binding(0) var<storage, read_write> s: array<f32>;
${hasPre ? `@group(0) @binding(${preBinding}) var<storage, read_write> pre: array<f32>;` : ''}
${hasColScale ? `@group(0) @binding(${csBinding}) var<storage, read> cs: array<f32>;` : ''}
@group(0) @binding(${b}) var<uniform> p: Params;

var<workgroup> red_max_buf: array<f32, ${n}>;
var<workgroup> red_sum_buf: array<vec3f, ${n}>;
fn red_max(v: f32, lid: u32) -> f32 {
  red_max_buf[lid] = v;
  workgroupBarrier();
  for (var w = ${n / 2}u; w > 0u; w = w >> 1u) {
    if (lid < w) { red_max_buf[lid] = max(red_max_buf[lid], red_max_buf[lid + w]); }
    workgroupBarrier();
  }
  return red_max_buf[0];
}
fn red_sum(v: vec3f, lid: u32) -> vec3f {
  red_sum_buf[lid] = v;
  workgroupBarrier();
  for (var w = ${n / 2}u; w > 0u; w = w >> 1u) {
    if (lid < w) { red_sum_buf[lid] = red_sum_buf[lid] + red_sum_buf[lid + w]; }
    workgroupBarrier();
  }
  return red_sum_buf[0];
}

@compute @workgroup_size(${n})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x + wg.y * 65535u;
  if (row >= p.rows) { return; }
  let h = row / p.t;
  let i = row % p.t;
  let base = row * p.tk;
  let nvis = min(p.tk, p.qoff + i + 1u);
  var m = ${MASKED_WGSL};
  for (var j = lid; j < nvis; j += ${n}u) {
    let x = s[base + j];
    if (x > ${MASK_TEST_WGSL}) { m = max(m, x); }
  }
  m = red_max(m, lid);
  let live = m > ${MASK_TEST_WGSL};
  // x: Σ e; y: Σ e over uncalibrated keys (s = 1); z: Σ (1 − s)·e over calibrated keys.
  var acc = vec3f(0.0);
  if (live) {
    for (var j = lid; j < nvis; j += ${n}u) {
      let x = s[base + j];
      if (x > ${MASK_TEST_WGSL}) {
        let e = exp(x - m);
        acc.x += e;
        ${hasColScale ? 'let c = cs[h * p.tk + j]; if (c == 1.0) { acc.y += e; } else { acc.z += (1.0 - c) * e; }' : ''}
      }
    }
  }
  acc = red_sum(acc, lid);
  // The row max contributes exp(0) = 1, so acc.x ≥ 1 whenever the row has a live key.
  let inv = select(0.0, 1.0 / acc.x, live);
  let redistribute = acc.y > 0.0;
  let factor = select(1.0, 1.0 + acc.z / acc.y, redistribute);
  for (var j = lid; j < p.tk; j += ${n}u) {
    var pv = 0.0;
    if (j < nvis && live) {
      let x = s[base + j];
      if (x > ${MASK_TEST_WGSL}) { pv = exp(x - m) * inv; }
    }
    ${hasPre ? 'pre[base + j] = pv;' : ''}
    ${hasColScale ? 'if (redistribute && j < nvis) { let c = cs[h * p.tk + j]; pv = select(c * pv, pv * factor, c == 1.0); }' : ''}
    s[base + j] = pv;
  }
}`;
}

/**
 * Phase 3: out = P·V for one head and a (16·tm rows) × (16·tn dims) tile over one split of the keys,
 * 16 keys per step with P and V slices staged in workgroup memory; the next slice is loaded into
 * registers while the current one is multiplied, so global latency overlaps the arithmetic. With
 * several splits each writes a partial sum that `reduceWgsl` adds up (decode steps and short prompts
 * would otherwise leave most of a large GPU idle).
 */
function buildPvWgsl(tm: number, tn: number, split: boolean, hasHeadScale: boolean, normalise: 'off' | 'read' | 'write' = 'off'): string {
  const bq = 16 * tm;
  const bn = 16 * tn;
  const sums = normalise === 'read';
  const sumSplit = sums && split;
  // 'read' / 'write': s holds scores, turned into exp(s − row max) when the slice is parked in workgroup
  // memory, not when it is fetched, so the fetch of the next slice still overlaps the arithmetic. 'read'
  // sums them per row as it multiplies and divides at the end (split: the sums go to `lp` for the reduce
  // pass); 'write' multiplies by 1/Σ from the score pass's statistics and stores the probabilities back
  // (the captured maps; only with one head-dim tile, so no other workgroup reads a score after it was
  // overwritten).
  const park = (u: number): string => {
    const slot = `ps[((li + ${256 * u}u) / ${BJ}u) * ${BJ + 1}u + (li + ${256 * u}u) % ${BJ}u]`;
    if (normalise === 'off') return `${slot} = pr${u};`;
    const at = '(h * p.t + r) * p.tk + c';
    const w = normalise === 'write' ? ` if (r < p.t && c < jend) { s[${at}] = pv; }` : '';
    return `{ let e = li + ${256 * u}u; let r = row0 + e / ${BJ}u; let c = j0 + e % ${BJ}u; var pv = 0.0; if (r < p.t && c < jend && c <= p.qoff + r && pr${u} > ${MASK_TEST_WGSL}) { pv = exp(pr${u} - rm[e / ${BJ}u])${normalise === 'write' ? ` * ri[e / ${BJ}u]` : ''}; } ${slot} = pv;${w} }`;
  };
  const load = (pfx: string) => `
    ${repeat(tm, (u) => `{ let e = li + ${256 * u}u; let r = row0 + e / ${BJ}u; let c = ${pfx} + e % ${BJ}u; pr${u} = 0.0; if (r < p.t && c < jend) { pr${u} = s[(h * p.t + r) * p.tk + c]; } }`)}
    ${repeat(tn, (u) => `{ let e = li + ${256 * u}u; let r = ${pfx} + e / ${bn}u; let c = d0 + e % ${bn}u; vr${u} = 0.0; if (r < jend && c < p.d) { vr${u} = v[r * vstride + vbase + c]; } }`)}`;
  return /* wgsl */ `
${PARAMS_WGSL}
@group(0) @binding(0) var<storage, ${normalise === 'write' ? 'read_write' : 'read'}> s: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read_write> o: array<f32>;
${hasHeadScale ? '@group(0) @binding(3) var<storage, read> hs: array<f32>;' : ''}
${normalise !== 'off' ? `@group(0) @binding(${hasHeadScale ? 4 : 3}) var<storage, read> bs: array<f32>;` : ''}
${sumSplit ? `@group(0) @binding(${hasHeadScale ? 5 : 4}) var<storage, read_write> lp: array<f32>;` : ''}
@group(0) @binding(${3 + (hasHeadScale ? 1 : 0) + (normalise !== 'off' ? 1 : 0) + (sumSplit ? 1 : 0)}) var<uniform> p: Params;

var<workgroup> ps: array<f32, ${bq * (BJ + 1)}>;
var<workgroup> vs: array<f32, ${BJ * bn}>;
${normalise !== 'off' ? `var<workgroup> rm: array<f32, ${bq}>;\nvar<workgroup> pm: array<f32, 256>;` : ''}
${normalise === 'write' ? `var<workgroup> ri: array<f32, ${bq}>;\nvar<workgroup> pl: array<f32, 256>;` : ''}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u, @builtin(local_invocation_index) li: u32) {
  let h = wg.z;
  let row0 = wg.y * ${bq}u;
  let d0 = (wg.x % p.dtiles) * ${bn}u;
  let sp = wg.x / p.dtiles;
  let g = h * p.hkv / p.hq;
  let vbase = g * p.d;
  let vstride = p.hkv * p.d;
  let jstart = sp * p.kc;
  // Keys past the tile's last row are zero in P; keys past the split belong to the next split.
  let jend = min(min(p.tk, p.qoff + min(row0 + ${bq}u, p.t)), jstart + p.kc);
  if (jstart >= jend) { return; }
  ${normalise !== 'off' ? rowStatsPrologue(bq, normalise === 'write') : ''}
  ${unroll(tm, tn, (m, n) => `var acc${m}${n} = 0.0;`)}
  ${sums ? repeat(tm, (m) => `var ls${m} = 0.0;`) : ''}
  ${repeat(tm, (u) => `var pr${u} = 0.0;`)}
  ${repeat(tn, (u) => `var vr${u} = 0.0;`)}
  ${load('jstart')}
  for (var j0 = jstart; j0 < jend; j0 += ${BJ}u) {
    ${repeat(tm, park)}
    ${repeat(tn, (u) => `vs[li + ${256 * u}u] = vr${u};`)}
    workgroupBarrier();
    if (j0 + ${BJ}u < jend) {${load(`j0 + ${BJ}u`)}
    }
    for (var c = 0u; c < ${BJ}u; c++) {
      ${repeat(tm, (m) => `let a${m} = ps[(l.y + ${16 * m}u) * ${BJ + 1}u + c];${sums ? ` ls${m} += a${m};` : ''}`)}
      ${repeat(tn, (n) => `let b${n} = vs[c * ${bn}u + l.x + ${16 * n}u];`)}
      ${unroll(tm, tn, (m, n) => `acc${m}${n} = fma(a${m}, b${n}, acc${m}${n});`)}
    }
    workgroupBarrier();
  }
  // An ablated head writes +0 exactly (a negative sum times 0 would give −0).
  let scale = ${hasHeadScale ? 'hs[h]' : '1.0'};
  ${sums && !split ? repeat(tm, (m) => `let inv${m} = select(0.0, 1.0 / ls${m}, ls${m} > 0.0);`) : ''}
  ${
    sumSplit
      ? repeat(
          tm,
          (m) => `if (l.x == 0u && wg.x % p.dtiles == 0u && row0 + l.y + ${16 * m}u < p.t) { lp[(sp * p.t + row0 + l.y + ${16 * m}u) * p.hq + h] = ls${m}; }`,
        )
      : ''
  }
  ${unroll(
    tm,
    tn,
    (m, n) => `{
    let i = row0 + l.y + ${16 * m}u;
    let c = d0 + l.x + ${16 * n}u;
    if (i < p.t && c < p.d) { ${
      split
        ? `o[(sp * p.t + i) * p.hq * p.d + h * p.d + c] = acc${m}${n};`
        : `o[i * p.hq * p.d + h * p.d + c] = select(acc${m}${n}${sums ? ` * inv${m}` : ''} * scale, 0.0, scale == 0.0);`
    } }
  }`,
  )}
}`;
}

/**
 * Adds the split partial sums of row i (only the splits that hold keys row i can see) and applies
 * headScale; `divide`: the partials are unnormalised and `lp` holds each split's Σexp per row and head.
 */
function buildReduceWgsl(hasHeadScale: boolean, divide = false): string {
  return /* wgsl */ `
${PARAMS_WGSL}
@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> o: array<f32>;
${hasHeadScale ? '@group(0) @binding(2) var<storage, read> hs: array<f32>;' : ''}
${divide ? `@group(0) @binding(${hasHeadScale ? 3 : 2}) var<storage, read> lp: array<f32>;` : ''}
@group(0) @binding(${2 + (hasHeadScale ? 1 : 0) + (divide ? 1 : 0)}) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let width = p.hq * p.d;
  let idx = (wg.x + wg.y * 65535u) * 256u + li;
  if (idx >= p.t * width) { return; }
  let i = idx / width;
  let col = idx % width;
  let n = (min(p.tk, p.qoff + i + 1u) + p.kc - 1u) / p.kc;
  var acc = 0.0;
  for (var sp = 0u; sp < n; sp++) { acc += part[(sp * p.t + i) * width + col]; }${
    divide
      ? `
  var l = 0.0;
  for (var sp = 0u; sp < n; sp++) { l += lp[(sp * p.t + i) * p.hq + col / p.d]; }
  acc = select(0.0, acc / l, l > 0.0);`
      : ''
  }
  let scale = ${hasHeadScale ? 'hs[col / p.d]' : '1.0'};
  o[idx] = select(acc * scale, 0.0, scale == 0.0);
}`;
}

// Generated once per distinct argument list (see memoWgsl).
export const scoresWgsl = memoWgsl(buildScoresWgsl);
export const softmaxWgsl = memoWgsl(buildSoftmaxWgsl);
export const pvWgsl = memoWgsl(buildPvWgsl);
export const reduceWgsl = memoWgsl(buildReduceWgsl);
