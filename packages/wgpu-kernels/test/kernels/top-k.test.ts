import { describe, expect, it } from 'vitest';
import { argmax, topK } from '../../src/kernels/top-k.js';
import { topKRef } from '../../src/kernels/top-k.ref.js';
import { randn, rng, useGpu } from '../helpers.js';

/** Values with many exact ties: normal samples rounded to multiples of 0.5. */
function tied(n: number, seed: number): Float32Array {
  return randn(n, seed, 2).map((v) => Math.round(v * 2) / 2);
}

describe('topK / argmax', () => {
  const gpu = useGpu();

  async function check(x: Float32Array, rows: number, cols: number, k: number): Promise<void> {
    const ctx = gpu();
    const { values, indices } = topK(ctx, { x: ctx.upload(x, [rows, cols]), k });
    expect(values.shape).toEqual([rows, k]);
    expect(indices.dtype).toBe('u32');
    const ref = topKRef(x, cols, k);
    expect(Array.from(await ctx.readU32(indices))).toEqual(Array.from(ref.indices));
    expect(Array.from(await ctx.readF32(values))).toEqual(Array.from(ref.values));
  }

  for (const rows of [1, 7, 33]) {
    for (const cols of [1, 7, 33, 65, 300, 1000]) {
      for (const k of [1, 5, 64]) {
        // SwiftShader runs the k reductions slowly: one 33-row case with k = 64 is enough.
        if (k > cols || (rows === 33 && k === 64 && cols !== 65)) continue;
        it(`rows=${rows} cols=${cols} k=${k}`, () => check(randn(rows * cols, rows * 7919 + cols * 31 + k), rows, cols, k));
      }
    }
  }

  for (const cols of [7, 65, 1000, 5000]) {
    it(`deliberate ties: cols=${cols} k=${Math.min(64, cols)}`, () => check(tied(3 * cols, cols), 3, cols, Math.min(64, cols)));
  }

  it('a row of equal values returns indices 0..k-1; k = C returns a full sort', async () => {
    await check(new Float32Array(2 * 600).fill(1.5), 2, 600, 64);
    await check(tied(2 * 33, 4), 2, 33, 33);
  });

  it('equal values owned by the same thread (stride 256) come out in index order', async () => {
    const cols = 4096;
    const x = randn(cols, 8, 0.1);
    for (let i = 3; i < cols; i += 256) x[i] = 7;
    for (let i = 5; i < cols; i += 512) x[i] = 7;
    await check(x, 1, cols, 40);
  });

  it('−0 and +0 tie; −infinity and very negative values', async () => {
    const x = new Float32Array([-0, 0, -1e30, Number.NEGATIVE_INFINITY, -0, -3, Number.NEGATIVE_INFINITY, 0]);
    await check(x, 1, 8, 8);
  });

  it('a vocabulary-sized row (50257) with k = 64, and ties at the top', async () => {
    const cols = 50257;
    const x = randn(2 * cols, 11, 3);
    const r = rng(12);
    for (let j = 0; j < 40; j++) x[Math.floor(r() * cols)] = 20; // 40 tied maxima in row 0 (some may collide)
    await check(x, 2, cols, 64);
  });

  it('argmax = topK k=1 indices, lowest index among equals', async () => {
    const ctx = gpu();
    const [rows, cols] = [7, 50257];
    const x = tied(rows * cols, 13);
    x[cols + 17] = 100;
    x[cols + 40000] = 100;
    const a = argmax(ctx, ctx.upload(x, [rows, cols]));
    expect(a.shape).toEqual([rows, 1]);
    const got = await ctx.readU32(a);
    expect(Array.from(got)).toEqual(Array.from(topKRef(x, cols, 1).indices));
    expect(got[1]).toBe(17);
  });

  it('rejects k outside 1..64 or above the row length', () => {
    const ctx = gpu();
    const x = ctx.upload(new Float32Array(100), [1, 100]);
    expect(() => topK(ctx, { x, k: 0 })).toThrow(/1\.\.64/);
    expect(() => topK(ctx, { x, k: 65 })).toThrow(/1\.\.64/);
    expect(() => topK(ctx, { x: ctx.upload(new Float32Array(5), [1, 5]), k: 6 })).toThrow(/exceeds/);
  });
});
