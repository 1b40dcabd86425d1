import { describe, expect, it } from 'vitest';
import { embedding } from '../../src/kernels/embedding.js';
import { embeddingRef } from '../../src/kernels/embedding.ref.js';
import { expectClose, ODD_SIZES, randn, rng, useGpu } from '../helpers.js';

function randomIds(n: number, vocab: number, seed: number): Uint32Array {
  const r = rng(seed);
  return Uint32Array.from({ length: n }, () => Math.floor(r() * vocab));
}

describe('embedding', () => {
  const gpu = useGpu();

  for (const T of [1, 7, 33, 64]) {
    for (const D of ODD_SIZES) {
      it(`T=${T} D=${D} (token rows only)`, async () => {
        const ctx = gpu();
        const V = 101;
        const table = randn(V * D, T * 10 + D);
        const ids = randomIds(T, V, T + D);
        const y = embedding(ctx, { ids: ctx.upload(ids), table: ctx.upload(table, [V, D]) });
        expect(y.shape).toEqual([T, D]);
        expectClose(await ctx.readF32(y), embeddingRef(ids, table, D), 0);
      });
      it(`T=${T} D=${D} with learned positions at offset 3`, async () => {
        const ctx = gpu();
        const [V, P] = [50, 70];
        const table = randn(V * D, T * 11 + D);
        const pos = randn(P * D, T * 12 + D);
        const ids = randomIds(T, V, T * 3 + D);
        const y = embedding(ctx, { ids: ctx.upload(ids), table: ctx.upload(table, [V, D]), positions: { table: ctx.upload(pos, [P, D]), offset: 3 } });
        expectClose(await ctx.readF32(y), embeddingRef(ids, table, D, { table: pos, offset: 3 }), 0);
      });
    }
  }

  it('scale multiplies the token rows (Gemma √d_model), not the position rows', async () => {
    const ctx = gpu();
    const [V, D, P] = [40, 24, 16];
    const table = randn(V * D, 31);
    const pos = randn(P * D, 32);
    const ids = randomIds(9, V, 33);
    const scale = Math.fround(Math.sqrt(D));
    const y = embedding(ctx, { ids: ctx.upload(ids), table: ctx.upload(table, [V, D]), scale });
    expectClose(await ctx.readF32(y), embeddingRef(ids, table, D, undefined, scale), 0);
    const z = embedding(ctx, { ids: ctx.upload(ids), table: ctx.upload(table, [V, D]), positions: { table: ctx.upload(pos, [P, D]), offset: 1 }, scale });
    expectClose(await ctx.readF32(z), embeddingRef(ids, table, D, { table: pos, offset: 1 }, scale), 1e-6);
  });

  it('out-of-range ids (u32 and negative i32) give zero rows plus the position row', async () => {
    const ctx = gpu();
    const [V, D, P] = [10, 33, 8];
    const table = randn(V * D, 1);
    const pos = randn(P * D, 2);
    const ids = new Uint32Array([0, 9, 10, 4294967295, 123456, 5]);
    const y = await ctx.readF32(
      embedding(ctx, { ids: ctx.upload(ids), table: ctx.upload(table, [V, D]), positions: { table: ctx.upload(pos, [P, D]), offset: 2 } }),
    );
    expectClose(y, embeddingRef(ids, table, D, { table: pos, offset: 2 }), 0);
    expectClose(y.subarray(2 * D, 3 * D), pos.subarray(4 * D, 5 * D), 0);
    const signed = new Int32Array([-1, 3, -7]);
    const z = await ctx.readF32(embedding(ctx, { ids: ctx.upload(signed), table: ctx.upload(table, [V, D]) }));
    expectClose(z, embeddingRef(signed, table, D), 0);
    expect(z.subarray(0, D).every((v) => v === 0)).toBe(true);
  });

  it('last learned position and a given out tensor', async () => {
    const ctx = gpu();
    const [V, D, P] = [20, 7, 16];
    const table = randn(V * D, 3);
    const pos = randn(P * D, 4);
    const ids = randomIds(4, V, 5);
    const out = ctx.createTensor([4, D]);
    expect(embedding(ctx, { ids: ctx.upload(ids), table: ctx.upload(table, [V, D]), positions: { table: ctx.upload(pos, [P, D]), offset: 12 }, out })).toBe(
      out,
    );
    expectClose(await ctx.readF32(out), embeddingRef(ids, table, D, { table: pos, offset: 12 }), 0);
  });

  it('rejects positions past the table, f32 ids and a 1D table', () => {
    const ctx = gpu();
    const table = ctx.upload(new Float32Array(10 * 4), [10, 4]);
    const ids = ctx.upload(new Uint32Array(3));
    const pos = ctx.upload(new Float32Array(5 * 4), [5, 4]);
    expect(() => embedding(ctx, { ids, table, positions: { table: pos, offset: 3 } })).toThrow(/exceed the 5 learned positions/);
    expect(() => embedding(ctx, { ids: ctx.upload(new Float32Array(3)), table })).toThrow(/u32/);
    expect(() => embedding(ctx, { ids, table: ctx.upload(new Float32Array(40)) })).toThrow(/\[V, D\]/);
  });
});
