/** Shared WGSL snippets and host-side helpers for kernels. */
import type { HalfFormat } from '../runtime/half.js';

export const ceilDiv = (a: number, b: number): number => Math.floor((a + b - 1) / b);

/**
 * Caches a WGSL generator by its arguments (plain values). Kernels ask for their source on every dispatch;
 * rebuilding a 20 KB unrolled matmul costs ~0.14 ms of CPU, more than the GPU needs for many products, and
 * the same string object keeps the pipeline-cache lookup cheap.
 */
export function memoWgsl<A extends (string | number | boolean | object | undefined)[]>(gen: (...args: A) => string): (...args: A) => string {
  const cache = new Map<string, string>();
  return (...args: A): string => {
    const key = JSON.stringify(args);
    let code = cache.get(key);
    if (code === undefined) {
      code = gen(...args);
      cache.set(key, code);
    }
    return code;
  };
}

/** Threads per workgroup for row-wise kernels; 256 is the WebGPU default limit on every adapter. */
export const ROW_THREADS = 256;

/**
 * A workgroup-wide reduction of one f32 per thread over `n` threads (power of two). The generated function
 * `${name}(v, lid)` returns the result to every thread. Uses its own shared array, so several may coexist.
 */
export function workgroupReduce(name: string, n: number, op: 'sum' | 'max'): string {
  const combine = op === 'sum' ? 'a + b' : 'max(a, b)';
  return /* wgsl */ `
var<workgroup> ${name}_buf: array<f32, ${n}>;
fn ${name}_op(a: f32, b: f32) -> f32 { return ${combine}; }
fn ${name}(v: f32, lid: u32) -> f32 {
  ${name}_buf[lid] = v;
  workgroupBarrier();
  for (var s = ${n / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { ${name}_buf[lid] = ${name}_op(${name}_buf[lid], ${name}_buf[lid + s]); }
    workgroupBarrier();
  }
  let r = ${name}_buf[0];
  workgroupBarrier();
  return r;
}`;
}

/**
 * Soft-capping (Gemma 2): cap·tanh(x/cap), tanh via exp and clamped like gelu_tanh (tanh(±15) is ±1 in f32),
 * so huge scores saturate at ±cap instead of overflowing.
 */
export const WGSL_SOFTCAP = /* wgsl */ `
fn softcap(x: f32, cap: f32) -> f32 {
  let u = clamp(x / cap, -15.0, 15.0);
  return cap * (1.0 - 2.0 / (exp(2.0 * u) + 1.0));
}`;

/** Tanh-approximated GELU (GPT-2 "gelu_new"); tanh via exp, clamped so large |x| cannot overflow. */
export const WGSL_GELU_TANH = /* wgsl */ `
fn gelu_tanh(x: f32) -> f32 {
  let u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  let t = 1.0 - 2.0 / (exp(2.0 * clamp(u, -15.0, 15.0)) + 1.0);
  return 0.5 * x * (1.0 + t);
}`;

/**
 * Exact-erf GELU. WGSL has no erf; this is the Numerical Recipes Chebyshev fit of erfc (fractional error
 * < 1.2e-7 in exact arithmetic; measured GELU error vs a float64 erf ≤ 5e-7 on [−20, 20]).
 */
export const WGSL_GELU_ERF = /* wgsl */ `
fn erf_approx(x: f32) -> f32 {
  // Numerical Recipes erfc Chebyshev fit, fractional error < 1.2e-7 everywhere.
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
          t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
          t * (-0.82215223 + t * 0.17087277)))))))));
  return select(r - 1.0, 1.0 - r, x >= 0.0);
}
fn gelu_erf(x: f32) -> f32 { return 0.5 * x * (1.0 + erf_approx(x * 0.7071067811865476)); }`;

export const WGSL_SILU = /* wgsl */ `
fn silu(x: f32) -> f32 { return x / (1.0 + exp(min(-x, 88.0))); }`; // clamp: exp overflow is indeterminate in WGSL

/** Packs a params struct of 4-byte scalars, in declaration order, for a uniform binding. */
export function packParams(fields: ReadonlyArray<readonly ['u32' | 'i32' | 'f32', number]>): ArrayBuffer {
  const buf = new ArrayBuffer(Math.ceil(Math.max(1, fields.length) / 4) * 16);
  const v = new DataView(buf);
  fields.forEach(([t, x], i) => {
    if (t === 'f32') v.setFloat32(i * 4, x, true);
    else if (t === 'u32') v.setUint32(i * 4, x >>> 0, true);
    else v.setInt32(i * 4, x, true);
  });
  return buf;
}

/** Storage of a float operand: plain f32, or 16-bit halves packed two per u32 word (runtime/half.ts). */
export type FloatStorage = 'f32' | HalfFormat;

/** The storage a float tensor's dtype implies (u32/i32 are not float operands). */
export function floatStorage(dtype: string): FloatStorage | undefined {
  return dtype === 'f32' || dtype === 'f16' || dtype === 'bf16' ? dtype : undefined;
}

/**
 * `fn unpack_<format>(w: u32) -> vec2f`: the two halves of a word as floats, the low half first. fp16 is
 * core WGSL's unpack2x16float (no `shader-f16`); bf16 is the top half of an f32, so a shift is the whole
 * conversion.
 */
export function wgslUnpack(format: HalfFormat): string {
  return format === 'f16'
    ? 'fn unpack_f16(w: u32) -> vec2f { return unpack2x16float(w); }'
    : 'fn unpack_bf16(w: u32) -> vec2f { return vec2f(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u)); }';
}

/**
 * `fn <name>_at(i: u32) -> f32`: element i of a packed 16-bit binding `<name>: array<u32>` (word i / 2, the
 * low half for even i). Indexing per element needs no padding for odd row lengths. `clamp` keeps the word
 * index inside the buffer (for loads whose result a bounds check discards).
 */
export function wgslHalfAt(name: string, format: HalfFormat, clamp = false): string {
  const j = clamp ? `min(i >> 1u, arrayLength(&${name}) - 1u)` : 'i >> 1u';
  return `fn ${name}_at(i: u32) -> f32 { let v = unpack_${format}(${name}[${j}]); return select(v.x, v.y, (i & 1u) == 1u); }`;
}

/** WGSL element type of a float operand's binding: array<f32> (or vec4f) for f32, array<u32> (or vec2<u32>) for halves. */
export function wgslFloatArray(storage: FloatStorage, vec4 = false): string {
  if (storage === 'f32') return vec4 ? 'array<vec4f>' : 'array<f32>';
  return vec4 ? 'array<vec2<u32>>' : 'array<u32>';
}
