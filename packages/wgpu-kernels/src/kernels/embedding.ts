import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { floatStorage, packParams, wgslFloatArray, wgslHalfAt, wgslUnpack } from '../wgsl/common.js';
import { ELEMENTWISE_ENTRY, elementwiseGrid } from './add.js';

export interface EmbeddingArgs {
  /** u32 [T] token ids (they live on the GPU, so they are checked there: an id ≥ V yields a zero row). */
  ids: GpuTensor;
  /** [V, D]: f32, or 16-bit weights ('f16' / 'bf16', unpacked in the kernel) */
  table: GpuTensor;
  /** Learned absolute positions (GPT-2): row t adds positions.table[offset + t]. */
  positions?: { table: GpuTensor; offset: number };
  /** Multiplies the token rows (Gemma scales embeddings by √d_model); default 1. */
  scale?: number;
  out?: GpuTensor;
}

/** out[t] = scale · table[ids[t]] (+ positions.table[offset + t]): [T, D]. */
export function embedding(ctx: GpuContext, args: EmbeddingArgs): GpuTensor {
  const { ids, table, positions } = args;
  const name = 'embedding';
  if (ids.dtype === 'f32') throw new KernelArgumentError(name, 'ids must be u32 (or i32), not f32');
  const storage = floatStorage(table.dtype);
  if (!storage || table.shape.length !== 2)
    throw new KernelArgumentError(name, `table must be an f32, f16 or bf16 [V, D] tensor, got ${table.dtype} [${table.shape}]`);
  const [V, D] = table.shape as [number, number];
  const T = ids.size;
  if (positions) {
    const pt = positions.table;
    if (pt.dtype !== 'f32' || pt.size % D !== 0) throw new KernelArgumentError(name, `positions.table must be f32 [P, ${D}], got ${pt.dtype} [${pt.shape}]`);
    const P = pt.size / D;
    if (!(Number.isInteger(positions.offset) && positions.offset >= 0))
      throw new KernelArgumentError(name, `positions.offset ${positions.offset} must be a non-negative integer`);
    if (positions.offset + T > P) {
      throw new KernelArgumentError(
        name,
        `positions ${positions.offset}…${positions.offset + T - 1} exceed the ${P} learned positions (the model's context length)`,
      );
    }
  }
  const out = args.out ?? ctx.createTensor([T, D], 'f32', name);
  if (out.size !== T * D) throw new KernelArgumentError(name, `out has ${out.size} values, [${T}, ${D}] needs ${T * D}`);
  if (out.buffer === table.buffer || out.buffer === ids.buffer || (positions && out.buffer === positions.table.buffer)) {
    throw new KernelArgumentError(name, 'out must not share a buffer with an input');
  }
  const n = T * D;
  const hasPos = !!positions;
  const code = /* wgsl */ `
struct Params { n: u32, dim: u32, vocab: u32, pos0: u32, scale: f32 }
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> ids: array<${ids.dtype}>;
@group(0) @binding(2) var<storage, read> table: ${wgslFloatArray(storage)};
${hasPos ? '@group(0) @binding(3) var<storage, read> pos: array<f32>;' : ''}
@group(0) @binding(${hasPos ? 4 : 3}) var<uniform> p: Params;
${storage === 'f32' ? '' : `${wgslUnpack(storage)}\n${wgslHalfAt('table', storage)}\n`}${ELEMENTWISE_ENTRY}
  if (i >= p.n) { return; }
  let t = i / p.dim;
  let d = i - t * p.dim;
  // An i32 id below 0 becomes a huge u32 and is caught by the same bound check.
  let id = u32(ids[t]);
  var v = 0.0;
  if (id < p.vocab) { v = ${storage === 'f32' ? 'table[id * p.dim + d]' : 'table_at(id * p.dim + d)'} * p.scale; }
  ${hasPos ? 'v += pos[(p.pos0 + t) * p.dim + d];' : ''}
  y[i] = v;
}`;
  const label = `${hasPos ? 'embedding.positions' : 'embedding'}${storage === 'f32' ? '' : `.${storage}`}`;
  ctx.dispatch({
    pipeline: ctx.pipelines.get(label, code),
    bindings: [out, ids, table, ...(positions ? [positions.table] : [])],
    params: packParams([
      ['u32', n],
      ['u32', D],
      ['u32', V],
      ['u32', positions?.offset ?? 0],
      ['f32', args.scale ?? 1],
    ]),
    workgroups: elementwiseGrid(n),
    label,
  });
  return out;
}
