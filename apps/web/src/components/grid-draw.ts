/** The head grid as pixels: per-head thumbnails (greys, normalised per head) framed in the metric's colour; canvas and SVG exports. */
import type { HeadRef } from '../hooks/grid-navigation.js';
import type { ColourScale } from '../lib/colour.js';
import { escapeXml } from '../lib/export.js';
import { formatValue, headName } from '../lib/format.js';

export interface GridFrame {
  nLayers: number;
  nHeads: number;
  /** [nLayers, nHeads, thumb, thumb] */
  thumbs: Float32Array;
  thumb: number;
  /** Metric per head, [nLayers × nHeads]. */
  values: Float32Array;
  metricLabel: string;
  scale: ColourScale;
  selected: HeadRef | null;
}

const CELL = 44;
const BORDER = 5;
const LEFT = 36;
const TOP = 36;

/** A head's thumbnail: dark background, brighter where attention is larger (relative to the head's own maximum). */
export function thumbPixels(thumbs: Float32Array, index: number, size: number): ImageData {
  const img = new ImageData(size, size);
  const base = index * size * size;
  let max = 0;
  for (let i = 0; i < size * size; i++) max = Math.max(max, thumbs[base + i]!);
  for (let i = 0; i < size * size; i++) {
    const v = max > 0 ? thumbs[base + i]! / max : 0;
    const g = Math.round(24 + 231 * Math.sqrt(v));
    img.data[i * 4] = g;
    img.data[i * 4 + 1] = g;
    img.data[i * 4 + 2] = g;
    img.data[i * 4 + 3] = 255;
  }
  return img;
}

function thumbCanvas(f: GridFrame, index: number): HTMLCanvasElement {
  const cv = document.createElement('canvas');
  cv.width = f.thumb;
  cv.height = f.thumb;
  cv.getContext('2d')!.putImageData(thumbPixels(f.thumbs, index, f.thumb), 0, 0);
  return cv;
}

export function gridSize(f: GridFrame): { width: number; height: number } {
  return { width: LEFT + f.nHeads * CELL + 8, height: TOP + f.nLayers * CELL + 28 };
}

export function drawGrid(g: CanvasRenderingContext2D, f: GridFrame): void {
  const { width, height } = gridSize(f);
  g.fillStyle = '#fff';
  g.fillRect(0, 0, width, height);
  g.imageSmoothingEnabled = false;
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#222';
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  for (let h = 0; h < f.nHeads; h++) g.fillText(`H${h}`, LEFT + h * CELL + CELL / 2, TOP - 10);
  for (let l = 0; l < f.nLayers; l++) g.fillText(`L${l}`, LEFT / 2, TOP + l * CELL + CELL / 2);
  for (let l = 0; l < f.nLayers; l++) {
    for (let h = 0; h < f.nHeads; h++) {
      const i = l * f.nHeads + h;
      const x = LEFT + h * CELL;
      const y = TOP + l * CELL;
      g.fillStyle = f.scale.css(f.values[i]!);
      g.fillRect(x + 1, y + 1, CELL - 2, CELL - 2);
      g.drawImage(thumbCanvas(f, i), x + 1 + BORDER, y + 1 + BORDER, CELL - 2 - 2 * BORDER, CELL - 2 - 2 * BORDER);
    }
  }
  if (f.selected) {
    g.strokeStyle = '#e4007c';
    g.lineWidth = 2;
    g.strokeRect(LEFT + f.selected.head * CELL, TOP + f.selected.layer * CELL, CELL, CELL);
  }
  g.fillStyle = '#222';
  g.textAlign = 'left';
  g.fillText(`Frame colour: ${f.metricLabel} (${formatValue(f.scale.domain[0])} … ${formatValue(f.scale.domain[1])})`, 4, height - 12);
}

export function gridSvg(f: GridFrame): string {
  const { width, height } = gridSize(f);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<title>Attention heads: ${escapeXml(f.metricLabel)}</title>`,
    '<rect width="100%" height="100%" fill="#fff"/>',
  ];
  for (let h = 0; h < f.nHeads; h++) out.push(`<text x="${LEFT + h * CELL + CELL / 2}" y="${TOP - 10}" text-anchor="middle">H${h}</text>`);
  for (let l = 0; l < f.nLayers; l++)
    out.push(`<text x="${LEFT / 2}" y="${TOP + l * CELL + CELL / 2}" text-anchor="middle" dominant-baseline="middle">L${l}</text>`);
  for (let l = 0; l < f.nLayers; l++) {
    for (let h = 0; h < f.nHeads; h++) {
      const i = l * f.nHeads + h;
      const x = LEFT + h * CELL;
      const y = TOP + l * CELL;
      out.push(`<g><title>${headName(l, h)}: ${escapeXml(f.metricLabel)} ${formatValue(f.values[i]!)}</title>`);
      out.push(`<rect x="${x + 1}" y="${y + 1}" width="${CELL - 2}" height="${CELL - 2}" fill="${f.scale.css(f.values[i]!)}"/>`);
      const s = CELL - 2 - 2 * BORDER;
      out.push(
        `<image image-rendering="pixelated" x="${x + 1 + BORDER}" y="${y + 1 + BORDER}" width="${s}" height="${s}" href="${thumbCanvas(f, i).toDataURL('image/png')}"/></g>`,
      );
    }
  }
  if (f.selected)
    out.push(
      `<rect x="${LEFT + f.selected.head * CELL}" y="${TOP + f.selected.layer * CELL}" width="${CELL}" height="${CELL}" fill="none" stroke="#e4007c" stroke-width="2"/>`,
    );
  out.push(
    `<text x="4" y="${height - 12}">Frame colour: ${escapeXml(f.metricLabel)} (${formatValue(f.scale.domain[0])} … ${formatValue(f.scale.domain[1])})</text>`,
  );
  out.push('</svg>');
  return out.join('\n');
}
