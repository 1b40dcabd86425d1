import { describe, expect, it } from 'vitest';
import { UnsupportedDtypeError } from '../../src/errors.js';
import { bf16BitsToFloat, decodeFloat, decodeInt, halfBitsToFloat } from '../../src/loading/dtype.js';

/** An independent f16 → f32 conversion by bit surgery (normalising subnormals), to check the table against. */
function halfViaBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  let exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  let bits: number;
  if (exp === 31) bits = sign | 0x7f800000 | (mant << 13);
  else if (exp === 0 && mant === 0) bits = sign;
  else {
    if (exp === 0) {
      exp = 1;
      while ((mant & 0x400) === 0) {
        mant <<= 1;
        exp--;
      }
      mant &= 0x3ff;
    }
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  return new Float32Array(new Uint32Array([bits >>> 0]).buffer)[0]!;
}

const bytesOf = (bits: number[]) => new Uint8Array(Uint16Array.from(bits).buffer);

describe('F16', () => {
  it('decodes every one of the 65536 bit patterns like an independent bit-level conversion', () => {
    const all = Array.from({ length: 65536 }, (_, i) => i);
    const got = decodeFloat('t', 'F16', bytesOf(all));
    const wrong: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const want = halfViaBits(h);
      const ok = Number.isNaN(want) ? Number.isNaN(got[h]!) : Object.is(got[h], want);
      if (!ok) wrong.push(`0x${h.toString(16)}: ${got[h]} != ${want}`);
    }
    expect(wrong).toEqual([]);
  });

  it('gets the special values right', () => {
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x7bff, 65504],
      [0x0001, 2 ** -24],
      [0x03ff, 1023 * 2 ** -24],
      [0x0400, 2 ** -14],
      [0x3555, 0.333251953125],
      [0x7c00, Number.POSITIVE_INFINITY],
      [0xfc00, Number.NEGATIVE_INFINITY],
      [0x0000, 0],
      [0x8000, -0],
    ];
    const got = decodeFloat('t', 'F16', bytesOf(cases.map((c) => c[0])));
    for (const [i, [, want]] of cases.entries()) expect(Object.is(got[i], want)).toBe(true);
    expect(Number.isNaN(halfBitsToFloat(0x7e00))).toBe(true);
    expect(Number.isNaN(halfBitsToFloat(0xfc01))).toBe(true);
  });
});

describe('BF16', () => {
  it('is the upper half of a float32', () => {
    const cases: [number, number][] = [
      [0x3f80, 1],
      [0xc040, -3],
      [0x3eab, 0.333984375],
      [0x0001, 2 ** -133],
      [0x7f7f, 3.3895313892515355e38],
      [0x7f80, Number.POSITIVE_INFINITY],
      [0xff80, Number.NEGATIVE_INFINITY],
      [0x8000, -0],
    ];
    const got = decodeFloat('t', 'BF16', bytesOf(cases.map((c) => c[0])));
    for (const [i, [bits, want]] of cases.entries()) {
      expect(Object.is(got[i], want)).toBe(true);
      expect(Object.is(bf16BitsToFloat(bits), want)).toBe(true);
    }
    expect(Number.isNaN(decodeFloat('t', 'BF16', bytesOf([0x7fc0]))[0]!)).toBe(true);
  });
});

describe('other dtypes', () => {
  it('views aligned F32 bytes without copying and copies unaligned ones', () => {
    const buf = new Uint8Array(new Float32Array([1.5, -2, 3.25]).buffer);
    const aligned = decodeFloat('t', 'F32', buf);
    expect(aligned.buffer).toBe(buf.buffer);
    const shifted = new Uint8Array(13);
    shifted.set(buf, 1);
    expect([...decodeFloat('t', 'F32', shifted.subarray(1))]).toEqual([1.5, -2, 3.25]);
  });

  it('narrows F64 to float32 and I64 to int32, refusing ints that do not fit', () => {
    expect([...decodeFloat('t', 'F64', new Uint8Array(new Float64Array([0.1, 2]).buffer))]).toEqual([Math.fround(0.1), 2]);
    expect([...decodeInt('t', 'I64', new Uint8Array(BigInt64Array.from([5n, -7n]).buffer))]).toEqual([5, -7]);
    expect([...decodeInt('t', 'I32', new Uint8Array(Int32Array.from([9, -1]).buffer))]).toEqual([9, -1]);
    expect(() => decodeInt('t', 'I64', new Uint8Array(BigInt64Array.from([2n ** 40n]).buffer))).toThrow(UnsupportedDtypeError);
    expect(() => decodeFloat('t', 'U8', new Uint8Array(4))).toThrow(UnsupportedDtypeError);
  });
});
