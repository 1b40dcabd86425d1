/**
 * 16-bit float storage on the host side. A 16-bit tensor (dtype 'f16' or 'bf16') lives on the GPU as u32
 * words holding two halves each, element i in word i >> 1 (low half for even i), so a row-major matrix
 * keeps the element indices of its fp32 form and needs no padding for odd sizes. Kernels unpack it to
 * f32 (no `shader-f16` needed); these helpers pack on upload and unpack on readback.
 */

export type HalfFormat = 'f16' | 'bf16';

export const isHalfFormat = (dtype: string): dtype is HalfFormat => dtype === 'f16' || dtype === 'bf16';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float → IEEE binary16 bits, rounded to nearest even; overflow to ±inf, underflow through subnormals to ±0. */
export function floatToHalfBits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf, NaN (quiet)
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: m·2⁻²⁴ with the implicit bit made explicit; shift right by (1 − e) + 13, rounding to even.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa bumps the exponent, which is what rounding up must do (up to inf).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/** float → bfloat16 bits (the top half of the float32), rounded to nearest even; NaN stays NaN. */
export function floatToBf16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** IEEE binary16 bits → number. Exponent 0: subnormal m·2⁻²⁴; exponent 31: inf (m = 0) or NaN. */
export function halfBitsToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 is the upper half of a float32: shifting the bits up is the whole conversion. */
export function bf16BitsToFloat(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}

/** Packs floats (rounded to nearest even) two per u32 word, element i in the low half of word i/2 when even. */
export function packHalves(data: ArrayLike<number>, format: HalfFormat): Uint32Array {
  const toBits = format === 'f16' ? floatToHalfBits : floatToBf16Bits;
  const out = new Uint32Array(Math.ceil(data.length / 2));
  for (let i = 0; i < data.length; i += 2) {
    const lo = toBits(data[i]!);
    const hi = i + 1 < data.length ? toBits(data[i + 1]!) : 0;
    out[i >> 1] = (lo | (hi << 16)) >>> 0;
  }
  return out;
}

/** The inverse of packHalves for `count` elements starting at element `first` of the packed words. */
export function unpackHalves(words: Uint32Array, format: HalfFormat, first = 0, count = words.length * 2 - first): Float32Array {
  const out = new Float32Array(count);
  if (format === 'bf16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) {
      const e = first + i;
      const w = words[e >> 1]!;
      bits[i] = e & 1 ? w & 0xffff0000 : (w << 16) >>> 0;
    }
    return out;
  }
  for (let i = 0; i < count; i++) {
    const e = first + i;
    const w = words[e >> 1]!;
    out[i] = halfBitsToFloat(e & 1 ? w >>> 16 : w & 0xffff);
  }
  return out;
}

/** Each value rounded through the format and back: the weights a 16-bit tensor holds for given floats. */
export function roundToHalf(data: ArrayLike<number>, format: HalfFormat): Float32Array {
  return unpackHalves(packHalves(data, format), format, 0, data.length);
}
