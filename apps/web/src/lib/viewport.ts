/**
 * The heatmap's visible region in matrix coordinates (keys x, queries y; fractional), with zoom about a
 * point, pan, and the window to read back for it: exact cells when few enough are visible, otherwise
 * max-pooled blocks, snapped so small pans reuse the window already fetched.
 */
import type { WindowRequest } from '../engine/protocol.js';

export interface Viewport {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export interface Bounds {
  /** First key shown (1 when the first-token column is folded away). */
  kMin: number;
  T: number;
}

/** The most cells along one side that are drawn one by one; beyond it cells are max-pooled. */
export const MAX_CELLS = 256;
/** The smallest region (in cells) a zoom can reach. */
export const MIN_SPAN = 4;
const SNAP = 32;

export function fullView(b: Bounds): Viewport {
  return { x0: b.kMin, x1: b.T, y0: 0, y1: b.T };
}

/** Keeps the view inside the matrix and at least MIN_SPAN cells wide (or the whole side, when smaller). */
export function clampView(v: Viewport, b: Bounds): Viewport {
  const fit = (a0: number, a1: number, lo: number, hi: number): [number, number] => {
    const full = hi - lo;
    let span = Math.min(full, Math.max(Math.min(MIN_SPAN, full), a1 - a0));
    if (!(span > 0)) span = full;
    let s = Math.min(Math.max(a0, lo), hi - span);
    if (!Number.isFinite(s)) s = lo;
    return [s, s + span];
  };
  const [x0, x1] = fit(v.x0, v.x1, b.kMin, b.T);
  const [y0, y1] = fit(v.y0, v.y1, 0, b.T);
  return { x0, x1, y0, y1 };
}

/** Zooms by `factor` (>1 zooms in) keeping the matrix point (cx, cy) where it is on screen. */
export function zoomAt(v: Viewport, factor: number, cx: number, cy: number, b: Bounds): Viewport {
  const f = 1 / factor;
  return clampView({ x0: cx - (cx - v.x0) * f, x1: cx + (v.x1 - cx) * f, y0: cy - (cy - v.y0) * f, y1: cy + (v.y1 - cy) * f }, b);
}

/** Moves the view by (dx, dy) cells. */
export function panBy(v: Viewport, dx: number, dy: number, b: Bounds): Viewport {
  return clampView({ x0: v.x0 + dx, x1: v.x1 + dx, y0: v.y0 + dy, y1: v.y1 + dy }, b);
}

export function isFull(v: Viewport, b: Bounds): boolean {
  const f = fullView(b);
  return v.x0 <= f.x0 && v.x1 >= f.x1 && v.y0 <= f.y0 && v.y1 >= f.y1;
}

/** The window to read back for a view: integer, snapped outward, pooled when more than MAX_CELLS per side. */
export function windowFor(v: Viewport, b: Bounds): WindowRequest {
  const span = Math.max(Math.ceil(v.x1) - Math.floor(v.x0), Math.ceil(v.y1) - Math.floor(v.y0));
  const stride = span <= MAX_CELLS ? 1 : 2 ** Math.ceil(Math.log2(span / MAX_CELLS));
  const unit = SNAP * stride;
  const down = (x: number, lo: number) => Math.max(lo, Math.floor(x / unit) * unit);
  const up = (x: number, hi: number) => Math.min(hi, Math.ceil(x / unit) * unit);
  // A small matrix is read whole: one request serves every zoom level.
  if (b.T <= MAX_CELLS) return { q0: 0, q1: b.T, k0: 0, k1: b.T, stride: 1 };
  return { q0: down(v.y0, 0), q1: up(v.y1, b.T), k0: down(v.x0, 0), k1: up(v.x1, b.T), stride };
}
