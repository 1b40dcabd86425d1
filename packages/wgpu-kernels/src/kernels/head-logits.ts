import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { floatStorage, packParams, wgslFloatArray, wgslHalfAt, wgslUnpack } from '../wgsl/common.js';
import { ELEMENTWISE_ENTRY, elementwiseGrid } from './add.js';

export interface GatherColumnsArgs {
  /** [R, C]: f32, or 16-bit weights ('f16' / 'bf16') */
  table: GpuTensor;
  /** u32 [n] column indices; an index ≥ C gives a zero row. */
  ids: GpuTensor;
}

/** out[i, r] = table[r, ids[i]]: the chosen columns as rows, [n, R] (the unembedding's columns of a few tokens). */
export function gatherColumns(ctx: GpuContext, args: GatherColumnsArgs): GpuTensor {
  const { table, ids } = args;
  const storage = floatStorage(table.dtype);
  if (!storage || table.shape.length !== 2)
    throw new KernelArgumentError('gatherColumns', `table must be f32, f16 or bf16 [R, C], got ${table.dtype} [${table.shape}]`);
  if (ids.dtype !== 'u32') throw new KernelArgumentError('gatherColumns', `ids must be u32, got ${ids.dtype}`);
  const [R, C] = table.shape as [number, number];
  const n = ids.size;
  const out = ctx.createTensor([n, R], 'f32', 'gatherColumns');
  const code = /* wgsl */ `
struct Params { total: u32, rows: u32, cols: u32 }
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> table: ${wgslFloatArray(storage)};
@group(0) @binding(3) var<uniform> p: Params;
${storage === 'f32' ? '' : `${wgslUnpack(storage)}\n${wgslHalfAt('table', storage)}\n`}${ELEMENTWISE_ENTRY}
  if (i >= p.total) { return; }
  let t = i / p.rows;
  let r = i - t * p.rows;
  let id = ids[t];
  var v = 0.0;
  if (id < p.cols) { v = ${storage === 'f32' ? 'table[r * p.cols + id]' : 'table_at(r * p.cols + id)'}; }
  y[i] = v;
}`;
  ctx.dispatch({
    pipeline: ctx.pipelines.get('gatherColumns', code),
    bindings: [out, ids, table],
    params: packParams([
      ['u32', n * R],
      ['u32', R],
      ['u32', C],
    ]),
    workgroups: elementwiseGrid(n * R),
    label: 'gatherColumns',
  });
  return out;
}

export interface GroupedHeadLogitsArgs {
  /** [N, numKvHeads·headDim]: each token's value vector, per KV head. */
  v: GpuTensor;
  /** [numHeads·headDim, N]: each query head's output map W_O^h applied to each token's unembedding column. */
  ou: GpuTensor;
  /**
   * u32 [R, 4] per row: (token i, first entry in `cols`, number of columns, offset of the row in a head's
   * block). A row's logits are s[c] = v[i, kv(h)] · ou[h, cols[first + c]] (+ colBias[cols[first + c]]).
   */
  rows: GpuTensor;
  /** u32 token indices the rows' columns are drawn from. */
  cols: GpuTensor;
  /** [N], added to every logit of column j. */
  colBias?: GpuTensor;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** Logits written per head: head h's block starts at logitsOffset + h·blockSize. */
  blockSize: number;
  logits: GpuTensor;
  logitsOffset?: number;
  /** u32; argmax (column number c, first of equals) of row r of head h at argmaxOffset + h·R + r. */
  argmax: GpuTensor;
  argmaxOffset?: number;
}

/** The rows/cols tables for `groupedHeadLogits` when each group's tokens are scored against the same group. */
export interface GroupLayout {
  /** u32 [R, 4]: rows group after group. */
  rows: Uint32Array;
  cols: Uint32Array;
  /** Values per head: Σ n_g². */
  blockSize: number;
  /** Per group: its first row and the start of its n_g × n_g block within a head's block. */
  groups: { firstRow: number; blockStart: number; size: number }[];
}

/** Lays out groups of token indices (into the N tokens) so that each group is scored against itself. */
export function groupLayout(groups: readonly (readonly number[])[]): GroupLayout {
  const rows: number[] = [];
  const cols: number[] = [];
  const out: GroupLayout['groups'] = [];
  let block = 0;
  for (const g of groups) {
    const first = cols.length;
    out.push({ firstRow: rows.length / 4, blockStart: block, size: g.length });
    cols.push(...g);
    g.forEach((tok, r) => {
      rows.push(tok, first, g.length, block + r * g.length);
    });
    block += g.length * g.length;
  }
  return { rows: Uint32Array.from(rows), cols: Uint32Array.from(cols), blockSize: block, groups: out };
}

/**
 * Per query head, a bilinear map between token rows and groups of token columns, with each row's argmax:
 * the restricted OV-circuit logits of every head of a layer in one dispatch (grouped-query heads read the
 * KV head h / (numHeads / numKvHeads)). One thread per (head, row); columns of a group are read by
 * neighbouring threads at the same time, so they come from cache.
 */
export function groupedHeadLogits(ctx: GpuContext, args: GroupedHeadLogitsArgs): void {
  const { v, ou, rows, cols, colBias, numHeads: H, numKvHeads: KV, headDim: dh, blockSize, logits, argmax } = args;
  const name = 'groupedHeadLogits';
  const fail = (msg: string): never => {
    throw new KernelArgumentError(name, msg);
  };
  if (!(H > 0 && KV > 0 && H % KV === 0)) fail(`numHeads ${H} must be a positive multiple of numKvHeads ${KV}`);
  if (v.shape.length !== 2 || v.shape[1] !== KV * dh) fail(`v must be [N, ${KV * dh}], got [${v.shape}]`);
  const N = v.shape[0]!;
  if (ou.shape.length !== 2 || ou.shape[0] !== H * dh || ou.shape[1] !== N) fail(`ou must be [${H * dh}, ${N}], got [${ou.shape}]`);
  if (rows.dtype !== 'u32' || cols.dtype !== 'u32' || argmax.dtype !== 'u32') fail('rows, cols and argmax must be u32');
  if (rows.size % 4 !== 0) fail(`rows must be [R, 4], got ${rows.size} values`);
  if (colBias && colBias.size !== N) fail(`colBias has ${colBias.size} values, N = ${N}`);
  const R = rows.size / 4;
  const lo = args.logitsOffset ?? 0;
  const ao = args.argmaxOffset ?? 0;
  if (lo + H * blockSize > logits.size) fail(`logits holds ${logits.size} values, needs ${lo + H * blockSize}`);
  if (ao + H * R > argmax.size) fail(`argmax holds ${argmax.size} values, needs ${ao + H * R}`);
  const bias = !!colBias;
  const code = /* wgsl */ `
struct Params { total: u32, rows: u32, group: u32, dh: u32, n: u32, vStride: u32, block: u32, lo: u32, ao: u32 }
@group(0) @binding(0) var<storage, read_write> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> best: array<u32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> ou: array<f32>;
@group(0) @binding(4) var<storage, read> rowInfo: array<u32>;
@group(0) @binding(5) var<storage, read> cols: array<u32>;
${bias ? '@group(0) @binding(6) var<storage, read> colBias: array<f32>;' : ''}
@group(0) @binding(${bias ? 7 : 6}) var<uniform> p: Params;
${ELEMENTWISE_ENTRY}
  if (i >= p.total) { return; }
  let h = i / p.rows;
  let r = i - h * p.rows;
  let kv = h / p.group;
  let tok = rowInfo[4u * r];
  let first = rowInfo[4u * r + 1u];
  let count = rowInfo[4u * r + 2u];
  let out = p.lo + h * p.block + rowInfo[4u * r + 3u];
  let vBase = tok * p.vStride + kv * p.dh;
  let oBase = h * p.dh * p.n;
  var bestValue = 0.0;
  var bestCol = 0u;
  for (var c = 0u; c < count; c++) {
    let j = cols[first + c];
    var s = ${bias ? 'colBias[j]' : '0.0'};
    for (var k = 0u; k < p.dh; k++) {
      s += v[vBase + k] * ou[oBase + k * p.n + j];
    }
    logits[out + c] = s;
    if (c == 0u || s > bestValue) {
      bestValue = s;
      bestCol = c;
    }
  }
  best[p.ao + h * p.rows + r] = bestCol;
}`;
  ctx.dispatch({
    pipeline: ctx.pipelines.get(bias ? `${name}.bias` : name, code),
    bindings: [logits, argmax, v, ou, rows, cols, ...(colBias ? [colBias] : [])],
    params: packParams([
      ['u32', H * R],
      ['u32', R],
      ['u32', H / KV],
      ['u32', dh],
      ['u32', N],
      ['u32', KV * dh],
      ['u32', blockSize],
      ['u32', lo],
      ['u32', ao],
    ]),
    workgroups: elementwiseGrid(H * R),
    label: name,
  });
}
