import { describe, expect, it } from 'vitest';
import { cutWindow, headMetricValues, thumbnails, topKFromLogits } from '../src/engine/matrix.js';

const T = 5;
const full = Float32Array.from({ length: T * T }, (_, i) => i / 100);

describe('cutWindow', () => {
  it('copies an exact window', () => {
    const w = cutWindow(full, T, T, { q0: 1, q1: 3, k0: 2, k1: 5, stride: 1 });
    expect(w).toMatchObject({ q0: 1, k0: 2, rows: 2, cols: 3, stride: 1 });
    expect([...w.values]).toEqual([7, 8, 9, 12, 13, 14].map((v) => Math.fround(v / 100)));
  });

  it('clamps to the matrix and max-pools with a stride', () => {
    const w = cutWindow(full, T, T, { q0: -3, q1: 99, k0: 0, k1: 99, stride: 2 });
    expect(w).toMatchObject({ q0: 0, k0: 0, rows: 3, cols: 3, stride: 2 });
    // cell (0,0) covers rows 0-1, cols 0-1: max is full[1*5+1] = 0.06; the last cell is the lone (4,4).
    expect(w.values[0]).toBe(Math.fround(0.06));
    expect(w.values[8]).toBe(Math.fround(0.24));
  });
});

describe('thumbnails', () => {
  it('max-pools each head to size×size, and keeps a lone spike', () => {
    const H = 2;
    const layer = new Float32Array(H * 4 * 4);
    layer[16 + 3 * 4 + 0] = 0.9; // head 1, query 3, key 0
    const th = thumbnails(layer, H, 4, 4, 2);
    expect([...th.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    expect([...th.subarray(4, 8)]).toEqual([0, 0, Math.fround(0.9), 0]);
  });

  it('upsamples a short prompt without gaps', () => {
    const th = thumbnails(Float32Array.of(1, 0, 0.5, 0.5), 1, 2, 2, 4);
    expect(th[0]).toBe(1);
    expect(th[15]).toBe(0.5);
  });
});

describe('headMetricValues', () => {
  it('averages entropy over all queries and first-token mass over queries 1…', () => {
    const m = headMetricValues({ entropy: Float32Array.of(0, 1, 2), firstMass: Float32Array.of(1, 0.5, 0.25), colMean: Float32Array.of(0.6, 0.9, 0.2) });
    expect(m.entropy).toBeCloseTo(1);
    expect(m.firstMass).toBeCloseTo(0.375);
    expect(m.maxColumn).toBeCloseTo(0.9);
  });
});

describe('topKFromLogits', () => {
  it('returns the k best ids with softmax probabilities, ties by lower id', () => {
    const r = topKFromLogits(Float32Array.of(0, 2, 1, 2), 3);
    expect(r.map((p) => p.id)).toEqual([1, 3, 2]);
    const z = 1 + Math.exp(2) * 2 + Math.exp(1);
    expect(r[0]!.prob).toBeCloseTo(Math.exp(2) / z, 12);
    expect(r[2]!.prob).toBeCloseTo(Math.exp(1) / z, 12);
  });
});
