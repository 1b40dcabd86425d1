/**
 * WGSL of the online-softmax attention (no T×Tk buffer): the pass that writes outputs (and per-row
 * statistics), and the pass that recomputes probabilities from the saved row max and sum to get column
 * means. Score tiles and the logit `finish` come from attention-wgsl.ts, so both paths see the same logits.
 */
import { memoWgsl } from '../wgsl/common.js';
import {
  BK,
  MASK_TEST_WGSL,
  MASKED_WGSL,
  PARAMS_WGSL,
  repeat,
  type ScoreOptions,
  scoreFinishWgsl,
  scoreTileSharedWgsl,
  scoreTileWgsl,
  unroll,
} from './attention-wgsl.js';

/** Padded row length of the score tile in workgroup memory (64 keys + 1 against bank conflicts). */
const SROW = BK + 1;

/**
 * What the passes that recompute probabilities from the saved row statistics share: bindings (q, k, the
 * [5, Hq·T] row statistics `rs`, the output `out`, the optional bias, params), the score tile's workgroup
 * arrays, `finish`, and `saved_prob` — p = exp(s − m) / l of query row i of head h from the row max m and
 * sum l the output pass saved (0 for a masked key or a row with no live key).
 */
function savedRowsPassHeader(out: string, tm: number, hasBias: boolean, opts: ScoreOptions): string {
  return /* wgsl */ `
${PARAMS_WGSL}
@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> rs: array<f32>;
@group(0) @binding(3) var<storage, read_write> ${out}: array<f32>;
${hasBias ? '@group(0) @binding(4) var<storage, read> bias: array<f32>;' : ''}
@group(0) @binding(${hasBias ? 5 : 4}) var<uniform> p: Params;

${scoreTileSharedWgsl(tm)}
${scoreFinishWgsl(hasBias, opts)}
fn saved_prob(x: f32, h: u32, i: u32) -> f32 {
  let row = h * p.t + i;
  let rl = rs[p.rows + row];
  if (x > ${MASK_TEST_WGSL} && rl > 0.0) { return exp(x - rs[row]) * (1.0 / rl); }
  return 0.0;
}`;
}

/** V rows staged per step: a power of two (so chunks tile the 64-key block) within 2048 floats (8 KiB). */
export function valueChunk(dn: number): number {
  let vc = BK;
  while (vc > 1 && vc * 16 * dn > 2048) vc /= 2;
  return vc;
}

/**
 * One workgroup per (16·tm query rows, head), 16×16 threads, walking 64-key blocks up to the diagonal:
 * 1. the score tile (shared code), masked keys and keys past the diagonal set to the masked value;
 * 2. 256/(16·tm) threads per row find the block max, turn the tile into e = exp(s − m) and sum it; one
 *    of them keeps the row's running max m, sum l (and, with stats, the entropy accumulator
 *    a = Σ e·(s − m), the first maximum and the key-0 score) and leaves the rescale factor exp(m_old − m);
 * 3. every thread rescales its output accumulators (rows l.y + 16·i, dims l.x + 16·n) and adds e·V.
 * Finally out = acc / l · headScale. Rows with no live key get 0, as in the materialising kernel.
 */
function buildFlashWgsl(tm: number, dn: number, hasBias: boolean, hasHeadScale: boolean, stats: boolean, opts: ScoreOptions): string {
  const bq = 16 * tm;
  const dp = 16 * dn;
  const vc = valueChunk(dn);
  // Threads per row in the softmax update, and keys per thread.
  const g = 256 / bq;
  const kp = BK / g;
  let b = 4;
  const biasBinding = hasBias ? b++ : -1;
  const hsBinding = hasHeadScale ? b++ : -1;
  const statsBinding = stats ? b++ : -1;
  return /* wgsl */ `
${PARAMS_WGSL}
@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> o: array<f32>;
${hasBias ? `@group(0) @binding(${biasBinding}) var<storage, read> bias: array<f32>;` : ''}
${hasHeadScale ? `@group(0) @binding(${hsBinding}) var<storage, read> hs: array<f32>;` : ''}
${
  stats
    ? `// [5, Hq·T]: row max, row sum, entropy, argmax (u32 bits), key-0 mass (one binding: adapters may allow only 8).
@group(0) @binding(${statsBinding}) var<storage, read_write> rs: array<f32>;`
    : ''
}
@group(0) @binding(${b}) var<uniform> p: Params;

${scoreTileSharedWgsl(tm)}
var<workgroup> ss: array<f32, ${bq * SROW}>;
var<workgroup> vs: array<f32, ${vc * dp}>;
var<workgroup> alpha: array<f32, ${bq}>;
var<workgroup> mrow: array<f32, ${bq}>;
var<workgroup> red_a: array<f32, 256>;
${stats ? 'var<workgroup> red_b: array<f32, 256>;\nvar<workgroup> red_i: array<u32, 256>;' : ''}
${scoreFinishWgsl(hasBias, opts)}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u, @builtin(local_invocation_index) li: u32) {
  let h = wg.y;
  let row0 = wg.x * ${bq}u;
  let vbase = (h * p.hkv / p.hq) * p.d;
  let vstride = p.hkv * p.d;
  // Keys past the last row's diagonal are never visible to this tile.
  let jend = min(p.tk, p.qoff + min(row0 + ${bq}u, p.t));
  ${unroll(tm, dn, (m, n) => `var o${m}${n} = 0.0;`)}
  let rr = li / ${g}u;
  let part = li % ${g}u;
  // Row state, meaningful in the thread with part 0 of row rr.
  var rm = ${MASKED_WGSL};
  var rl = 0.0;
  var ra = 0.0;
  var rbest = ${MASKED_WGSL};
  var rbi = 0u;
  var rs0 = ${MASKED_WGSL};
  // A sliding window hides every key before the first row's window from the whole tile.
  var kstart = 0u;
  ${opts.window ? `if (p.qoff + row0 + 1u > p.window) { kstart = ((p.qoff + row0 + 1u - p.window) / ${BK}u) * ${BK}u; }` : ''}
  for (var key0 = kstart; key0 < jend; key0 += ${BK}u) {
    ${scoreTileWgsl(tm)}
    ${unroll(
      tm,
      4,
      (m, n) => `{
      let i = row0 + l.y + ${16 * m}u;
      let j = key0 + l.x + ${16 * n}u;
      var x = ${MASKED_WGSL};
      if (i < p.t && j < p.tk && j <= p.qoff + i) { x = finish(acc${m}${n}, h, i, j); }
      ss[(l.y + ${16 * m}u) * ${SROW}u + l.x + ${16 * n}u] = x;
    }`,
    )}
    workgroupBarrier();
    // Each row's 64 keys are split over g threads (kp consecutive keys each); the thread with part 0 keeps the row state.
    let base = rr * ${SROW}u + part * ${kp}u;
    var bm = ${MASKED_WGSL};
    ${
      stats
        ? `var pbest = ${MASKED_WGSL};
    var pbi = 0u;`
        : ''
    }
    for (var c = 0u; c < ${kp}u; c++) {
      let x = ss[base + c];
      if (x > ${MASK_TEST_WGSL}) { bm = max(bm, x); }
      ${stats ? `if (x > pbest) { pbest = x; pbi = key0 + part * ${kp}u + c; }` : ''}
    }
    red_a[li] = bm;
    ${stats ? 'red_b[li] = pbest; red_i[li] = pbi;' : ''}
    workgroupBarrier();
    if (part == 0u) {
      for (var u = 1u; u < ${g}u; u++) {
        bm = max(bm, red_a[li + u]);
        ${stats ? `if (red_b[li + u] > pbest) { pbest = red_b[li + u]; pbi = red_i[li + u]; }` : ''}
      }
      ${
        stats
          ? `if (pbest > rbest) { rbest = pbest; rbi = pbi; }
      if (key0 == 0u) { rs0 = ss[base]; }`
          : ''
      }
      let mnew = max(rm, bm);
      // exp of a hugely negative finite number is 0: the first live block zeroes the empty state.
      alpha[rr] = select(1.0, exp(rm - mnew), mnew > ${MASK_TEST_WGSL});
      mrow[rr] = mnew;
    }
    workgroupBarrier();
    let mnew = mrow[rr];
    var sum = 0.0;
    var ent = 0.0;
    for (var c = 0u; c < ${kp}u; c++) {
      let x = ss[base + c];
      var e = 0.0;
      if (x > ${MASK_TEST_WGSL}) { e = exp(x - mnew); ${stats ? 'ent += e * (x - mnew);' : ''} }
      ss[base + c] = e;
      sum += e;
    }
    red_a[li] = sum;
    ${stats ? 'red_b[li] = ent;' : ''}
    workgroupBarrier();
    if (part == 0u && mnew > ${MASK_TEST_WGSL}) {
      for (var u = 1u; u < ${g}u; u++) {
        sum += red_a[li + u];
        ${stats ? 'ent += red_b[li + u];' : ''}
      }
      let a = alpha[rr];
      ${stats ? `ra = a * (ra - select(0.0, rl * (mnew - rm), rl > 0.0)) + ent;` : ''}
      rl = rl * a + sum;
      rm = mnew;
    }
    workgroupBarrier();
    ${repeat(tm, (m) => `{ let a = alpha[l.y + ${16 * m}u]; ${repeat(dn, (n) => `o${m}${n} *= a;`)} }`)}
    let kend = min(${BK}u, jend - key0);
    for (var c0 = 0u; c0 < kend; c0 += ${vc}u) {
      for (var e = li; e < ${vc * dp}u; e += 256u) {
        let r = key0 + c0 + e / ${dp}u;
        let c = e % ${dp}u;
        var x = 0.0;
        if (r < jend && c < p.d) { x = v[r * vstride + vbase + c]; }
        vs[e] = x;
      }
      workgroupBarrier();
      for (var c = 0u; c < ${vc}u; c++) {
        ${repeat(tm, (m) => `let a${m} = ss[(l.y + ${16 * m}u) * ${SROW}u + c0 + c];`)}
        ${repeat(dn, (n) => `let b${n} = vs[c * ${dp}u + l.x + ${16 * n}u];`)}
        ${unroll(tm, dn, (m, n) => `o${m}${n} = fma(a${m}, b${n}, o${m}${n});`)}
      }
      workgroupBarrier();
    }
  }
  if (part == 0u) {
    alpha[rr] = select(0.0, 1.0 / rl, rl > 0.0);
    let i = row0 + rr;
    ${
      stats
        ? `if (i < p.t) {
      let row = h * p.t + i;
      rs[row] = rm;
      rs[p.rows + row] = rl;
      // −Σ p ln p with p = e/l: ln l − (Σ e·(s − m))/l.
      rs[2u * p.rows + row] = select(0.0, log(rl) - ra / rl, rl > 0.0);
      rs[3u * p.rows + row] = bitcast<f32>(rbi);
      rs[4u * p.rows + row] = select(0.0, exp(rs0 - rm) / rl, rl > 0.0 && rs0 > ${MASK_TEST_WGSL});
    }`
        : ''
    }
  }
  workgroupBarrier();
  let scale = ${hasHeadScale ? 'hs[h]' : '1.0'};
  ${unroll(
    tm,
    dn,
    (m, n) => `{
    let i = row0 + l.y + ${16 * m}u;
    let c = l.x + ${16 * n}u;
    // An ablated head writes +0 exactly (a negative sum times 0 would give −0).
    if (i < p.t && c < p.d) { o[i * p.hq * p.d + h * p.d + c] = select(o${m}${n} * alpha[l.y + ${16 * m}u] * scale, 0.0, scale == 0.0); }
  }`,
  )}
}`;
}

/**
 * Column means without the maps: one workgroup per (64 keys, head) walks the query rows that can see
 * those keys, recomputes the score tile and the probabilities exp(s − m_i) / l_i from the saved row max
 * and sum, and sums them per key.
 */
function buildFlashColMeanWgsl(tm: number, hasBias: boolean, opts: ScoreOptions): string {
  const bq = 16 * tm;
  return /* wgsl */ `
${savedRowsPassHeader('col', tm, hasBias, opts)}
var<workgroup> part: array<f32, ${16 * BK}>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u, @builtin(local_invocation_index) li: u32) {
  let h = wg.y;
  let key0 = wg.x * ${BK}u;
  ${repeat(4, (n) => `var c${n} = 0.0;`)}
  // Row i sees key j iff qoff + i ≥ j: start at the first row that sees key0.
  let first_row = select(0u, key0 - p.qoff, key0 > p.qoff);
  for (var row0 = (first_row / ${bq}u) * ${bq}u; row0 < p.t; row0 += ${bq}u) {
    ${scoreTileWgsl(tm)}
    ${unroll(
      tm,
      4,
      (m, n) => `{
      let i = row0 + l.y + ${16 * m}u;
      let j = key0 + l.x + ${16 * n}u;
      if (i < p.t && j < p.tk && j <= p.qoff + i) {
        c${n} += saved_prob(finish(acc${m}${n}, h, i, j), h, i);
      }
    }`,
    )}
  }
  ${repeat(4, (n) => `part[l.y * ${BK}u + l.x + ${16 * n}u] = c${n};`)}
  workgroupBarrier();
  if (li < ${BK}u) {
    let j = key0 + li;
    if (j < p.tk) {
      var sum = 0.0;
      for (var r = 0u; r < 16u; r++) { sum += part[r * ${BK}u + li]; }
      let i0 = select(0u, j - p.qoff, j > p.qoff);
      col[h * p.tk + j] = select(0.0, sum / f32(p.t - i0), i0 < p.t);
    }
  }
}`;
}

// Generated once per distinct argument list (see memoWgsl).
export const flashWgsl = memoWgsl(buildFlashWgsl);
export const flashColMeanWgsl = memoWgsl(buildFlashColMeanWgsl);

/**
 * Kept maps without the materialising kernel: one head's [T, Tk] probabilities, recomputed tile by tile
 * from the saved row max and sum (p = exp(s − m) / l, 0 for masked keys and keys past the diagonal), so
 * each head is its own buffer and a layer's maps need not fit one binding. The head is `p.kc`.
 */
function buildFlashMapsWgsl(tm: number, hasBias: boolean, opts: ScoreOptions): string {
  const bq = 16 * tm;
  return /* wgsl */ `
${savedRowsPassHeader('a', tm, hasBias, opts)}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u, @builtin(local_invocation_index) li: u32) {
  let h = p.kc;
  let key0 = wg.x * ${BK}u;
  let row0 = wg.y * ${bq}u;
  // Tiles wholly above the diagonal hold zeros only (the buffer may come from the pool with old contents).
  let live = key0 <= p.qoff + min(row0 + ${bq}u, p.t) - 1u;
  if (live) {
    ${scoreTileWgsl(tm)}
    ${unroll(
      tm,
      4,
      (m, n) => `{
      let i = row0 + l.y + ${16 * m}u;
      let j = key0 + l.x + ${16 * n}u;
      if (i < p.t && j < p.tk) {
        var pv = 0.0;
        if (j <= p.qoff + i) {
          pv = saved_prob(finish(acc${m}${n}, h, i, j), h, i);
        }
        a[i * p.tk + j] = pv;
      }
    }`,
    )}
  } else {
    ${unroll(
      tm,
      4,
      (m, n) => `{
      let i = row0 + l.y + ${16 * m}u;
      let j = key0 + l.x + ${16 * n}u;
      if (i < p.t && j < p.tk) { a[i * p.tk + j] = 0.0; }
    }`,
    )}
  }
}`;
}

export const flashMapsWgsl = memoWgsl(buildFlashMapsWgsl);
