/** WGSL generators of the matmul kernels: the register-blocked tile, the split-K sum and the decode path. */
import { type FloatStorage, memoWgsl, wgslFloatArray, wgslHalfAt, wgslUnpack } from '../wgsl/common.js';
import { type ActivationOp, activationWgsl } from './activation.js';

/**
 * What happens to each output after the product and bias, in the kernel that writes it: an activation
 * (the MLP's), then adding into C's current value (a residual stream). Each saves a pass over the
 * output and a dispatch; the arithmetic is the same as the separate kernels'.
 */
export interface MatmulEpilogue {
  activation?: ActivationOp;
  accumulate?: boolean;
  /**
   * Column widths (each a multiple of 4, summing to N): the output's columns go to separate tensors C0,
   * C1, … bound in C's place, each [M, width] (a fused Q|K|V product writing Q, K and V). One batch only.
   */
  split?: readonly number[];
}

/** Declarations of the output binding(s) from `binding` on: C, or C0… for a split epilogue; and how many. */
function outputDecls(e: MatmulEpilogue, binding: number, type: string): { decls: string; count: number } {
  if (!e.split) return { decls: `@group(0) @binding(${binding}) var<storage, read_write> C: ${type};`, count: 1 };
  const decls = e.split.map((_, i) => `@group(0) @binding(${binding + i}) var<storage, read_write> C${i}: ${type};`);
  return { decls: decls.join('\n'), count: e.split.length };
}

/**
 * Stores `value` for output (row, col): at `plain` (C's own index expression), or, with a split epilogue,
 * in the part holding that column (vec: `col` is the first of four columns in one part, indices in vec4s).
 */
function store(e: MatmulEpilogue, plain: string, row: string, col: string, value: string, vec: boolean): string {
  if (!e.split) return finish(e, plain, value, vec);
  const parts: string[] = [];
  let start = 0;
  e.split.forEach((w, i) => {
    const idx = `((${row}) * ${w}u + (${col}) - ${start}u)${vec ? ' / 4u' : ''}`;
    const st = finish(e, `C${i}[${idx}]`, value, vec);
    const last = i === e.split!.length - 1;
    parts.push(last ? `{ ${st} }` : `if ((${col}) < ${start + w}u) { ${st} }`);
    start += w;
  });
  return parts.join(' else ');
}

/** WGSL helpers an epilogue needs: the activation and its vec4 form. */
function epilogueFns(e: MatmulEpilogue): string {
  if (!e.activation) return '';
  const op = e.activation;
  return `${activationWgsl(op)}\nfn ${op}4(v: vec4f) -> vec4f { return vec4f(${op}(v.x), ${op}(v.y), ${op}(v.z), ${op}(v.w)); }\n`;
}

/** The statement storing `value` (a f32 or vec4f expression) at `target` with the epilogue applied. */
function finish(e: MatmulEpilogue, target: string, value: string, vec: boolean): string {
  const v = e.activation ? `${e.activation}${vec ? '4' : ''}(${value})` : value;
  return `${target} = ${e.accumulate ? `${target} + ${v}` : v};`;
}

/** Block tile: bm×bn outputs per workgroup, bk of K staged per step, tm×tn outputs per thread (4, 8 or 16). */
export interface MatmulTile {
  bm: number;
  bn: number;
  bk: number;
  tm: 4 | 8 | 16;
  tn: 4 | 8 | 16;
  /** 1-D workgroup arrays (default: nested [buffer][k][thread], which keeps bounds clamps out of the inner loop) */
  flat?: boolean;
}

export const threadsOf = (t: MatmulTile): number => (t.bm / t.tm) * (t.bn / t.tn);

export const PARAMS = 'struct Params { M: u32, N: u32, K: u32, tilesPerSplit: u32, aBatch: u32, bBatch: u32, cBatch: u32, splits: u32 }';

const lines = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i)).join('\n  ');

/**
 * Loads from operand `buf` (A or B) in its storage: `vec` a vec4 at a vec4 index, `el` one element at an
 * element index, each optionally clamped to the buffer (for loads a bounds check discards). 16-bit
 * operands (weights) are bound as vec2<u32> / u32 words and unpacked to f32 here, so the products still
 * accumulate in f32; for f32 the loads are exactly the plain indexing of the fp32 kernels.
 */
function operand(buf: string, s: FloatStorage, vec4: boolean) {
  const clampTo = (idx: string, clamp: boolean, last: string): string => (clamp ? `min(${idx}, ${last})` : idx);
  return {
    vec: (idx: string, clamp: boolean): string => {
      const at = `${buf}[${clampTo(idx, clamp, `arrayLength(&${buf}) - 1u`)}]`;
      return s === 'f32' ? at : `${buf}_v4(${at})`;
    },
    el: (idx: string, clamp: boolean): string =>
      s === 'f32' ? `${buf}[${clampTo(idx, clamp, `arrayLength(&${buf}) - 1u`)}]` : `${buf}_at(${clampTo(idx, clamp, `arrayLength(&${buf}) * 2u - 1u`)})`,
    fns:
      s === 'f32'
        ? []
        : [wgslUnpack(s), vec4 ? `fn ${buf}_v4(w: vec2<u32>) -> vec4f { return vec4f(unpack_${s}(w.x), unpack_${s}(w.y)); }` : wgslHalfAt(buf, s)],
  };
}

/** The unpack helpers two operands need (each format's unpack function once); empty for f32 operands. */
function helpers(a: ReturnType<typeof operand>, b: ReturnType<typeof operand>): string {
  const fns = [...new Set([...a.fns, ...b.fns])];
  return fns.length ? `${fns.join('\n')}\n` : '';
}

/**
 * How a tile treats the matrix edges. 'none': every dimension is a tile multiple, no checks. 'clamp': K is a
 * tile multiple and rows are whole vec4s, so a load past the last row of A (or of B's N side) only needs its
 * row clamped onto the last one: the products it feeds land in outputs the masked stores skip. 'select':
 * anything else; each load checks its row and K position and reads 0 outside. On the H200 the select
 * loads cost a third of the throughput (the 1024×768·768×50257 unembedding: 25.4 TFLOP/s against 38.2 for
 * 50,304 columns), and every prompt length that is not a multiple of the tile took that path.
 */
export type MatmulEdges = 'none' | 'clamp' | 'select';

/**
 * The register-blocked kernel. A tile is stored k-major (As[k][m], Bs[k][n], as vec4 along m / n) so each
 * step of the inner product reads tm/4 + tn/4 vec4s from workgroup memory and does tm·tn FMAs. The next
 * K tile is fetched into registers while the current one is multiplied (double-buffered, one barrier per
 * step). `edges` says how loads past the matrix edges are kept in bounds (see MatmulEdges); stores are
 * masked unless it is 'none'. vecK / vecN say whether rows of K / N allow vec4 access.
 */
function buildTiledWgsl(
  t: MatmulTile,
  transB: boolean,
  edges: MatmulEdges,
  vecK: boolean,
  vecN: boolean,
  bias: boolean,
  aStorage: FloatStorage = 'f32',
  bStorage: FloatStorage = 'f32',
  ep: MatmulEpilogue = {},
): string {
  const T = threadsOf(t);
  const TX = t.bn / t.tn;
  const gm = t.tm / 4;
  const gn = t.tn / 4;
  const qa = t.bk / 4; // vec4s per A row in a tile
  const aLoads = (t.bm * t.bk) / 4 / T;
  const bLoads = (t.bn * t.bk) / 4 / T;
  const bVec = transB ? vecK : vecN;
  const arr = (v: boolean): string => (v ? 'array<vec4f>' : 'array<f32>');
  const opA = operand('A', aStorage, vecK);
  const opB = operand('B', bStorage, bVec);
  const full = edges === 'none';
  // A global vec4 of K-consecutive values (row r of `rows`, column k) from a row-major matrix with `ld` columns.
  const loadK = (buf: string, base: string, r: string, rows: string, k: string, ld: string, vec: boolean): string => {
    const op = buf === 'A' ? opA : opB;
    const rOk = `${r} < ${rows}`;
    if (vec) {
      if (edges === 'clamp') return op.vec(`(${base} + min(${r}, ${rows} - 1u) * ${ld} + ${k}) / 4u`, false);
      const idx = `(${base} + (${r}) * ${ld} + ${k}) / 4u`;
      return full ? op.vec(idx, false) : `select(vec4f(0.0), ${op.vec(idx, true)}, ${rOk} && ${k} < p.K)`;
    }
    const e = (c: number): string => `select(0.0, ${op.el(`${base} + (${r}) * ${ld} + ${k} + ${c}u`, true)}, ${rOk} && ${k} + ${c}u < p.K)`;
    return `vec4f(${e(0)}, ${e(1)}, ${e(2)}, ${e(3)})`;
  };
  const aLoad = (j: number): string => {
    const r = `ar + ${(j * T) / qa}u`;
    return `pa${j} = ${loadK('A', 'aBase', `row0 + ${r}`, 'p.M', 'k0 + aq * 4u', 'p.K', vecK)};`;
  };
  const bLoad = (j: number): string => {
    if (transB) {
      const n = `br + ${(j * T) / qa}u`;
      return `pb${j} = ${loadK('B', 'bBase', `col0 + ${n}`, 'p.N', 'k0 + bq * 4u', 'p.K', vecK)};`;
    }
    const k = `k0 + br + ${(j * T * 4) / t.bn}u`;
    const col = 'col0 + bq * 4u';
    if (bVec) {
      if (edges === 'clamp') return `pb${j} = ${opB.vec(`(bBase + (${k}) * p.N + min(${col}, p.N - 4u)) / 4u`, false)};`;
      const idx = `(bBase + (${k}) * p.N + ${col}) / 4u`;
      return full ? `pb${j} = ${opB.vec(idx, false)};` : `pb${j} = select(vec4f(0.0), ${opB.vec(idx, true)}, ${k} < p.K && ${col} < p.N);`;
    }
    const e = (c: number): string => `select(0.0, ${opB.el(`bBase + (${k}) * p.N + ${col} + ${c}u`, true)}, ${k} < p.K && ${col} + ${c}u < p.N)`;
    return `pb${j} = vec4f(${e(0)}, ${e(1)}, ${e(2)}, ${e(3)});`;
  };
  // Workgroup tiles are [buffer][k·g][thread]: inner-loop indices are constants except the buffer and tx/ty,
  // so the bounds clamps that WGSL implementations add are computed once per step (a flat index cost ~15%).
  const tya = t.bm / 4 / gm;
  const txb = t.bn / 4 / gn;
  // `flat`: one 1-D array per operand instead (kept to compare layouts on new drivers).
  const aSlots = t.bk * gm;
  const bSlots = t.bk * gn;
  const at = (name: string, slots: number, width: number, buf: string, outer: string, inner: string): string =>
    t.flat ? `${name}[(${buf}) * ${slots * width}u + (${outer}) * ${width}u + ${inner}]` : `${name}[${buf}][${outer}][${inner}]`;
  const aAt = (buf: string, outer: string, inner: string): string => at('As', aSlots, tya, buf, outer, inner);
  const bAt = (buf: string, outer: string, inner: string): string => at('Bs', bSlots, txb, buf, outer, inner);
  const aStore = (buf: string, j: number): string => {
    const m4 = `(ar + ${(j * T) / qa}u) / 4u`;
    return lines(4, (c) => `${aAt(buf, `(aq * 4u + ${c}u) * ${gm}u + ${m4} / ${tya}u`, `${m4} % ${tya}u`)}[(ar + ${(j * T) / qa}u) % 4u] = pa${j}[${c}];`);
  };
  const bStore = (buf: string, j: number): string => {
    if (transB) {
      const n = `br + ${(j * T) / qa}u`;
      return lines(4, (c) => `${bAt(buf, `(bq * 4u + ${c}u) * ${gn}u + (${n}) / ${4 * txb}u`, `((${n}) / 4u) % ${txb}u`)}[(${n}) % 4u] = pb${j}[${c}];`);
    }
    return `${bAt(buf, `(br + ${(j * T * 4) / t.bn}u) * ${gn}u + bq / ${txb}u`, `bq % ${txb}u`)} = pb${j};`;
  };
  const loadAll = `${lines(aLoads, aLoad)}\n  ${lines(bLoads, bLoad)}`;
  const storeAll = (buf: string): string => `${lines(aLoads, (j) => aStore(buf, j))}\n  ${lines(bLoads, (j) => bStore(buf, j))}`;
  const step = (k: number): string => {
    const parts: string[] = [];
    for (let g = 0; g < gm; g++) parts.push(`let a${g} = ${aAt('cur', `${k * gm + g}`, 'ty')};`);
    for (let g = 0; g < gn; g++) parts.push(`let b${g} = ${bAt('cur', `${k * gn + g}`, 'tx')};`);
    for (let i = 0; i < t.tm; i++) for (let g = 0; g < gn; g++) parts.push(`c${i}_${g} = fma(vec4f(a${i >> 2}[${i & 3}]), b${g}, c${i}_${g});`);
    return `{\n        ${parts.join('\n        ')}\n      }`;
  };
  const epilogue: string[] = [];
  for (let i = 0; i < t.tm; i++) {
    const row = `row0 + ${(i >> 2) * (t.bm / gm) + (i & 3)}u + ty * 4u`;
    for (let g = 0; g < gn; g++) {
      const col = `col0 + ${(g * t.bn) / gn}u + tx * 4u`;
      const v = `c${i}_${g}`;
      if (vecN) {
        const bv = bias ? ` + bias[(${col}) / 4u]` : '';
        const st = store(ep, `C[(cBase + (${row}) * p.N + ${col}) / 4u]`, row, col, `${v}${bv}`, true);
        epilogue.push(full ? st : `if (${row} < p.M && ${col} < p.N) { ${st} }`);
      } else {
        for (let c = 0; c < 4; c++) {
          const bv = bias ? ` + bias[${col} + ${c}u]` : '';
          epilogue.push(
            `if (${row} < p.M && ${col} + ${c}u < p.N) { ${store(ep, `C[cBase + (${row}) * p.N + ${col} + ${c}u]`, row, `${col} + ${c}u`, `${v}[${c}]${bv}`, false)} }`,
          );
        }
      }
    }
  }
  const accs: string[] = [];
  for (let i = 0; i < t.tm; i++) for (let g = 0; g < gn; g++) accs.push(`var c${i}_${g} = vec4f(0.0);`);
  const outs = outputDecls(ep, 2, arr(vecN));
  return /* wgsl */ `
${PARAMS}
@group(0) @binding(0) var<storage, read> A: ${wgslFloatArray(aStorage, vecK)};
@group(0) @binding(1) var<storage, read> B: ${wgslFloatArray(bStorage, bVec)};
${outs.decls}
${bias ? `@group(0) @binding(${2 + outs.count}) var<storage, read> bias: ${arr(vecN)};` : ''}
@group(0) @binding(${2 + outs.count + (bias ? 1 : 0)}) var<uniform> p: Params;
${helpers(opA, opB)}${epilogueFns(ep)}${
  t.flat
    ? `var<workgroup> As: array<vec4f, ${2 * aSlots * tya}>;\nvar<workgroup> Bs: array<vec4f, ${2 * bSlots * txb}>;`
    : `var<workgroup> As: array<array<array<vec4f, ${tya}>, ${aSlots}>, 2>;\nvar<workgroup> Bs: array<array<array<vec4f, ${txb}>, ${bSlots}>, 2>;`
}

@compute @workgroup_size(${T})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tx = lid % ${TX}u;
  let ty = lid / ${TX}u;
  let row0 = wg.y * ${t.bm}u;
  let col0 = wg.x * ${t.bn}u;
  let bi = wg.z / p.splits;
  let aBase = bi * p.aBatch;
  let bBase = bi * p.bBatch;
  let cBase = wg.z * p.cBatch;
  let kt0 = (wg.z % p.splits) * p.tilesPerSplit;
  let nt = min(p.tilesPerSplit, (p.K + ${t.bk - 1}u) / ${t.bk}u - kt0);
  let ar = lid / ${qa}u;
  let aq = lid % ${qa}u;
  let br = lid / ${transB ? qa : t.bn / 4}u;
  let bq = lid % ${transB ? qa : t.bn / 4}u;
  ${lines(aLoads, (j) => `var pa${j}: vec4f;`)}
  ${lines(bLoads, (j) => `var pb${j}: vec4f;`)}
  ${accs.join('\n  ')}
  var k0 = kt0 * ${t.bk}u;
  ${loadAll}
  ${storeAll('0')}
  workgroupBarrier();
  var cur = 0u;
  for (var s = 0u; s < nt; s++) {
    // Fetch the next tile into registers, multiply this one, park the next in the other buffer.
    let more = s + 1u < nt;
    if (more) {
      k0 += ${t.bk}u;
      ${loadAll.replaceAll('\n', '\n    ')}
    }
    ${Array.from({ length: t.bk }, (_, k) => step(k)).join('\n    ')}
    if (more) {
      ${storeAll('1u - cur').replaceAll('\n', '\n    ')}
    }
    cur = 1u - cur;
    workgroupBarrier();
  }
  ${epilogue.join('\n  ')}
}`;
}

function buildSplitSumWgsl(bias: boolean, ep: MatmulEpilogue = {}): string {
  const outs = outputDecls(ep, 1, 'array<f32>');
  return /* wgsl */ `
struct Params { M: u32, N: u32, splits: u32, outBatch: u32, total: u32 }
@group(0) @binding(0) var<storage, read> parts: array<f32>;
${outs.decls}
${bias ? `@group(0) @binding(${1 + outs.count}) var<storage, read> bias: array<f32>;` : ''}
@group(0) @binding(${1 + outs.count + (bias ? 1 : 0)}) var<uniform> p: Params;
${epilogueFns(ep)}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.x + wg.y * 65535u) * 256u + lid;
  if (i >= p.total) { return; }
  let mn = p.M * p.N;
  let bi = i / mn;
  let e = i % mn;
  var s = 0.0;
  for (var k = 0u; k < p.splits; k++) { s += parts[(bi * p.splits + k) * mn + e]; }
  ${bias ? 's += bias[e % p.N];' : ''}
  ${store(ep, 'C[bi * p.outBatch + e]', 'e / p.N', 'e % p.N', 's', false)}
}`;
}

/**
 * Few rows (decode steps): each output is a dot product over K, split across threads and summed in
 * workgroup memory. transB: 8 outputs × 32 lanes along K (coalesced over B's rows);
 * otherwise 16 vec4 columns × 16 K-slices (coalesced over B's columns).
 */
function buildSmallWgsl(
  rows: number,
  transB: boolean,
  vecK: boolean,
  vecN: boolean,
  bias: boolean,
  aStorage: FloatStorage = 'f32',
  bStorage: FloatStorage = 'f32',
  ep: MatmulEpilogue = {},
): string {
  const vec = transB ? vecK : vecN;
  const ty = vec ? 'vec4f' : 'f32';
  const acc = lines(rows, (r) => `var acc${r} = ${ty}(0.0);`);
  const aVec = transB && vecK;
  const opA = operand('A', aStorage, aVec);
  const opB = operand('B', bStorage, vec);
  const loadA = (idx: string): string => (aVec ? opA.vec(idx, false) : opA.el(idx, false));
  const loadB = (idx: string): string => (vec ? opB.vec(idx, false) : opB.el(idx, false));
  const outs = outputDecls(ep, 2, 'array<f32>');
  const head = `${PARAMS}
@group(0) @binding(0) var<storage, read> A: ${wgslFloatArray(aStorage, aVec)};
@group(0) @binding(1) var<storage, read> B: ${wgslFloatArray(bStorage, vec)};
${outs.decls}
${bias ? `@group(0) @binding(${2 + outs.count}) var<storage, read> bias: array<f32>;` : ''}
@group(0) @binding(${2 + outs.count + (bias ? 1 : 0)}) var<uniform> p: Params;${helpers(opA, opB) ? `\n${helpers(opA, opB).trimEnd()}` : ''}
${epilogueFns(ep)}`;
  const addBias = (n: string): string => (bias ? ` + bias[${n}]` : '');
  if (transB) {
    const kv = vecK ? 'p.K / 4u' : 'p.K';
    return /* wgsl */ `${head}
var<workgroup> red: array<f32, ${256 * rows}>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lane = lid % 32u;
  let n = wg.x * 8u + lid / 32u;
  let kn = ${kv};
  let aBase = wg.z * p.aBatch / ${vecK ? 4 : 1}u;
  let bBase = wg.z * p.bBatch / ${vecK ? 4 : 1}u;
  ${acc}
  if (n < p.N) {
    for (var k = lane; k < kn; k += 32u) {
      let bv = ${loadB('bBase + n * kn + k')};
      ${lines(rows, (r) => `acc${r} = fma(${loadA(`aBase + ${r}u * kn + k`)}, bv, acc${r});`)}
    }
  }
  ${lines(rows, (r) => `red[${r * 256}u + lid] = ${vecK ? `dot(acc${r}, vec4f(1.0))` : `acc${r}`};`)}
  workgroupBarrier();
  if (lane < ${rows}u && n < p.N) {
    var s = 0.0;
    for (var l = 0u; l < 32u; l++) { s += red[lane * 256u + (lid - lane) + l]; }
    ${store(ep, 'C[wg.z * p.cBatch + lane * p.N + n]', 'lane', 'n', `s${addBias('n')}`, false)}
  }
}`;
  }
  const cols = vecN ? 4 : 1;
  return /* wgsl */ `${head}
var<workgroup> red: array<${ty}, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = wg.x * 16u + lid % 16u;
  let g = lid / 16u;
  let nv = ${vecN ? 'p.N / 4u' : 'p.N'};
  let aBase = wg.z * p.aBatch;
  let bBase = wg.z * p.bBatch / ${cols}u;
  ${acc}
  if (c < nv) {
    for (var k = g; k < p.K; k += 16u) {
      let bv = ${loadB('bBase + k * nv + c')};
      ${lines(rows, (r) => `acc${r} = fma(${ty}(${loadA(`aBase + ${r}u * p.K + k`)}), bv, acc${r});`)}
    }
  }
  ${lines(
    rows,
    (r) => `red[lid] = acc${r};
  workgroupBarrier();
  if (g == 0u && c < nv) {
    var s = ${ty}(0.0);
    for (var l = 0u; l < 16u; l++) { s += red[lid + l * 16u]; }
    ${lines(cols, (e) => store(ep, `C[wg.z * p.cBatch + ${r}u * p.N + c * ${cols}u + ${e}u]`, `${r}u`, `c * ${cols}u + ${e}u`, `s${vecN ? `[${e}]` : ''}${addBias(`c * ${cols}u + ${e}u`)}`, false))}
  }
  workgroupBarrier();`,
  )}
}`;
}

// Generated once per distinct argument list (see memoWgsl).
export const tiledWgsl = memoWgsl(buildTiledWgsl);
export const splitSumWgsl = memoWgsl(buildSplitSumWgsl);
export const smallWgsl = memoWgsl(buildSmallWgsl);
