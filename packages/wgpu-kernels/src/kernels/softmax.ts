import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { packParams, ROW_THREADS } from '../wgsl/common.js';
import { aliasedBindings } from './add.js';

export interface SoftmaxArgs {
  /** [R, C] (the last dim is the row). */
  x: GpuTensor;
  /** softmax(x / temperature); default 1, must be > 0. */
  temperature?: number;
  /** May be `x` (in place). */
  out?: GpuTensor;
}

/** Rows and columns of a tensor read as [..., C]. */
export function rowsCols(t: GpuTensor): [number, number] {
  const cols = t.shape.length > 0 ? t.shape[t.shape.length - 1]! : 1;
  return [cols === 0 ? 0 : t.size / cols, cols];
}

/**
 * Row-wise softmax, one workgroup per row. Each thread keeps an online (max, Σexp) pair over its strided
 * elements; the pairs are merged in shared memory, then every element is written as exp((x − max)/τ)/Σ.
 * The max is taken before scaling (τ > 0 keeps the order), so the temperature multiplies only the small
 * difference x − max and large logits lose no precision.
 * Two reads and one write of the row, so vocabulary-sized rows (200k) are fine.
 */
export function softmax(ctx: GpuContext, args: SoftmaxArgs): GpuTensor {
  const { x } = args;
  const temperature = args.temperature ?? 1;
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new KernelArgumentError('softmax', `temperature ${temperature} must be a positive number`);
  if (x.dtype !== 'f32') throw new KernelArgumentError('softmax', 'x must be f32');
  const [rows, cols] = rowsCols(x);
  const out = args.out ?? ctx.createTensor(x.shape, 'f32', 'softmax');
  if (out.size !== x.size) throw new KernelArgumentError('softmax', `out has ${out.size} values, x has ${x.size}`);
  if (rows === 0 || cols === 0) return out;
  const n = ROW_THREADS;
  const { decls, names, bindings } = aliasedBindings([x], out, ['x'], 'rows: u32, cols: u32, inv_temp: f32');
  const xs = names[0]!;
  const code = /* wgsl */ `
${decls}
const LOWEST = -3.4028234663852886e38;
var<workgroup> red_m: array<f32, ${n}>;
var<workgroup> red_s: array<f32, ${n}>;

@compute @workgroup_size(${n})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x + wg.y * 65535u;
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  var m = LOWEST;
  var s = 0.0;
  for (var i = lid; i < p.cols; i += ${n}u) {
    let v = ${xs}[base + i];
    if (v > m) { s = s * exp((m - v) * p.inv_temp) + 1.0; m = v; } else { s += exp((v - m) * p.inv_temp); }
  }
  red_m[lid] = m;
  red_s[lid] = s;
  workgroupBarrier();
  for (var k = ${n / 2}u; k > 0u; k = k >> 1u) {
    if (lid < k) {
      let m1 = red_m[lid];
      let m2 = red_m[lid + k];
      let mm = max(m1, m2);
      red_s[lid] = red_s[lid] * exp((m1 - mm) * p.inv_temp) + red_s[lid + k] * exp((m2 - mm) * p.inv_temp);
      red_m[lid] = mm;
    }
    workgroupBarrier();
  }
  let mx = red_m[0];
  let inv = 1.0 / red_s[0];
  for (var i = lid; i < p.cols; i += ${n}u) {
    y[base + i] = exp((${xs}[base + i] - mx) * p.inv_temp) * inv;
  }
}`;
  ctx.dispatch({
    pipeline: ctx.pipelines.get('softmax', code),
    bindings,
    params: packParams([
      ['u32', rows],
      ['u32', cols],
      ['f32', 1 / temperature],
    ]),
    workgroups: [Math.min(rows, 65535), Math.ceil(rows / 65535)],
    label: 'softmax',
  });
  return out;
}
