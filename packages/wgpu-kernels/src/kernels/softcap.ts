import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { packParams, WGSL_SOFTCAP } from '../wgsl/common.js';
import { aliasedBindings, ELEMENTWISE_ENTRY, elementwiseGrid, elementwiseOut } from './add.js';

export interface SoftcapArgs {
  x: GpuTensor;
  /** Positive; outputs stay inside (−cap, cap). */
  cap: number;
  /** May be `x` (in place). */
  out?: GpuTensor;
}

/** y = cap·tanh(x/cap) elementwise (Gemma 2's final-logit soft-capping). */
export function softcap(ctx: GpuContext, args: SoftcapArgs): GpuTensor {
  const { x, cap } = args;
  if (!(Number.isFinite(cap) && cap > 0)) throw new KernelArgumentError('softcap', `cap ${cap} must be a positive number`);
  if (x.dtype !== 'f32') throw new KernelArgumentError('softcap', 'x must be f32');
  const out = elementwiseOut(ctx, 'softcap', x, args.out);
  const n = x.size;
  const { decls, names, bindings } = aliasedBindings([x], out, ['x'], 'n: u32, cap: f32');
  const code = /* wgsl */ `
${decls}
${WGSL_SOFTCAP}
${ELEMENTWISE_ENTRY}
  if (i >= p.n) { return; }
  y[i] = softcap(${names[0]}[i], p.cap);
}`;
  ctx.dispatch({
    pipeline: ctx.pipelines.get('softcap', code),
    bindings,
    params: packParams([
      ['u32', n],
      ['f32', cap],
    ]),
    workgroups: elementwiseGrid(n),
    label: 'softcap',
  });
  return out;
}
