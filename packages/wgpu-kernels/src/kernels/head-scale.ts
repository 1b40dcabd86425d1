import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { packParams } from '../wgsl/common.js';
import { aliasedBindings, ELEMENTWISE_ENTRY, elementwiseGrid, elementwiseOut } from './add.js';

export interface HeadScaleArgs {
  /** [T, H·D]: rows of per-head vectors (queries). */
  x: GpuTensor;
  /** [H]: factor per head. */
  scales: GpuTensor;
  headDim: number;
  /** May be `x` (in place). */
  out?: GpuTensor;
}

/** out[t, h·D + d] = x[t, h·D + d] · scales[h]. Zeroing a head's query makes its attention uniform over the visible keys. */
export function headScale(ctx: GpuContext, args: HeadScaleArgs): GpuTensor {
  const { x, scales, headDim } = args;
  const heads = scales.size;
  if (!Number.isInteger(headDim) || headDim < 1) throw new KernelArgumentError('headScale', `headDim ${headDim} must be a positive integer`);
  if (x.size % (heads * headDim) !== 0)
    throw new KernelArgumentError('headScale', `x has ${x.size} values, not a multiple of heads·headDim = ${heads * headDim}`);
  const out = elementwiseOut(ctx, 'headScale', x, args.out);
  const n = x.size;
  const { decls, names, bindings } = aliasedBindings([x, scales], out, ['x', 's'], 'n: u32, d: u32, h: u32');
  const code = /* wgsl */ `
${decls}
${ELEMENTWISE_ENTRY}
  if (i >= p.n) { return; }
  y[i] = ${names[0]}[i] * ${names[1]}[(i / p.d) % p.h];
}`;
  ctx.dispatch({
    pipeline: ctx.pipelines.get('headScale', code),
    bindings,
    params: packParams([
      ['u32', n],
      ['u32', headDim],
      ['u32', heads],
    ]),
    workgroups: elementwiseGrid(n),
    label: 'headScale',
  });
  return out;
}
