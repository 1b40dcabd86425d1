import { describe, expect, it } from 'vitest';
import { cellAt, type HeatFrame, heatLayout, MARGIN, valueAt } from '../src/components/heatmap-draw.js';
import { fitScale } from '../src/lib/colour.js';

function frame(fold: boolean, view = { x0: fold ? 1 : 0, x1: 4, y0: 0, y1: 4 }): HeatFrame {
  const values = Float32Array.from({ length: 16 }, (_, i) => i / 16);
  return {
    title: 'L0H0',
    width: 400,
    height: 400,
    T: 4,
    view,
    fold,
    tokens: ['a', 'b', 'c', 'd'],
    win: { q0: 0, k0: 0, rows: 4, cols: 4, stride: 1, values },
    first: fold ? { q0: 0, k0: 0, rows: 4, cols: 1, stride: 1, values: Float32Array.of(1, 0.5, 0.25, 0.125) } : null,
    scale: fitScale(values, 'linear', 'viridis'),
    window: null,
    cursor: null,
    query: null,
  };
}

describe('heatmap geometry', () => {
  it('maps points to cells and back, and nothing outside the plot', () => {
    const f = frame(false);
    const L = heatLayout(f);
    expect(L.plot.x0).toBe(MARGIN.left);
    const cx = (k: number) => L.xs(k + 0.5);
    const cy = (q: number) => L.ys(q + 0.5);
    expect(cellAt(f, L, cx(2), cy(3))).toEqual({ q: 3, k: 2 });
    expect(cellAt(f, L, L.plot.x0 - 1, cy(1))).toBeNull();
    expect(cellAt(f, L, cx(1), L.plot.y1 + 1)).toBeNull();
  });

  it('labels every cell when cells are wide enough', () => {
    const L = heatLayout(frame(false));
    expect(L.xTicks).toEqual([0, 1, 2, 3]);
    expect(L.yTicks).toEqual([0, 1, 2, 3]);
  });

  it('puts the folded first column in a strip left of the plot', () => {
    const f = frame(true);
    const L = heatLayout(f);
    expect(L.strip).not.toBeNull();
    expect(L.plot.x0).toBeGreaterThan(L.strip!.x1);
    expect(cellAt(f, L, (L.strip!.x0 + L.strip!.x1) / 2, L.ys(2.5))).toEqual({ q: 2, k: 0 });
    expect(cellAt(f, L, L.xs(1.5), L.ys(2.5))).toEqual({ q: 2, k: 1 });
  });

  it('reads exact values from the window it holds, and not from pooled windows', () => {
    const f = frame(true);
    expect(valueAt(f, 2, 3)).toBe(Math.fround(11 / 16));
    expect(valueAt(f, 1, 0)).toBe(Math.fround(4 / 16));
    const pooled = { ...f, win: { ...f.win, stride: 2 }, first: null };
    expect(valueAt(pooled, 2, 3)).toBeNull();
  });
});
