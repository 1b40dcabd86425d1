import { describe, expect, it } from 'vitest';
import { gatherColumns, groupedHeadLogits, groupLayout } from '../../src/kernels/head-logits.js';
import { gatherColumnsRef, groupedHeadLogitsRef } from '../../src/kernels/head-logits.ref.js';
import { expectClose, randn, useGpu } from '../helpers.js';

describe('head logits', () => {
  const gpu = useGpu();

  it('gatherColumns: the chosen columns as rows; an index past the end gives zeros', async () => {
    const ctx = gpu();
    const [R, C] = [37, 101];
    const table = randn(R * C, 3);
    const ids = new Uint32Array([0, 100, 5, 5, 101, 64]);
    const y = gatherColumns(ctx, { table: ctx.upload(table, [R, C]), ids: ctx.upload(ids) });
    expect(y.shape).toEqual([6, R]);
    expectClose(await ctx.readF32(y), gatherColumnsRef(table, R, ids), 0);
    expect(gatherColumnsRef(table, R, ids)[1 * R + 2]).toBe(table[2 * C + 100]);
  });

  for (const [H, KV, dh, bias] of [
    [4, 4, 8, false],
    [6, 2, 5, true],
    [8, 1, 16, false],
  ] as const) {
    it(`groupedHeadLogits H=${H} KV=${KV} dh=${dh}${bias ? ' with column bias' : ''}: logits and argmax equal the reference`, async () => {
      const ctx = gpu();
      const N = 23;
      const groups = [
        [0, 1, 2, 3, 4, 5, 6],
        [7, 8, 9],
        [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22],
        [3, 9, 15],
      ];
      const { rows, cols, blockSize } = groupLayout(groups);
      const v = randn(N * KV * dh, H * 7 + dh);
      const ou = randn(H * dh * N, H * 11 + dh);
      const colBias = bias ? randn(N, 99) : undefined;
      const R = rows.length / 4;
      const logits = ctx.createTensor([2 * H * blockSize], 'f32', 'logits');
      const argmax = ctx.createTensor([2 * H * R], 'u32', 'argmax');
      groupedHeadLogits(ctx, {
        v: ctx.upload(v, [N, KV * dh]),
        ou: ctx.upload(ou, [H * dh, N]),
        rows: ctx.upload(rows),
        cols: ctx.upload(cols),
        ...(colBias ? { colBias: ctx.upload(colBias) } : {}),
        numHeads: H,
        numKvHeads: KV,
        headDim: dh,
        blockSize,
        logits,
        logitsOffset: H * blockSize,
        argmax,
        argmaxOffset: H * R,
      });
      const ref = groupedHeadLogitsRef(v, ou, rows, cols, { numHeads: H, numKvHeads: KV, headDim: dh, blockSize, ...(colBias ? { colBias } : {}) });
      expectClose(await ctx.readF32(logits, H * blockSize, H * blockSize), ref.logits, 1e-5);
      expect(Array.from(await ctx.readU32(argmax, H * R, H * R))).toEqual(Array.from(ref.argmax));
      // One entry by hand: head H−1 (KV head KV−1), group 1's second row (token 8) against its third column (token 9).
      const h = H - 1;
      let s = colBias?.[9] ?? 0;
      for (let k = 0; k < dh; k++) s += v[8 * KV * dh + (KV - 1) * dh + k]! * ou[(h * dh + k) * N + 9]!;
      expect(ref.logits[h * blockSize + 49 + 1 * 3 + 2]).toBeCloseTo(s, 5);
    });
  }

  it('refuses mismatched shapes with the kernel name', () => {
    const ctx = gpu();
    const t = (shape: number[]) => ctx.createTensor(shape, 'f32');
    const u = (n: number) => ctx.createTensor([n], 'u32');
    expect(() =>
      groupedHeadLogits(ctx, {
        v: t([5, 4]),
        ou: t([8, 4]),
        rows: u(4),
        cols: u(1),
        numHeads: 2,
        numKvHeads: 1,
        headDim: 4,
        blockSize: 1,
        logits: t([2]),
        argmax: u(2),
      }),
    ).toThrow(/groupedHeadLogits.*ou must be \[8, 5\]/);
  });
});
