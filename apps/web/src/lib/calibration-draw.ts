/**
 * Small before / after / difference heatmaps of one head for the calibration panel. Before and after share
 * one viridis scale (0 … the larger maximum); the difference uses a diverging purple–orange ramp (PuOr,
 * colour-blind safe) symmetric around 0. Each canvas carries its own legend strip.
 */
import { color, interpolatePuOr } from 'd3';
import { lut } from './colour.js';

export const CELL_MAX = 18;
export const LEGEND_H = 34;

export interface MiniMap {
  values: Float32Array;
  n: number;
  kind: 'attention' | 'difference';
  /** attention: the top of the ramp; difference: the largest |value| (the ramp spans −max … +max). */
  max: number;
}

function rgb(kind: MiniMap['kind'], t: number): [number, number, number] {
  if (kind === 'attention') {
    const l = lut('viridis');
    const i = Math.round(Math.min(1, Math.max(0, t)) * 255) * 3;
    return [l[i]!, l[i + 1]!, l[i + 2]!];
  }
  // PuOr: orange for negative (attention removed), purple for positive (attention added).
  const c = color(interpolatePuOr(Math.min(1, Math.max(0, t))))?.rgb();
  return [c?.r ?? 0, c?.g ?? 0, c?.b ?? 0];
}

/** Position on the ramp, 0 … 1. */
export function rampT(m: MiniMap, v: number): number {
  if (m.kind === 'attention') return m.max > 0 ? v / m.max : 0;
  return m.max > 0 ? 0.5 + v / (2 * m.max) : 0.5;
}

export function mapSize(n: number): { cell: number; width: number; height: number } {
  const cell = Math.max(2, Math.min(CELL_MAX, Math.floor(240 / Math.max(1, n))));
  return { cell, width: Math.max(160, cell * n), height: cell * n + LEGEND_H };
}

export function drawMiniMap(g: CanvasRenderingContext2D, m: MiniMap): void {
  const { cell, width, height } = mapSize(m.n);
  g.clearRect(0, 0, width, height);
  for (let i = 0; i < m.n; i++) {
    for (let j = 0; j < m.n; j++) {
      if (j > i) continue; // above the diagonal: masked, left blank
      const [r, gg, b] = rgb(m.kind, rampT(m, m.values[i * m.n + j]!));
      g.fillStyle = `rgb(${r},${gg},${b})`;
      g.fillRect(j * cell, i * cell, cell, cell);
    }
  }
  const y = m.n * cell + 6;
  const w = width - 8;
  for (let x = 0; x < w; x++) {
    const [r, gg, b] = rgb(m.kind, x / (w - 1));
    g.fillStyle = `rgb(${r},${gg},${b})`;
    g.fillRect(4 + x, y, 1, 10);
  }
  g.fillStyle = '#222';
  g.font = '11px system-ui, sans-serif';
  const lo = m.kind === 'attention' ? '0' : `−${m.max.toPrecision(2)}`;
  const hi = m.max.toPrecision(2);
  g.textAlign = 'left';
  g.fillText(lo, 4, y + 24);
  g.textAlign = 'right';
  g.fillText(m.kind === 'attention' ? hi : `+${hi}`, width - 4, y + 24);
  if (m.kind === 'difference') {
    g.textAlign = 'center';
    g.fillText('0', width / 2, y + 24);
  }
}
