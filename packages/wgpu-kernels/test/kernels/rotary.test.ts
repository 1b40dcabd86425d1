import { describe, expect, it } from 'vitest';
import { type RotaryStyle, ropeInvFreq, rotary, rotaryPair, rotaryTables } from '../../src/kernels/rotary.js';
import { type RotaryRefArgs, rotaryRef, rotaryRefHf } from '../../src/kernels/rotary.ref.js';
import { expectClose, randn, useGpu } from '../helpers.js';

const STYLES: RotaryStyle[] = ['half', 'interleaved'];

/** [heads, headDim, rotaryDim]: full rotary, GQA-like K heads, Pythia-style 25 %, odd head size with partial rotary. */
const HEADS: [number, number, number][] = [
  [4, 16, 16],
  [2, 16, 16],
  [3, 64, 16],
  [2, 33, 8],
  [1, 8, 2],
  [5, 12, 0],
];

describe('ropeInvFreq / rotaryTables', () => {
  it('inverse frequencies follow 1/base^(2i/R) in float32', () => {
    const inv = ropeInvFreq(10000, 64);
    expect(inv.length).toBe(32);
    expect(inv[0]).toBe(1);
    for (let i = 0; i < 32; i++) expect(Math.abs(inv[i]! - 10000 ** (-(2 * i) / 64))).toBeLessThanOrEqual(2 ** -23 * inv[i]!);
    // Every step rounds to float32: the result is a float32 value.
    for (const v of ropeInvFreq(500000, 128)) expect(Math.fround(v)).toBe(v);
  });

  it('tables hold cos/sin of the float32 angle p·f, rounded to float32', () => {
    const inv = ropeInvFreq(10000, 8);
    const { cos, sin } = rotaryTables(inv, 5000);
    expect(cos.length).toBe(5000 * 4);
    for (const p of [0, 1, 7, 4095, 4999]) {
      for (let d = 0; d < 4; d++) {
        const angle = Math.fround(p * inv[d]!);
        expect(cos[p * 4 + d]).toBe(Math.fround(Math.cos(angle)));
        expect(sin[p * 4 + d]).toBe(Math.fround(Math.sin(angle)));
      }
    }
    // The float32 product differs from the exact one at large p: that is the point of emulating torch.
    expect(Math.fround(4999 * inv[1]!)).not.toBe(4999 * inv[1]!);
  });
});

describe('rotary', () => {
  const gpu = useGpu();
  const P = 1100;

  for (const style of STYLES) {
    for (const [H, D, R] of HEADS) {
      for (const T of [1, 7, 33]) {
        for (const offset of [0, 5, 1000]) {
          if (T === 33 && offset === 5) continue;
          it(`${style} T=${T} H=${H} D=${D} R=${R} offset=${offset}`, async () => {
            const ctx = gpu();
            const x = randn(T * H * D, T * 1000 + H * 100 + D + R + offset, 2);
            const { cos, sin } = rotaryTables(ropeInvFreq(10000, R), P);
            const args: RotaryRefArgs = { x, numHeads: H, headDim: D, cos, sin, positionOffset: offset, rotaryDim: R, style };
            const y = rotary(ctx, {
              x: ctx.upload(x, [T, H * D]),
              numHeads: H,
              headDim: D,
              cos: ctx.upload(cos, [P, R / 2]),
              sin: ctx.upload(sin, [P, R / 2]),
              positionOffset: offset,
              rotaryDim: R,
              style,
            });
            expect(y.shape).toEqual([T, H * D]);
            expectClose(await ctx.readF32(y), rotaryRef(args), 1e-5);
          });
        }
      }
    }

    it(`${style}: the direct reference agrees with the HF rotate_half / rotate_every_two form`, () => {
      const x = randn(7 * 3 * 64, 77);
      const { cos, sin } = rotaryTables(ropeInvFreq(10000, 16), 64);
      const args: RotaryRefArgs = { x, numHeads: 3, headDim: 64, cos, sin, positionOffset: 9, rotaryDim: 16, style };
      expectClose(rotaryRef(args), rotaryRefHf(args), 1e-6);
    });

    it(`${style} in place, with partial rotary`, async () => {
      const ctx = gpu();
      const [T, H, D, R] = [7, 4, 32, 8];
      const x = randn(T * H * D, 3);
      const { cos, sin } = rotaryTables(ropeInvFreq(10000, R), 64);
      const t = ctx.upload(x, [T, H * D]);
      const out = rotary(ctx, { x: t, numHeads: H, headDim: D, cos: ctx.upload(cos), sin: ctx.upload(sin), positionOffset: 3, rotaryDim: R, style, out: t });
      expect(out).toBe(t);
      expectClose(await ctx.readF32(t), rotaryRef({ x, numHeads: H, headDim: D, cos, sin, positionOffset: 3, rotaryDim: R, style }), 1e-5);
    });
  }

  for (const style of STYLES) {
    it(`${style}: queries and keys in one dispatch (GQA, partial rotary) equal the reference of each`, async () => {
      const ctx = gpu();
      const [T, H, Hk, D, R] = [6, 4, 2, 24, 16];
      const q = randn(T * H * D, 11);
      const k = randn(T * Hk * D, 12);
      const { cos, sin } = rotaryTables(ropeInvFreq(10000, R), 32);
      const [qt, kt] = [ctx.upload(q, [T, H * D]), ctx.upload(k, [T, Hk * D])];
      const common = { headDim: D, cos: ctx.upload(cos), sin: ctx.upload(sin), positionOffset: 5, rotaryDim: R, style };
      rotaryPair(ctx, { ...common, q: qt, k: kt, numHeads: H, numKvHeads: Hk });
      const ref = { headDim: D, cos, sin, positionOffset: 5, rotaryDim: R, style };
      expectClose(await ctx.readF32(qt), rotaryRef({ ...ref, x: q, numHeads: H }), 1e-5);
      expectClose(await ctx.readF32(kt), rotaryRef({ ...ref, x: k, numHeads: Hk }), 1e-5);
    });
  }

  it('position 0 is the identity; rotation keeps each pair norm', async () => {
    const ctx = gpu();
    const x = randn(2 * 16, 5);
    const { cos, sin } = rotaryTables(ropeInvFreq(10000, 16), 2);
    const y = await ctx.readF32(
      rotary(ctx, {
        x: ctx.upload(x, [2, 16]),
        numHeads: 1,
        headDim: 16,
        cos: ctx.upload(cos),
        sin: ctx.upload(sin),
        positionOffset: 0,
        rotaryDim: 16,
        style: 'half',
      }),
    );
    expectClose(y.subarray(0, 16), x.subarray(0, 16), 0);
    for (let d = 0; d < 8; d++) {
      const n0 = Math.hypot(x[16 + d]!, x[24 + d]!);
      expect(Math.abs(Math.hypot(y[16 + d]!, y[24 + d]!) - n0)).toBeLessThan(1e-5);
    }
  });

  it('rejects odd rotaryDim, too-short tables and mismatched x', () => {
    const ctx = gpu();
    const { cos, sin } = rotaryTables(ropeInvFreq(10000, 8), 10);
    const c = ctx.upload(cos);
    const s = ctx.upload(sin);
    const x = ctx.upload(new Float32Array(4 * 16), [4, 16]);
    const base = { x, numHeads: 2, headDim: 8, cos: c, sin: s, positionOffset: 0, rotaryDim: 8, style: 'half' as const };
    expect(() => rotary(ctx, { ...base, rotaryDim: 7 })).toThrow(/even/);
    expect(() => rotary(ctx, { ...base, rotaryDim: 10 })).toThrow(/even/);
    expect(() => rotary(ctx, { ...base, positionOffset: 7 })).toThrow(/raise maxPositions/);
    expect(() => rotary(ctx, { ...base, numHeads: 3 })).toThrow(/multiple/);
    expect(() => rotary(ctx, { ...base, rotaryDim: 6 })).toThrow(/not \[P/);
  });
});
