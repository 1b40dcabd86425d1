import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { HalfFormat } from '../runtime/half.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { memoWgsl, packParams, wgslHalfAt, wgslUnpack } from '../wgsl/common.js';
import { ELEMENTWISE_ENTRY, elementwiseGrid } from './add.js';

/**
 * Column blocks of a row-major matrix: [rows, w0 + w1 + …] ⇄ [rows, w0], [rows, w1], …. The forward pass
 * uses them for a fused QKV projection: the three weight matrices are joined once (concatColumns) and the
 * product [T, q + k + v] is split into the three inputs attention reads (splitColumns).
 */
function buildColumnsWgsl(parts: number, split: boolean): string {
  const ids = Array.from({ length: parts }, (_, i) => i);
  const decls = ids.map((i) => `@group(0) @binding(${i + 1}) var<storage, ${split ? 'read_write' : 'read'}> x${i}: array<f32>;`).join('\n');
  // Params: n (elements of the joined matrix), width (its columns), then each part's first column and width.
  const fields = ids.map((i) => `c${i}: u32, w${i}: u32`).join(', ');
  const cases = ids
    .map((i) => {
      const at = `row * p.w${i} + col - p.c${i}`;
      const body = split ? `x${i}[${at}] = y[idx];` : `y[idx] = x${i}[${at}];`;
      return `if (col >= p.c${i} && col < p.c${i} + p.w${i}) { ${body} }`;
    })
    .join(' else ');
  return /* wgsl */ `
struct Params { n: u32, width: u32, ${fields} }
@group(0) @binding(0) var<storage, ${split ? 'read' : 'read_write'}> y: array<f32>;
${decls}
@group(0) @binding(${parts + 1}) var<uniform> p: Params;
${ELEMENTWISE_ENTRY.replace('let i =', 'let idx =')}
  if (idx >= p.n) { return; }
  let row = idx / p.width;
  let col = idx % p.width;
  ${cases}
}`;
}

const columnsWgsl = memoWgsl(buildColumnsWgsl);

/**
 * concatColumns of 16-bit parts (weights, for the fused QKV projection): one thread per output word, so no
 * two threads write halves of one word. Values are moved, not rounded: each is already a 16-bit value, so
 * repacking (pack2x16float for f16, the top half of the f32 for bf16) gives back its own bits.
 */
function buildConcatHalfWgsl(parts: number, format: HalfFormat): string {
  const ids = Array.from({ length: parts }, (_, i) => i);
  const decls = ids.map((i) => `@group(0) @binding(${i + 1}) var<storage, read> x${i}: array<u32>;`).join('\n');
  const fields = ids.map((i) => `c${i}: u32, w${i}: u32`).join(', ');
  const cases = ids.map((i) => `if (col >= p.c${i} && col < p.c${i} + p.w${i}) { return x${i}_at(row * p.w${i} + col - p.c${i}); }`).join('\n  ');
  const pack = format === 'f16' ? 'pack2x16float(vec2f(lo, hi))' : '(bitcast<u32>(lo) >> 16u) | (bitcast<u32>(hi) & 0xffff0000u)';
  return /* wgsl */ `
struct Params { n: u32, width: u32, ${fields} }
@group(0) @binding(0) var<storage, read_write> y: array<u32>;
${decls}
@group(0) @binding(${parts + 1}) var<uniform> p: Params;
${wgslUnpack(format)}
${ids.map((i) => wgslHalfAt(`x${i}`, format)).join('\n')}
fn element(e: u32) -> f32 {
  if (e >= p.n) { return 0.0; }
  let row = e / p.width;
  let col = e % p.width;
  ${cases}
  return 0.0;
}
${ELEMENTWISE_ENTRY.replace('let i =', 'let w =')}
  if (w * 2u >= p.n) { return; }
  let lo = element(w * 2u);
  let hi = element(w * 2u + 1u);
  y[w] = ${pack};
}`;
}

const concatHalfWgsl = memoWgsl(buildConcatHalfWgsl);

function run(ctx: GpuContext, joined: GpuTensor, parts: readonly GpuTensor[], rows: number, widths: readonly number[], split: boolean): void {
  const half = joined.dtype === 'f16' || joined.dtype === 'bf16' ? joined.dtype : undefined;
  const width = widths.reduce((a, b) => a + b, 0);
  const fields: ['u32', number][] = [
    ['u32', rows * width],
    ['u32', width],
  ];
  let c = 0;
  for (const w of widths) {
    fields.push(['u32', c], ['u32', w]);
    c += w;
  }
  const label = split ? 'splitColumns' : half ? `concatColumns.${half}` : 'concatColumns';
  ctx.dispatch({
    pipeline: ctx.pipelines.get(label, half ? concatHalfWgsl(parts.length, half) : columnsWgsl(parts.length, split)),
    bindings: [joined, ...parts],
    params: packParams(fields),
    workgroups: elementwiseGrid(half ? Math.ceil((rows * width) / 2) : rows * width),
    label,
  });
}

function rowsOf(kernel: string, t: GpuTensor): [number, number] {
  if (t.shape.length !== 2) throw new KernelArgumentError(kernel, `expected a [rows, columns] tensor, got [${t.shape}]`);
  return t.shape as [number, number];
}

/** [rows, Σ widths] → one [rows, width] tensor per width (new tensors unless `out` is given). */
export function splitColumns(ctx: GpuContext, x: GpuTensor, widths: readonly number[], out?: readonly GpuTensor[]): GpuTensor[] {
  const [rows, width] = rowsOf('splitColumns', x);
  if (widths.length === 0 || widths.some((w) => !Number.isInteger(w) || w <= 0) || widths.reduce((a, b) => a + b, 0) !== width)
    throw new KernelArgumentError('splitColumns', `widths ${widths.join(' + ')} must be positive and add up to the ${width} columns`);
  const parts = out ? [...out] : widths.map((w) => ctx.createTensor([rows, w], 'f32', 'splitColumns'));
  parts.forEach((p, i) => {
    if (p.size !== rows * (widths[i] as number))
      throw new KernelArgumentError('splitColumns', `out[${i}] has ${p.size} values, expected ${rows} × ${widths[i]}`);
  });
  run(ctx, x, parts, rows, widths, true);
  return parts;
}

/** [rows, w0], [rows, w1], … → [rows, Σ w] (a bias vector is one row); f32 parts, or 16-bit parts of one format. */
export function concatColumns(ctx: GpuContext, parts: readonly GpuTensor[], rows: number): GpuTensor {
  if (parts.length === 0) throw new KernelArgumentError('concatColumns', 'needs at least one part');
  const dtype = parts[0]!.dtype;
  if (parts.some((p) => p.dtype !== dtype) || (dtype !== 'f32' && dtype !== 'f16' && dtype !== 'bf16'))
    throw new KernelArgumentError('concatColumns', `parts must all be f32, all f16 or all bf16, got ${parts.map((p) => p.dtype).join(', ')}`);
  const widths = parts.map((p) => p.size / rows);
  if (widths.some((w) => !Number.isInteger(w) || w <= 0)) throw new KernelArgumentError('concatColumns', `every part must have ${rows} rows`);
  const width = widths.reduce((a, b) => a + b, 0);
  const out = ctx.createTensor(rows === 1 ? [width] : [rows, width], dtype, 'concatColumns');
  run(ctx, out, parts, rows, widths, false);
  return out;
}
