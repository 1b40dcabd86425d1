/**
 * The heatmap's geometry and its two renderings from one frame: canvas (screen and PNG export, at any
 * scale) and SVG (export). Cells are drawn from the window read back; masked cells (keys after the query,
 * and on sliding-window layers keys the window leaves out) are neutral grey, never a small colour; a folded
 * first-token column becomes a narrow grey strip outside the colour fit.
 */
import { format, type ScaleLinear, scaleLinear } from 'd3';
import type { MatrixWindow } from '../engine/protocol.js';
import type { ColourScale } from '../lib/colour.js';
import { lut } from '../lib/colour.js';
import { escapeXml } from '../lib/export.js';
import { tokenLabel } from '../lib/format.js';
import type { Viewport } from '../lib/viewport.js';

export interface HeatFrame {
  title: string;
  width: number;
  height: number;
  T: number;
  view: Viewport;
  fold: boolean;
  tokens: readonly string[];
  win: MatrixWindow;
  /** Column 0 for the rows of `win` (only when folded). */
  first: MatrixWindow | null;
  scale: ColourScale;
  /** The layer's sliding window (key j is masked for query i when i − j ≥ window), or null. */
  window: number | null;
  cursor: { q: number; k: number } | null;
  query: number | null;
}

export const MARGIN = { left: 104, top: 88, right: 70, bottom: 12 };
const STRIP = 10;
const GAP = 4;
const MASKED: [number, number, number] = [236, 236, 236];
const FONT = '11px system-ui, sans-serif';
const tickFormat = format('.2~g');

export interface HeatLayout {
  plot: { x0: number; y0: number; x1: number; y1: number };
  strip: { x0: number; x1: number } | null;
  xs: ScaleLinear<number, number>;
  ys: ScaleLinear<number, number>;
  xTicks: number[];
  yTicks: number[];
}

function indexTicks(s: ScaleLinear<number, number>, lo: number, hi: number, px: number): number[] {
  const cell = Math.abs(s(lo + 1) - s(lo));
  const first = Math.max(0, Math.floor(lo));
  const last = Math.ceil(hi) - 1;
  if (cell >= 11) return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
  return s
    .ticks(Math.max(2, Math.floor(px / 36)))
    .map((t) => Math.floor(t))
    .filter((t, i, a) => t >= first && t <= last && a.indexOf(t) === i);
}

export function heatLayout(f: Pick<HeatFrame, 'width' | 'height' | 'view' | 'fold'>): HeatLayout {
  const px0 = MARGIN.left + (f.fold ? STRIP + GAP : 0);
  const plot = { x0: px0, y0: MARGIN.top, x1: f.width - MARGIN.right, y1: f.height - MARGIN.bottom };
  const xs = scaleLinear().domain([f.view.x0, f.view.x1]).range([plot.x0, plot.x1]);
  const ys = scaleLinear().domain([f.view.y0, f.view.y1]).range([plot.y0, plot.y1]);
  return {
    plot,
    strip: f.fold ? { x0: MARGIN.left, x1: MARGIN.left + STRIP } : null,
    xs,
    ys,
    xTicks: indexTicks(xs, f.view.x0, f.view.x1, plot.x1 - plot.x0),
    yTicks: indexTicks(ys, f.view.y0, f.view.y1, plot.y1 - plot.y0),
  };
}

/** The matrix cell under a point, or null outside the plot (the strip is key 0). */
export function cellAt(f: HeatFrame, L: HeatLayout, x: number, y: number): { q: number; k: number } | null {
  if (y < L.plot.y0 || y >= L.plot.y1) return null;
  const q = Math.floor(L.ys.invert(y));
  if (q < 0 || q >= f.T) return null;
  if (L.strip && x >= L.strip.x0 && x < L.strip.x1) return { q, k: 0 };
  if (x < L.plot.x0 || x >= L.plot.x1) return null;
  const k = Math.floor(L.xs.invert(x));
  return k >= 0 && k < f.T ? { q, k } : null;
}

/** The exact value of a cell when the frame holds it (stride 1), else null. */
export function valueAt(f: HeatFrame, q: number, k: number): number | null {
  for (const w of [f.win, f.first]) {
    if (w?.stride !== 1) continue;
    const r = q - w.q0;
    const c = k - w.k0;
    if (r >= 0 && r < w.rows && c >= 0 && c < w.cols) return w.values[r * w.cols + c]!;
  }
  return null;
}

/**
 * Whether every query × key pair in cell (r, c) of a window is masked: its keys all come after its queries
 * (causal), or all lie at least `window` positions behind them (sliding window).
 */
export function maskedCell(w: MatrixWindow, r: number, c: number, window: number | null): boolean {
  const kFirst = w.k0 + c * w.stride;
  const qFirst = w.q0 + r * w.stride;
  if (kFirst > qFirst + w.stride - 1) return true;
  return window !== null && qFirst - (kFirst + w.stride - 1) >= window;
}

/** Whether one query → key pair is masked (the readout says so rather than showing a zero). */
export const maskedPair = (q: number, k: number, window: number | null): boolean => k > q || (window !== null && q - k >= window);

/** RGBA pixels of a window, one per cell: the colour scale's ramp, or greys (white 0 … black 1) without one. */
export function cellPixels(w: MatrixWindow, scale: ColourScale | null, window: number | null = null): ImageData {
  const img = new ImageData(Math.max(1, w.cols), Math.max(1, w.rows));
  const table = lut(scale?.scheme ?? 'viridis');
  for (let r = 0; r < w.rows; r++) {
    for (let c = 0; c < w.cols; c++) {
      const v = w.values[r * w.cols + c]!;
      const o = (r * img.width + c) * 4;
      if (maskedCell(w, r, c, window)) img.data.set(MASKED, o);
      else if (!scale) img.data.fill(Math.round(255 * (1 - Math.min(1, Math.max(0, v)))), o, o + 3);
      else {
        const i = Math.round(scale.t(v) * 255) * 3;
        img.data[o] = table[i]!;
        img.data[o + 1] = table[i + 1]!;
        img.data[o + 2] = table[i + 2]!;
      }
      img.data[o + 3] = 255;
    }
  }
  return img;
}

function pixelsOf(w: MatrixWindow, scale: ColourScale | null, window: number | null): HTMLCanvasElement {
  const img = cellPixels(w, scale, window);
  const cv = document.createElement('canvas');
  cv.width = img.width;
  cv.height = img.height;
  cv.getContext('2d')!.putImageData(img, 0, 0);
  return cv;
}

/** Draws the frame into a 2D context whose user space is CSS pixels (scale the context for PNG exports). */
export function drawHeatmap(g: CanvasRenderingContext2D, f: HeatFrame): HeatLayout {
  const L = heatLayout(f);
  const { plot } = L;
  g.save();
  g.fillStyle = '#fff';
  g.fillRect(0, 0, f.width, f.height);
  g.imageSmoothingEnabled = false;
  const blit = (w: MatrixWindow, grey: boolean, x0: number, x1: number | null) => {
    const src = pixelsOf(w, grey ? null : f.scale, f.window);
    const top = L.ys(w.q0);
    const h = L.ys(w.q0 + w.rows * w.stride) - top;
    const left = x1 === null ? L.xs(w.k0) : x0;
    const wd = x1 === null ? L.xs(w.k0 + w.cols * w.stride) - left : x1 - x0;
    g.drawImage(src, left, top, wd, h);
  };
  g.save();
  g.beginPath();
  g.rect(plot.x0, plot.y0, plot.x1 - plot.x0, plot.y1 - plot.y0);
  g.clip();
  blit(f.win, false, 0, null);
  if (f.query !== null) {
    g.strokeStyle = 'rgba(255,255,255,0.9)';
    g.lineWidth = 1;
    g.strokeRect(plot.x0 + 0.5, L.ys(f.query) + 0.5, plot.x1 - plot.x0 - 1, Math.max(1, L.ys(f.query + 1) - L.ys(f.query)) - 1);
  }
  g.restore();
  if (L.strip && f.first) {
    g.save();
    g.beginPath();
    g.rect(L.strip.x0, plot.y0, STRIP, plot.y1 - plot.y0);
    g.clip();
    blit(f.first, true, L.strip.x0, L.strip.x1);
    g.restore();
    g.strokeStyle = '#999';
    g.strokeRect(L.strip.x0 + 0.5, plot.y0 + 0.5, STRIP - 1, plot.y1 - plot.y0 - 1);
  }
  if (f.cursor) {
    const { q, k } = f.cursor;
    const x0 = k === 0 && L.strip ? L.strip.x0 : L.xs(k);
    const x1 = k === 0 && L.strip ? L.strip.x1 : L.xs(k + 1);
    g.strokeStyle = '#e4007c';
    g.lineWidth = 2;
    g.strokeRect(x0, L.ys(q), Math.max(2, x1 - x0), Math.max(2, L.ys(q + 1) - L.ys(q)));
  }
  // Axes: key labels along the top (rotated), query labels down the left.
  g.fillStyle = '#222';
  g.font = FONT;
  g.textBaseline = 'middle';
  g.textAlign = 'right';
  const yLabelX = (L.strip ? L.strip.x0 : plot.x0) - 4;
  for (const q of L.yTicks) g.fillText(`${tokenLabel(f.tokens[q] ?? '')} ${q}`, yLabelX, L.ys(q + 0.5));
  g.textAlign = 'left';
  for (const k of L.xTicks) {
    g.save();
    g.translate(L.xs(k + 0.5), plot.y0 - 4);
    g.rotate(-Math.PI / 3);
    g.fillText(`${k} ${tokenLabel(f.tokens[k] ?? '')}`, 0, 0);
    g.restore();
  }
  if (L.strip) {
    g.save();
    g.translate((L.strip.x0 + L.strip.x1) / 2, plot.y0 - 4);
    g.rotate(-Math.PI / 3);
    g.fillText(`0 ${tokenLabel(f.tokens[0] ?? '')} (folded)`, 0, 0);
    g.restore();
  }
  g.font = `bold ${FONT}`;
  g.textBaseline = 'top';
  g.fillText(f.title, 4, 4);
  g.font = FONT;
  g.fillText('keys →', 4, 20);
  g.fillText('queries ↓', 4, 34);
  g.fillStyle = `rgb(${MASKED.join(',')})`;
  g.fillRect(4, 50, 10, 10);
  g.strokeStyle = '#999';
  g.strokeRect(4.5, 50.5, 9, 9);
  g.fillStyle = '#222';
  // Two short lines: the margin left of the rotated key labels is ~100 px wide.
  const [what, why] = maskedLabel(f.window);
  g.fillText(what, 18, 50);
  if (why) g.fillText(why, 4, 64);
  drawLegend(g, f, L);
  g.restore();
  return L;
}

/** The legend for the neutral cells (masked, not small): a label, and the sliding window where there is one. */
export function maskedLabel(window: number | null): [string, string | null] {
  return ['masked', window === null ? null : `sliding window ${window}`];
}

function drawLegend(g: CanvasRenderingContext2D, f: HeatFrame, L: HeatLayout): void {
  const x = L.plot.x1 + 10;
  const { y0, y1 } = L.plot;
  const table = lut(f.scale.scheme);
  for (let y = y0; y < y1; y++) {
    const i = Math.round(((y1 - y) / (y1 - y0)) * 255) * 3;
    g.fillStyle = `rgb(${table[i]},${table[i + 1]},${table[i + 2]})`;
    g.fillRect(x, y, 10, 1);
  }
  g.fillStyle = '#222';
  g.textAlign = 'left';
  g.textBaseline = 'middle';
  for (const v of f.scale.ticks(5)) g.fillText(tickFormat(v), x + 13, y1 - f.scale.t(v) * (y1 - y0));
  g.textBaseline = 'bottom';
  g.fillText(f.scale.mode, x, y0 - 4);
}

/** An SVG document of the frame: cells as rects (or one embedded image for large windows), labels as text. */
export function heatmapSvg(f: HeatFrame): string {
  const L = heatLayout(f);
  const { plot } = L;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<title>${escapeXml(`Attention heatmap ${f.title}`)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<clipPath id="plot"><rect x="${plot.x0}" y="${plot.y0}" width="${plot.x1 - plot.x0}" height="${plot.y1 - plot.y0}"/></clipPath>`,
    '<g clip-path="url(#plot)" shape-rendering="crispEdges">',
  ];
  const w = f.win;
  if (w.rows * w.cols <= 40_000) {
    for (let r = 0; r < w.rows; r++) {
      for (let c = 0; c < w.cols; c++) {
        const x = L.xs(w.k0 + c * w.stride);
        const y = L.ys(w.q0 + r * w.stride);
        const fill = maskedCell(w, r, c, f.window) ? `rgb(${MASKED.join(',')})` : f.scale.css(w.values[r * w.cols + c]!);
        out.push(
          `<rect x="${r2(x)}" y="${r2(y)}" width="${r2(L.xs(w.k0 + (c + 1) * w.stride) - x)}" height="${r2(L.ys(w.q0 + (r + 1) * w.stride) - y)}" fill="${fill}"/>`,
        );
      }
    }
  } else {
    const src = pixelsOf(w, f.scale, f.window);
    const x = L.xs(w.k0);
    const y = L.ys(w.q0);
    out.push(
      `<image image-rendering="pixelated" preserveAspectRatio="none" x="${r2(x)}" y="${r2(y)}" width="${r2(L.xs(w.k0 + w.cols * w.stride) - x)}" height="${r2(L.ys(w.q0 + w.rows * w.stride) - y)}" href="${src.toDataURL('image/png')}"/>`,
    );
  }
  out.push('</g>');
  if (L.strip && f.first) {
    const s = f.first;
    for (let r = 0; r < s.rows; r++) {
      const y = L.ys(s.q0 + r * s.stride);
      const g = Math.round(255 * (1 - Math.min(1, Math.max(0, s.values[r]!))));
      out.push(`<rect x="${L.strip.x0}" y="${r2(y)}" width="${STRIP}" height="${r2(L.ys(s.q0 + (r + 1) * s.stride) - y)}" fill="rgb(${g},${g},${g})"/>`);
    }
  }
  const yLabelX = (L.strip ? L.strip.x0 : plot.x0) - 4;
  for (const q of L.yTicks)
    out.push(
      `<text x="${yLabelX}" y="${r2(L.ys(q + 0.5))}" text-anchor="end" dominant-baseline="middle">${escapeXml(`${tokenLabel(f.tokens[q] ?? '')} ${q}`)}</text>`,
    );
  for (const k of L.xTicks) {
    out.push(
      `<text transform="translate(${r2(L.xs(k + 0.5))},${plot.y0 - 4}) rotate(-60)" dominant-baseline="middle">${escapeXml(`${k} ${tokenLabel(f.tokens[k] ?? '')}`)}</text>`,
    );
  }
  out.push(`<text x="4" y="14" font-weight="bold">${escapeXml(f.title)}</text>`);
  out.push(`<rect x="4.5" y="50.5" width="9" height="9" fill="rgb(${MASKED.join(',')})" stroke="#999"/>`);
  const [what, why] = maskedLabel(f.window);
  out.push(`<text x="18" y="55" dominant-baseline="middle">${what}</text>`);
  if (why) out.push(`<text x="4" y="69" dominant-baseline="middle">${why}</text>`);
  const x = plot.x1 + 10;
  out.push('<defs><linearGradient id="ramp" x1="0" y1="1" x2="0" y2="0">');
  for (let i = 0; i <= 10; i++) out.push(`<stop offset="${i / 10}" stop-color="${rampCss(f.scale, i / 10)}"/>`);
  out.push('</linearGradient></defs>');
  out.push(`<rect x="${x}" y="${plot.y0}" width="10" height="${plot.y1 - plot.y0}" fill="url(#ramp)"/>`);
  for (const v of f.scale.ticks(5)) {
    out.push(`<text x="${x + 13}" y="${r2(plot.y1 - f.scale.t(v) * (plot.y1 - plot.y0))}" dominant-baseline="middle">${tickFormat(v)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

function rampCss(scale: ColourScale, t: number): string {
  const table = lut(scale.scheme);
  const i = Math.round(t * 255) * 3;
  return `rgb(${table[i]},${table[i + 1]},${table[i + 2]})`;
}

function r2(v: number): string {
  return String(Math.round(v * 100) / 100);
}
