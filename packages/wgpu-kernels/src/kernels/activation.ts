import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { packParams, WGSL_GELU_ERF, WGSL_GELU_TANH, WGSL_SILU } from '../wgsl/common.js';
import { aliasedBindings, ELEMENTWISE_ENTRY, elementwiseGrid, elementwiseOut } from './add.js';

export type ActivationOp = 'gelu_tanh' | 'gelu_erf' | 'silu' | 'relu';

const OPS: readonly ActivationOp[] = ['gelu_tanh', 'gelu_erf', 'silu', 'relu'];

/** WGSL defining `fn <op>(x: f32) -> f32` for one activation. */
export function activationWgsl(op: ActivationOp): string {
  switch (op) {
    case 'gelu_tanh':
      return WGSL_GELU_TANH;
    case 'gelu_erf':
      return WGSL_GELU_ERF;
    case 'silu':
      return WGSL_SILU;
    case 'relu':
      return 'fn relu(x: f32) -> f32 { return max(x, 0.0); }';
  }
}

/** Throws unless `op` is one of the given names (specs come from config files, so check at run time). */
export function checkActivation<T extends string>(kernel: string, op: string, allowed: readonly T[]): asserts op is T {
  if (!(allowed as readonly string[]).includes(op)) throw new KernelArgumentError(kernel, `unknown activation "${op}" (expected ${allowed.join(', ')})`);
}

export interface ActivationArgs {
  x: GpuTensor;
  op: ActivationOp;
  /** May be `x` (in place). */
  out?: GpuTensor;
}

/** y = op(x) elementwise. */
export function activation(ctx: GpuContext, args: ActivationArgs): GpuTensor {
  const { x, op } = args;
  checkActivation('activation', op, OPS);
  if (x.dtype !== 'f32') throw new KernelArgumentError('activation', 'x must be f32');
  const out = elementwiseOut(ctx, 'activation', x, args.out);
  const n = x.size;
  const { decls, names, bindings } = aliasedBindings([x], out, ['x'], 'n: u32');
  const code = /* wgsl */ `
${decls}
${activationWgsl(op)}
${ELEMENTWISE_ENTRY}
  if (i >= p.n) { return; }
  y[i] = ${op}(${names[0]}[i]);
}`;
  const label = `activation.${op}`;
  ctx.dispatch({ pipeline: ctx.pipelines.get(label, code), bindings, params: packParams([['u32', n]]), workgroups: elementwiseGrid(n), label });
  return out;
}
