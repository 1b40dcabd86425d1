import { describe, expect, it } from 'vitest';
import { clampView, fullView, isFull, MAX_CELLS, panBy, windowFor, zoomAt } from '../src/lib/viewport.js';

const b = { kMin: 0, T: 1024 };

describe('viewport', () => {
  it('zooms about a point and keeps it fixed', () => {
    const v = zoomAt(fullView(b), 4, 512, 512, b);
    expect(v).toEqual({ x0: 384, x1: 640, y0: 384, y1: 640 });
  });

  it('clamps pans to the matrix and zoom-outs to the full view', () => {
    const v = zoomAt(fullView(b), 4, 512, 512, b);
    expect(panBy(v, -1000, 5000, b)).toEqual({ x0: 0, x1: 256, y0: 768, y1: 1024 });
    expect(isFull(zoomAt(v, 0.01, 0, 0, b), b)).toBe(true);
  });

  it('does not zoom in beyond a few cells', () => {
    const v = zoomAt(fullView({ kMin: 0, T: 16 }), 1000, 8, 8, { kMin: 0, T: 16 });
    expect(v.x1 - v.x0).toBeCloseTo(4, 9);
  });

  it('respects a folded first column', () => {
    const f = { kMin: 1, T: 10 };
    expect(fullView(f)).toEqual({ x0: 1, x1: 10, y0: 0, y1: 10 });
    expect(clampView({ x0: -5, x1: 3, y0: 0, y1: 10 }, f).x0).toBe(1);
  });

  it('asks for exact cells when zoomed in, pooled blocks for the whole of a long prompt', () => {
    expect(windowFor(fullView(b), b)).toEqual({ q0: 0, q1: 1024, k0: 0, k1: 1024, stride: 4 });
    const w = windowFor({ x0: 100.5, x1: 300.2, y0: 700, y1: 900 }, b);
    expect(w).toEqual({ q0: 672, q1: 928, k0: 96, k1: 320, stride: 1 });
    expect((w.q1 - w.q0) / w.stride).toBeLessThanOrEqual(MAX_CELLS + 64);
  });

  it('reads a short prompt whole', () => {
    expect(windowFor({ x0: 2, x1: 6, y0: 2, y1: 6 }, { kMin: 0, T: 20 })).toEqual({ q0: 0, q1: 20, k0: 0, k1: 20, stride: 1 });
  });
});
