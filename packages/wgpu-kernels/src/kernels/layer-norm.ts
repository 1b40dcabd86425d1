import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { memoWgsl, packParams, ROW_THREADS, workgroupReduce } from '../wgsl/common.js';

export interface NormArgs {
  /** [rows, dim] */
  x: GpuTensor;
  /** [dim]; omitted = 1 */
  weight?: GpuTensor;
  /** [dim]; layer norm only; omitted = 0 */
  bias?: GpuTensor;
  eps: number;
  out?: GpuTensor;
}

export interface RmsNormArgs extends Omit<NormArgs, 'bias'> {
  /** Added to the weight (Gemma stores w−1): y = x/rms · (offset + w). Default 0. */
  weightOffset?: number;
}

function buildNormWgsl(kind: 'layer' | 'rms', hasWeight: boolean, hasBias: boolean): string {
  const n = ROW_THREADS;
  return /* wgsl */ `
struct Params { rows: u32, dim: u32, eps: f32, weight_offset: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
${hasWeight ? '@group(0) @binding(2) var<storage, read> w: array<f32>;' : ''}
${hasBias ? `@group(0) @binding(${hasWeight ? 3 : 2}) var<storage, read> b: array<f32>;` : ''}
@group(0) @binding(${2 + Number(hasWeight) + Number(hasBias)}) var<uniform> p: Params;
${workgroupReduce('wsum', n, 'sum')}

@compute @workgroup_size(${n})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x + wg.y * 65535u;
  if (row >= p.rows) { return; }
  let base = row * p.dim;
  ${
    kind === 'layer'
      ? `var s = 0.0;
  for (var i = lid; i < p.dim; i += ${n}u) { s += x[base + i]; }
  let mean = wsum(s, lid) / f32(p.dim);
  var v = 0.0;
  for (var i = lid; i < p.dim; i += ${n}u) { let d = x[base + i] - mean; v += d * d; }
  let inv = inverseSqrt(wsum(v, lid) / f32(p.dim) + p.eps);`
      : `let mean = 0.0;
  var v = 0.0;
  for (var i = lid; i < p.dim; i += ${n}u) { let d = x[base + i]; v += d * d; }
  let inv = 1.0 / sqrt(wsum(v, lid) / f32(p.dim) + p.eps);`
  }
  for (var i = lid; i < p.dim; i += ${n}u) {
    var r = (x[base + i] - mean) * inv;
    ${hasWeight ? 'r = r * (w[i] + p.weight_offset);' : ''}
    ${hasBias ? 'r = r + b[i];' : ''}
    y[base + i] = r;
  }
}`;
}

function runNorm(ctx: GpuContext, kind: 'layer' | 'rms', args: NormArgs & { weightOffset?: number }): GpuTensor {
  const name = kind === 'layer' ? 'layerNorm' : 'rmsNorm';
  const [rows, dim] = args.x.shape.length === 2 ? (args.x.shape as [number, number]) : [args.x.size / (args.x.shape.at(-1) ?? 1), args.x.shape.at(-1) ?? 1];
  if (args.weight && args.weight.size !== dim) throw new KernelArgumentError(name, `weight has ${args.weight.size} values, rows have ${dim}`);
  if (args.bias && args.bias.size !== dim) throw new KernelArgumentError(name, `bias has ${args.bias.size} values, rows have ${dim}`);
  const out = args.out ?? ctx.createTensor(args.x.shape, 'f32', name);
  const pipeline = ctx.pipelines.get(name, normWgsl(kind, !!args.weight, !!args.bias));
  const bindings = [args.x, out, ...(args.weight ? [args.weight] : []), ...(args.bias ? [args.bias] : [])];
  ctx.dispatch({
    pipeline,
    bindings,
    params: packParams([
      ['u32', rows],
      ['u32', dim],
      ['f32', args.eps],
      ['f32', args.weightOffset ?? 0],
    ]),
    workgroups: [Math.min(rows, 65535), Math.ceil(rows / 65535)],
    label: name,
  });
  return out;
}

/** y = (x − mean)/sqrt(var + eps) · w + b per row (biased variance, as torch.nn.LayerNorm). */
export function layerNorm(ctx: GpuContext, args: NormArgs): GpuTensor {
  return runNorm(ctx, 'layer', args);
}

/** y = x / sqrt(mean(x²) + eps) · (offset + w) per row (Llama/Qwen RMSNorm). */
export function rmsNorm(ctx: GpuContext, args: RmsNormArgs): GpuTensor {
  return runNorm(ctx, 'rms', args);
}

// Generated once per distinct argument list (see memoWgsl).
const normWgsl = memoWgsl(buildNormWgsl);
