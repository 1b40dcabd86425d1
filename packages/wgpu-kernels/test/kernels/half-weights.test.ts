/**
 * 16-bit weights (f16, bf16) read by matmul (either operand), embedding and gatherColumns, against the f32
 * references on values exactly representable in 16 bits: the products then differ from the fp32 path only
 * by summation order, and gathers are exact.
 */
import { describe, expect, it } from 'vitest';
import { concatColumns } from '../../src/kernels/columns.js';
import { embedding } from '../../src/kernels/embedding.js';
import { embeddingRef } from '../../src/kernels/embedding.ref.js';
import { gatherColumns } from '../../src/kernels/head-logits.js';
import { gatherColumnsRef } from '../../src/kernels/head-logits.ref.js';
import { type MatmulPlan, matmulWithPlan, TILE_SMALL } from '../../src/kernels/matmul.js';
import { matmulRef } from '../../src/kernels/matmul.ref.js';
import {
  bf16BitsToFloat,
  floatToBf16Bits,
  floatToHalfBits,
  type HalfFormat,
  halfBitsToFloat,
  packHalves,
  roundToHalf,
  unpackHalves,
} from '../../src/runtime/half.js';
import { expectClose, randn, rng, useGpu } from '../helpers.js';

const FORMATS: HalfFormat[] = ['f16', 'bf16'];
const TILED: MatmulPlan = { kind: 'tiled', tile: TILE_SMALL, splitK: 1 };
const SPLIT: MatmulPlan = { kind: 'tiled', tile: TILE_SMALL, splitK: 2 };
const SMALL: MatmulPlan = { kind: 'small' };

describe('16-bit host packing', () => {
  it('rounds to nearest even, keeps ±0, inf, NaN and subnormals, and round-trips every f16 and bf16 value', () => {
    for (let h = 0; h < 65536; h++) {
      const x = halfBitsToFloat(h);
      if (Number.isNaN(x)) expect(Number.isNaN(halfBitsToFloat(floatToHalfBits(x)))).toBe(true);
      else expect(floatToHalfBits(x)).toBe(h);
      const y = bf16BitsToFloat(h);
      if (Number.isNaN(y)) expect(Number.isNaN(bf16BitsToFloat(floatToBf16Bits(y)))).toBe(true);
      else expect(floatToBf16Bits(y)).toBe(h);
    }
    // Ties go to the even neighbour; beyond the largest half is inf; below half the smallest subnormal is 0.
    expect(halfBitsToFloat(floatToHalfBits(1 + 2 ** -11))).toBe(1);
    expect(halfBitsToFloat(floatToHalfBits(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(halfBitsToFloat(floatToHalfBits(65520))).toBe(Number.POSITIVE_INFINITY);
    expect(halfBitsToFloat(floatToHalfBits(2 ** -26))).toBe(0);
    expect(halfBitsToFloat(floatToHalfBits(3 * 2 ** -26))).toBe(2 ** -24);
    expect(bf16BitsToFloat(floatToBf16Bits(1 + 2 ** -8))).toBe(1);
    expect(bf16BitsToFloat(floatToBf16Bits(1 + 3 * 2 ** -8))).toBe(1 + 2 ** -6);
    // Odd counts: the last word's high half is padding; unpacking a range starting at an odd element works.
    const v = Float32Array.from([1, -2, 0.5, 3, -0.25]);
    for (const f of FORMATS) {
      const words = packHalves(v, f);
      expect(words.length).toBe(3);
      expect([...unpackHalves(words, f, 0, 5)]).toEqual([...v]);
      expect([...unpackHalves(words, f, 1, 3)]).toEqual([-2, 0.5, 3]);
    }
  });
});

describe('16-bit weights in the kernels', () => {
  const gpu = useGpu();

  for (const format of FORMATS) {
    // Odd and even sizes; M ≤ 8 takes the few-rows kernel, M > 8 the tiled one (vec4 loads when K or N % 4 == 0,
    // element loads otherwise). Each tiled variant compiles for ~2 s on SwiftShader: the two formats share them out.
    const tiled =
      format === 'f16'
        ? [
            { m: 17, k: 33, n: 7, transB: false, plan: TILED, bias: true },
            { m: 21, k: 40, n: 11, transB: true, plan: TILED },
            // K a tile multiple, rows and columns not: loads clamp their row instead of checking it.
            { m: 21, k: 48, n: 11, transB: true, plan: TILED },
          ]
        : [
            { m: 19, k: 32, n: 20, transB: false, plan: TILED },
            { m: 13, k: 33, n: 9, transB: true, plan: TILED },
            { m: 11, k: 70, n: 13, transB: false, plan: SPLIT, bias: true },
          ];
    const cases: { m: number; k: number; n: number; transB: boolean; plan: MatmulPlan; bias?: boolean }[] = [
      { m: 3, k: 7, n: 5, transB: false, plan: SMALL },
      { m: 2, k: 8, n: 12, transB: false, plan: SMALL, bias: true },
      { m: 1, k: 9, n: 11, transB: true, plan: SMALL },
      { m: 5, k: 16, n: 6, transB: true, plan: SMALL },
      ...tiled,
    ];
    for (const c of cases) {
      it(`${format} matmul b ${c.m}×${c.k}·${c.transB ? `(${c.n}×${c.k})ᵀ` : `${c.k}×${c.n}`}${c.bias ? ' +bias' : ''} (${c.plan.kind}${c.plan.kind === 'tiled' && c.plan.splitK > 1 ? ' split K' : ''})`, async () => {
        const ctx = gpu();
        const seed = c.m * 1000 + c.k * 10 + c.n;
        const a = randn(c.m * c.k, seed, 1 / Math.sqrt(c.k));
        const b = roundToHalf(randn(c.k * c.n, seed + 1), format);
        const bias = c.bias ? randn(c.n, seed + 2) : null;
        const bT = await ctx.uploadHalf(b, c.transB ? [c.n, c.k] : [c.k, c.n], format, 'w');
        expect(bT.byteLength).toBe(Math.ceil((c.k * c.n) / 2) * 4);
        const y = matmulWithPlan(ctx, { a: ctx.upload(a, [c.m, c.k]), b: bT, transB: c.transB, ...(bias ? { bias: ctx.upload(bias) } : {}) }, c.plan);
        expectClose(await ctx.readF32(y), matmulRef(a, b, { m: c.m, n: c.n, k: c.k, transB: c.transB }, bias), 2e-6 * Math.sqrt(c.k) + 1e-6);
      });
    }

    it(`${format} matmul with the weight as a (W_O·Uᵀ, as the OV scores do)`, async () => {
      const ctx = gpu();
      const shapes = format === 'bf16' ? ([[12, 9, 7, TILED]] as const) : ([[3, 10, 5, SMALL]] as const);
      for (const [m, k, n, plan] of shapes) {
        const a = roundToHalf(randn(m * k, m + k), format);
        const b = randn(n * k, m + k + 1);
        const y = matmulWithPlan(ctx, { a: await ctx.uploadHalf(a, [m, k], format), b: ctx.upload(b, [n, k]), transB: true }, plan);
        expectClose(await ctx.readF32(y), matmulRef(a, b, { m, n, k, transB: true }), 1e-5);
      }
    });

    for (const D of [1, 7, 24]) {
      it(`${format} embedding gather D=${D} (with positions and scale), exact`, async () => {
        const ctx = gpu();
        const [V, P, T] = [37, 20, 9];
        const table = roundToHalf(randn(V * D, D + 100), format);
        const pos = randn(P * D, D + 101);
        const r = rng(D);
        const ids = Uint32Array.from({ length: T }, (_, i) => (i === 4 ? V + 3 : Math.floor(r() * V)));
        const t16 = await ctx.uploadHalf(table, [V, D], format, 'W_E');
        const y = embedding(ctx, { ids: ctx.upload(ids), table: t16 });
        expectClose(await ctx.readF32(y), embeddingRef(ids, table, D), 0);
        const z = embedding(ctx, { ids: ctx.upload(ids), table: t16, positions: { table: ctx.upload(pos, [P, D]), offset: 2 }, scale: 1.5 });
        expectClose(await ctx.readF32(z), embeddingRef(ids, table, D, { table: pos, offset: 2 }, 1.5), 0);
      });
    }

    it(`${format} gatherColumns of an odd-width table, exact; readback of a range unpacks`, async () => {
      const ctx = gpu();
      const [R, C] = [5, 13];
      const table = roundToHalf(randn(R * C, 7), format);
      const t16 = await ctx.uploadHalf(table, [R, C], format, 'W_U');
      const ids = Uint32Array.from([0, 12, 5, 13, 7]);
      expectClose(await ctx.readF32(gatherColumns(ctx, { table: t16, ids: ctx.upload(ids) })), gatherColumnsRef(table, R, ids), 0);
      expect([...(await ctx.readF32(t16))]).toEqual([...table]);
      expect([...(await ctx.readF32(t16, 27, 11))]).toEqual([...table.subarray(27, 38)]);
    });
  }

  for (const format of FORMATS) {
    it(`${format} concatColumns joins odd-width parts word by word, bit for bit (fused QKV of 16-bit weights)`, async () => {
      const ctx = gpu();
      const rows = 5;
      const widths = [3, 5, 2];
      const parts = widths.map((w, i) => roundToHalf(randn(rows * w, 40 + i), format));
      const joined = concatColumns(ctx, await Promise.all(parts.map((p, i) => ctx.uploadHalf(p, [rows, widths[i]!], format))), rows);
      expect(joined.dtype).toBe(format);
      expect(joined.byteLength).toBe(Math.ceil((rows * 10) / 2) * 4);
      const want = new Float32Array(rows * 10);
      for (let r = 0; r < rows; r++) {
        let c = 0;
        parts.forEach((p, i) => {
          want.set(p.subarray(r * widths[i]!, (r + 1) * widths[i]!), r * 10 + c);
          c += widths[i]!;
        });
      }
      expect([...(await ctx.readF32(joined))]).toEqual([...want]);
    });
  }

  it('a u32 operand is refused with a typed error', () => {
    const ctx = gpu();
    expect(() => matmulWithPlan(ctx, { a: ctx.upload(new Float32Array(4), [2, 2]), b: ctx.upload(new Uint32Array(4), [2, 2]) }, SMALL)).toThrow(
      /float tensors/,
    );
  });
});
