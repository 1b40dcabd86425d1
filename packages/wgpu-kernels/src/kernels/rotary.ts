import type { GpuContext } from '../runtime/context.js';
import { KernelArgumentError } from '../runtime/errors.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { packParams } from '../wgsl/common.js';
import { aliasedBindings, ELEMENTWISE_ENTRY, elementwiseGrid } from './add.js';

export type RotaryStyle = 'half' | 'interleaved';

export interface RotaryArgs {
  /** [T, H·D] (any shape of that size): T rows of H heads of D values. */
  x: GpuTensor;
  numHeads: number;
  headDim: number;
  /** [P, R/2] tables from `rotaryTables`; row p is position p. */
  cos: GpuTensor;
  sin: GpuTensor;
  /** Row t of x has position positionOffset + t (KV-cache decoding). */
  positionOffset: number;
  /** R ≤ D, even: dims ≥ R pass through unchanged (partial rotary, Pythia/GPT-J). */
  rotaryDim: number;
  /** 'half': pairs (d, d+R/2) as HF rotate_half (Llama, NeoX); 'interleaved': pairs (2d, 2d+1) (GPT-J). */
  style: RotaryStyle;
  /** May be `x` (in place). */
  out?: GpuTensor;
}

/** WGSL giving d1, d2: the offsets within a head of pair j ('half': (j, j + R/2); 'interleaved': (2j, 2j + 1)). */
const pairOffsetsWgsl = (style: RotaryStyle): string => (style === 'half' ? 'let d1 = j; let d2 = j + p.half;' : 'let d1 = 2u * j; let d2 = d1 + 1u;');

/** WGSL rotating the pair (base + d1, base + d2) by (c, s): read from `src`, written to `dst`. */
const rotatePairWgsl = (src: string, dst: string): string => `let x1 = ${src}[base + d1];
  let x2 = ${src}[base + d2];
  ${dst}[base + d1] = x1 * c - x2 * s;
  ${dst}[base + d2] = x2 * c + x1 * s;`;

/** Throws KernelArgumentError unless x, the tables and the positions fit together. */
function rotaryChecks(args: Pick<RotaryArgs, 'x' | 'numHeads' | 'headDim' | 'rotaryDim' | 'positionOffset' | 'style' | 'cos' | 'sin'>): void {
  const { x, numHeads: H, headDim: D, rotaryDim: R, positionOffset, style, cos, sin } = args;
  const name = 'rotary';
  if (!(Number.isInteger(H) && H > 0 && Number.isInteger(D) && D > 0))
    throw new KernelArgumentError(name, `numHeads ${H} and headDim ${D} must be positive integers`);
  if (!(Number.isInteger(R) && R >= 0 && R <= D && R % 2 === 0))
    throw new KernelArgumentError(name, `rotaryDim ${R} must be even and within [0, headDim=${D}]`);
  if (style !== 'half' && style !== 'interleaved') throw new KernelArgumentError(name, `unknown style "${style}" (expected half, interleaved)`);
  if (!(Number.isInteger(positionOffset) && positionOffset >= 0))
    throw new KernelArgumentError(name, `positionOffset ${positionOffset} must be a non-negative integer`);
  if (x.dtype !== 'f32') throw new KernelArgumentError(name, 'x must be f32');
  if (x.size % (H * D) !== 0) throw new KernelArgumentError(name, `x has ${x.size} values, not a multiple of numHeads·headDim = ${H * D}`);
  const T = x.size / (H * D);
  const half = R / 2;
  if (cos.size !== sin.size) throw new KernelArgumentError(name, `cos has ${cos.size} values, sin has ${sin.size}`);
  const positions = half > 0 ? cos.size / half : Number.POSITIVE_INFINITY;
  if (half > 0 && !Number.isInteger(positions))
    throw new KernelArgumentError(name, `the cos/sin tables (${cos.size} values) are not [P, rotaryDim/2 = ${half}]`);
  if (T > 0 && positionOffset + T > positions) {
    throw new KernelArgumentError(
      name,
      `positions up to ${positionOffset + T - 1} need tables of ${positionOffset + T} rows; they have ${positions} (raise maxPositions)`,
    );
  }
}

/**
 * Rotary position embedding. One thread per rotated pair, so the kernel is safe in place; when out ≠ x,
 * extra threads copy the pass-through dims.
 */
export function rotary(ctx: GpuContext, args: RotaryArgs): GpuTensor {
  const { x, numHeads: H, headDim: D, rotaryDim: R, positionOffset, style, cos, sin } = args;
  rotaryChecks(args);
  const T = x.size / (H * D);
  const half = R / 2;
  const out = args.out ?? ctx.createTensor(x.shape, 'f32', 'rotary');
  if (out.size !== x.size) throw new KernelArgumentError('rotary', `out has ${out.size} values, x has ${x.size}`);
  const inPlace = out.buffer === x.buffer;
  // Threads per (row, head): one per pair, plus one per pass-through value unless in place.
  const slots = half + (inPlace ? 0 : D - R);
  const n = T * H * slots;
  if (n === 0) return out;
  const { decls, names, bindings } = aliasedBindings(
    [x, cos, sin],
    out,
    ['x', 'cos_t', 'sin_t'],
    'n: u32, heads: u32, head_dim: u32, half: u32, slots: u32, pos0: u32',
  );
  const xs = names[0]!;
  const code = /* wgsl */ `
${decls}
${ELEMENTWISE_ENTRY}
  if (i >= p.n) { return; }
  let j = i % p.slots;
  let rh = i / p.slots;
  let t = rh / p.heads;
  let base = rh * p.head_dim;
  if (j >= p.half) {
    let d = base + 2u * p.half + (j - p.half);
    y[d] = ${xs}[d];
    return;
  }
  ${pairOffsetsWgsl(style)}
  let ti = (p.pos0 + t) * p.half + j;
  let c = ${names[1]}[ti];
  let s = ${names[2]}[ti];
  ${rotatePairWgsl(xs, 'y')}
}`;
  const label = `rotary.${style}`;
  ctx.dispatch({
    pipeline: ctx.pipelines.get(label, code),
    bindings,
    params: packParams([
      ['u32', n],
      ['u32', H],
      ['u32', D],
      ['u32', half],
      ['u32', slots],
      ['u32', positionOffset],
    ]),
    workgroups: elementwiseGrid(n),
    label,
  });
  return out;
}

export interface RotaryPairArgs extends Omit<RotaryArgs, 'x' | 'out' | 'numHeads'> {
  /** [T, H·D] queries and [T, Hkv·D] keys, both rotated in place. */
  q: GpuTensor;
  k: GpuTensor;
  numHeads: number;
  numKvHeads: number;
}

/**
 * Queries and keys rotated in place by one dispatch (the forward pass rotates both every layer; a dispatch
 * fewer per layer is recording time saved on short prompts). The same arithmetic as two `rotary` calls.
 */
export function rotaryPair(ctx: GpuContext, args: RotaryPairArgs): void {
  const { q, k, numHeads: H, numKvHeads: Hk, headDim: D, rotaryDim: R, positionOffset, style, cos, sin } = args;
  // The single-tensor checks (shapes, tables, positions) applied to each.
  for (const [x, heads] of [
    [q, H],
    [k, Hk],
  ] as const) {
    if (x.size / (heads * D) !== q.size / (H * D)) throw new KernelArgumentError('rotaryPair', 'q and k must have the same number of rows');
    rotaryChecks({ ...args, x, numHeads: heads });
  }
  if (q.buffer === k.buffer) {
    // One buffer cannot be bound writable twice in a dispatch: rotate the two views one after the other.
    for (const [x, heads] of [
      [q, H],
      [k, Hk],
    ] as const)
      rotary(ctx, { ...args, x, numHeads: heads, out: x });
    return;
  }
  const half = R / 2;
  const T = q.size / (H * D);
  const nq = T * H * half;
  const n = nq + T * Hk * half;
  if (n === 0) return;
  const code = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> yq: array<f32>;
@group(0) @binding(1) var<storage, read_write> yk: array<f32>;
@group(0) @binding(2) var<storage, read> cos_t: array<f32>;
@group(0) @binding(3) var<storage, read> sin_t: array<f32>;
struct Params { n: u32, nq: u32, heads: u32, kv_heads: u32, head_dim: u32, half: u32, pos0: u32 }
@group(0) @binding(4) var<uniform> p: Params;
${ELEMENTWISE_ENTRY}
  if (i >= p.n) { return; }
  let isQ = i < p.nq;
  let e = select(i - p.nq, i, isQ);
  let j = e % p.half;
  let rh = e / p.half;
  let t = rh / select(p.kv_heads, p.heads, isQ);
  let base = rh * p.head_dim;
  ${pairOffsetsWgsl(style)}
  let ti = (p.pos0 + t) * p.half + j;
  let c = cos_t[ti];
  let s = sin_t[ti];
  if (isQ) {
    ${rotatePairWgsl('yq', 'yq')}
  } else {
    ${rotatePairWgsl('yk', 'yk')}
  }
}`;
  const label = `rotaryPair.${style}`;
  ctx.dispatch({
    pipeline: ctx.pipelines.get(label, code),
    bindings: [q, k, cos, sin],
    params: packParams([
      ['u32', n],
      ['u32', nq],
      ['u32', H],
      ['u32', Hk],
      ['u32', D],
      ['u32', half],
      ['u32', positionOffset],
    ]),
    workgroups: elementwiseGrid(n),
    label,
  });
}

/**
 * cos/sin tables [maxPositions, invFreq.length]. The angle is the float32 product p·invFreq[d], as PyTorch
 * forms it; cos/sin of that angle are taken in float64 and rounded, which matches torch's float32 cos/sin
 * and avoids WGSL's imprecise cos for large arguments.
 */
export function rotaryTables(invFreq: Float32Array, maxPositions: number): { cos: Float32Array; sin: Float32Array } {
  const half = invFreq.length;
  const cos = new Float32Array(maxPositions * half);
  const sin = new Float32Array(maxPositions * half);
  for (let p = 0; p < maxPositions; p++) {
    const pf = Math.fround(p);
    for (let d = 0; d < half; d++) {
      const angle = Math.fround(pf * invFreq[d]!);
      cos[p * half + d] = Math.cos(angle);
      sin[p * half + d] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * Inverse frequencies 1/base^(2i/R), i < R/2, rounded like transformers' float32 computation
 * `1.0 / (base ** (torch.arange(0, R, 2).float() / R))`: every step rounded to float32.
 */
export function ropeInvFreq(base: number, rotaryDim: number): Float32Array {
  const half = Math.ceil(rotaryDim / 2); // = torch.arange(0, R, 2).numel()
  const inv = new Float32Array(half);
  const b = Math.fround(base);
  for (let i = 0; i < half; i++) {
    const e = Math.fround(Math.fround(2 * i) / Math.fround(rotaryDim));
    inv[i] = Math.fround(1 / Math.fround(b ** e));
  }
  return inv;
}
