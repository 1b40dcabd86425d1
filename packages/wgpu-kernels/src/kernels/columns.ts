import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { memoWgsl, packParams } from '../wgsl/common.js';
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

function run(ctx: GpuContext, joined: GpuTensor, parts: readonly GpuTensor[], rows: number, widths: readonly number[], split: boolean): void {
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
  const label = split ? 'splitColumns' : 'concatColumns';
  ctx.dispatch({
    pipeline: ctx.pipelines.get(label, columnsWgsl(parts.length, split)),
    bindings: [joined, ...parts],
    params: packParams(fields),
    workgroups: elementwiseGrid(rows * width),
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

/** [rows, w0], [rows, w1], … → [rows, Σ w] (a bias vector is one row). */
export function concatColumns(ctx: GpuContext, parts: readonly GpuTensor[], rows: number): GpuTensor {
  if (parts.length === 0) throw new KernelArgumentError('concatColumns', 'needs at least one part');
  const widths = parts.map((p) => p.size / rows);
  if (widths.some((w) => !Number.isInteger(w) || w <= 0)) throw new KernelArgumentError('concatColumns', `every part must have ${rows} rows`);
  const width = widths.reduce((a, b) => a + b, 0);
  const out = ctx.createTensor(rows === 1 ? [width] : [rows, width], 'f32', 'concatColumns');
  run(ctx, out, parts, rows, widths, false);
  return out;
}
