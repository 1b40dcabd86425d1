/**
 * safetensors dtypes and their conversion to the fp32 the GPU runtime stores. F16 → F32 and BF16 → F32 are
 * exact (every half/bfloat value is a float), so "correct rounding" here means: subnormals, ±0, ±inf and
 * NaN keep their meaning. Data is little-endian by the format; typed-array views assume a little-endian
 * host (every platform WebGPU runs on), checked once below.
 */
import { bf16BitsToFloat, halfBitsToFloat } from '@headscope/wgpu-kernels';
import { UnsupportedDtypeError } from '../errors.js';

/** Element sizes of every dtype the format defines: needed to validate offsets even of tensors we skip. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  U16: 2,
  I16: 2,
  F16: 2,
  BF16: 2,
  U32: 4,
  I32: 4,
  F32: 4,
  U64: 8,
  I64: 8,
  F64: 8,
};

export const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'] as const;
export type FloatDtype = (typeof FLOAT_DTYPES)[number];
export const INT_DTYPES = ['I32', 'I64'] as const;
export type IntDtype = (typeof INT_DTYPES)[number];

export function isFloatDtype(d: string): d is FloatDtype {
  return (FLOAT_DTYPES as readonly string[]).includes(d);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let halfTable: Float32Array | undefined;

/** All 65536 half values as floats (256 KiB, built once): a table lookup beats bit twiddling per element. */
function f16Table(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = halfBitsToFloat(h);
  halfTable = t;
  return t;
}

// The bit conversions live beside the GPU's 16-bit weight storage (one definition for loading and readback).
export { bf16BitsToFloat, halfBitsToFloat };

/**
 * Decodes raw little-endian tensor bytes to fp32. `bytes` should own its buffer at offset 0 (the readers
 * hand out fresh buffers); F32 data is then viewed without a copy.
 */
export function decodeFloat(name: string, dtype: string, bytes: Uint8Array): Float32Array {
  if (!LITTLE_ENDIAN) throw new UnsupportedDtypeError(name, `${dtype} on a big-endian host`);
  const aligned = (size: number) => (bytes.byteOffset % size === 0 ? bytes : bytes.slice());
  switch (dtype) {
    case 'F32': {
      const b = aligned(4);
      return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    }
    case 'F16': {
      const b = aligned(2);
      const src = new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
      const table = f16Table();
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = table[src[i]!]!;
      return out;
    }
    case 'BF16': {
      const b = aligned(2);
      const src = new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
      const out = new Float32Array(src.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
      return out;
    }
    case 'F64': {
      const b = aligned(8);
      return Float32Array.from(new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8));
    }
    default:
      throw new UnsupportedDtypeError(name, dtype);
  }
}

/** I32 as is; I64 narrowed to int32 (ids, positions), refusing values that do not fit rather than wrapping. */
export function decodeInt(name: string, dtype: string, bytes: Uint8Array): Int32Array {
  if (!LITTLE_ENDIAN) throw new UnsupportedDtypeError(name, `${dtype} on a big-endian host`);
  if (dtype === 'I32') {
    const b = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    return new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  }
  if (dtype === 'I64') {
    const b = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
    const src = new BigInt64Array(b.buffer, b.byteOffset, b.byteLength / 8);
    const out = new Int32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      if (v > 2147483647n || v < -2147483648n) throw new UnsupportedDtypeError(name, 'I64 with values beyond int32');
      out[i] = Number(v);
    }
    return out;
  }
  throw new UnsupportedDtypeError(name, dtype);
}
