import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { packParams } from '../wgsl/common.js';
import { activationWgsl, checkActivation } from './activation.js';
import { aliasedBindings, ELEMENTWISE_ENTRY, elementwiseGrid, elementwiseOut } from './add.js';

export type GateActivation = 'silu' | 'gelu_tanh' | 'gelu_erf';

const GATE_OPS: readonly GateActivation[] = ['silu', 'gelu_tanh', 'gelu_erf'];

export interface GatedProductArgs {
  gate: GpuTensor;
  up: GpuTensor;
  act: GateActivation;
  /** May be `gate` or `up` (in place). */
  out?: GpuTensor;
}

/** y = act(gate) · up elementwise: the gated MLP (SwiGLU for Llama/Qwen, GeGLU for Gemma). */
export function gatedProduct(ctx: GpuContext, args: GatedProductArgs): GpuTensor {
  const { gate, up, act } = args;
  checkActivation('gatedProduct', act, GATE_OPS);
  if (gate.size !== up.size) throw new KernelArgumentError('gatedProduct', `gate has ${gate.size} values, up has ${up.size}`);
  if (gate.dtype !== 'f32' || up.dtype !== 'f32') throw new KernelArgumentError('gatedProduct', 'gate and up must be f32');
  const out = elementwiseOut(ctx, 'gatedProduct', gate, args.out);
  const n = gate.size;
  const { decls, names, bindings } = aliasedBindings([gate, up], out, ['g', 'u'], 'n: u32');
  const code = /* wgsl */ `
${decls}
${activationWgsl(act)}
${ELEMENTWISE_ENTRY}
  if (i >= p.n) { return; }
  y[i] = ${act}(${names[0]}[i]) * ${names[1]}[i];
}`;
  const label = `gatedProduct.${act}`;
  ctx.dispatch({ pipeline: ctx.pipelines.get(label, code), bindings, params: packParams([['u32', n]]), workgroups: elementwiseGrid(n), label });
  return out;
}
