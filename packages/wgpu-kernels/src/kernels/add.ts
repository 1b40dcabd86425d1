import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { ceilDiv, packParams } from '../wgsl/common.js';

/** Threads per workgroup of the elementwise kernels. */
export const ELEMENTWISE_THREADS = 256;

/**
 * Storage bindings for an elementwise kernel whose output may share a buffer with its inputs. WebGPU forbids
 * binding one buffer as both read-only and read-write storage in a dispatch, so an input that aliases the
 * output is not bound at all: its WGSL name is replaced by the output variable.
 */
export interface AliasedBindings {
  /** WGSL declarations: `y` (read_write) at binding 0, then the non-aliased inputs, then `p` (uniform). */
  decls: string;
  /** WGSL variable to read for each input, in the order given. */
  names: string[];
  bindings: GpuTensor[];
}

export function aliasedBindings(inputs: readonly GpuTensor[], out: GpuTensor, inputNames: readonly string[], paramsStruct: string): AliasedBindings {
  const decls = ['@group(0) @binding(0) var<storage, read_write> y: array<f32>;'];
  const bindings: GpuTensor[] = [out];
  const names = inputs.map((t, i) => {
    if (t.buffer === out.buffer) return 'y';
    decls.push(`@group(0) @binding(${bindings.length}) var<storage, read> ${inputNames[i]}: array<${t.dtype}>;`);
    bindings.push(t);
    return inputNames[i]!;
  });
  decls.push(`struct Params { ${paramsStruct} }`, `@group(0) @binding(${bindings.length}) var<uniform> p: Params;`);
  return { decls: decls.join('\n'), names, bindings };
}

/** Workgroup grid for `n` independent threads, folded into 2D beyond the 65535-per-dimension limit. */
export function elementwiseGrid(n: number): [number, number] {
  const groups = ceilDiv(n, ELEMENTWISE_THREADS);
  const y = ceilDiv(groups, 65535);
  return [Math.max(1, ceilDiv(groups, Math.max(1, y))), Math.max(1, y)];
}

/** WGSL entry point header giving `i`, the flat thread index over a grid from `elementwiseGrid`. */
export const ELEMENTWISE_ENTRY = /* wgsl */ `
@compute @workgroup_size(${ELEMENTWISE_THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * nwg.x + wg.x) * ${ELEMENTWISE_THREADS}u + lid;`;

/** Checks that the output (given or new) matches `like` in size; an input-shaped tensor is created when absent. */
export function elementwiseOut(ctx: GpuContext, kernel: string, like: GpuTensor, out: GpuTensor | undefined): GpuTensor {
  if (!out) return ctx.createTensor(like.shape, 'f32', kernel);
  if (out.size !== like.size) throw new KernelArgumentError(kernel, `out has ${out.size} values, the input has ${like.size}`);
  if (out.dtype !== 'f32') throw new KernelArgumentError(kernel, `out must be f32, got ${out.dtype}`);
  return out;
}

export interface AddArgs {
  a: GpuTensor;
  b: GpuTensor;
  /** May be `a` or `b` (in place). */
  out?: GpuTensor;
}

/** out = a + b elementwise over equal-size tensors (the residual add). */
export function add(ctx: GpuContext, args: AddArgs): GpuTensor {
  const { a, b } = args;
  if (a.size !== b.size) throw new KernelArgumentError('add', `a has ${a.size} values, b has ${b.size}`);
  if (a.dtype !== 'f32' || b.dtype !== 'f32') throw new KernelArgumentError('add', 'a and b must be f32');
  const out = elementwiseOut(ctx, 'add', a, args.out);
  const n = a.size;
  const { decls, names, bindings } = aliasedBindings([a, b], out, ['a', 'b'], 'n: u32');
  const code = /* wgsl */ `
${decls}
${ELEMENTWISE_ENTRY}
  if (i >= p.n) { return; }
  y[i] = ${names[0]}[i] + ${names[1]}[i];
}`;
  ctx.dispatch({ pipeline: ctx.pipelines.get('add', code), bindings, params: packParams([['u32', n]]), workgroups: elementwiseGrid(n), label: 'add' });
  return out;
}

/** target += b, in place; returns target. */
export function addInto(ctx: GpuContext, target: GpuTensor, b: GpuTensor): GpuTensor {
  return add(ctx, { a: target, b, out: target });
}
