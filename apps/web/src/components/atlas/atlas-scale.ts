/**
 * The atlas's colour scale (viridis, colour-blind safe) over a score's domain, its legend as SVG, and the
 * map as a standalone SVG for export. The on-screen map, the legend and the export share these functions.
 */
import type { AtlasResult } from '@headscope/analysis';
import { scaleLinear } from 'd3';
import { lut } from '../../lib/colour.js';
import { escapeXml } from '../../lib/export.js';
import { formatValue, headName } from '../../lib/format.js';

export interface AtlasScale {
  domain: [number, number];
  t(v: number): number;
  css(v: number): string;
  /** Readable text colour on top of `css(v)`. */
  ink(v: number): string;
  ticks(n: number): number[];
}

export function atlasScale(domain: [number, number]): AtlasScale {
  const s = scaleLinear().domain(domain).range([0, 1]).clamp(true);
  const table = lut('viridis');
  const css = (v: number) => {
    if (!Number.isFinite(v)) return '#ddd';
    const i = Math.round(s(v) * 255) * 3;
    return `rgb(${table[i]}, ${table[i + 1]}, ${table[i + 2]})`;
  };
  return { domain, t: (v) => s(v), css, ink: (v) => (Number.isFinite(v) && s(v) > 0.55 ? '#000' : '#fff'), ticks: (n) => s.ticks(n) };
}

export const LEGEND = { width: 300, height: 44, bar: 12, pad: 10 };

/** The legend: the ramp with ticks, the score's name and the threshold marked. Used on screen and in the SVG export. */
export function legendSvgBody(scale: AtlasScale, label: string, threshold: number | undefined, id: string): string {
  const { width, bar, pad } = LEGEND;
  const w = width - 2 * pad;
  const stops = Array.from({ length: 17 }, (_, i) => {
    const v = scale.domain[0] + ((scale.domain[1] - scale.domain[0]) * i) / 16;
    return `<stop offset="${(i / 16) * 100}%" stop-color="${scale.css(v)}"/>`;
  }).join('');
  const x = (v: number) => pad + scale.t(v) * w;
  const ticks = scale
    .ticks(5)
    .map(
      (v) =>
        `<line x1="${x(v)}" x2="${x(v)}" y1="${14 + bar}" y2="${18 + bar}" stroke="#333"/><text x="${x(v)}" y="${30 + bar}" text-anchor="middle">${formatValue(v)}</text>`,
    )
    .join('');
  const mark =
    threshold === undefined
      ? ''
      : `<line x1="${x(threshold)}" x2="${x(threshold)}" y1="12" y2="${16 + bar}" stroke="#d55e00" stroke-width="2"/><text x="${width - pad}" y="10" text-anchor="end" fill="#a33b00">| threshold ${formatValue(threshold)}</text>`;
  return (
    `<defs><linearGradient id="${id}">${stops}</linearGradient></defs>` +
    `<text x="${pad}" y="10">${escapeXml(label)}</text>` +
    `<rect x="${pad}" y="14" width="${w}" height="${bar}" fill="url(#${id})" stroke="#333" stroke-width="0.5"/>${ticks}${mark}`
  );
}

/** The map as a standalone SVG: one square per head, its value written in it, heads over the threshold outlined, and the legend. */
export function atlasMapSvg(r: AtlasResult, key: string, label: string, scale: AtlasScale, threshold: number | undefined): string {
  const cell = 36;
  const left = 34;
  const top = 20;
  const gridH = r.layers * cell;
  const width = Math.max(left + r.heads * cell + 10, LEGEND.width + 10);
  const height = top + gridH + 12 + LEGEND.height;
  const parts: string[] = [];
  for (let h = 0; h < r.heads; h++) parts.push(`<text x="${left + h * cell + cell / 2}" y="${top - 6}" text-anchor="middle">H${h}</text>`);
  for (const row of r.table) {
    const v = row.scores[key] ?? Number.NaN;
    const x = left + row.head * cell;
    const y = top + row.layer * cell;
    if (row.head === 0) parts.push(`<text x="${left - 4}" y="${y + cell / 2 + 4}" text-anchor="end">L${row.layer}</text>`);
    const over = threshold !== undefined && v > threshold;
    parts.push(
      `<rect x="${x}" y="${y}" width="${cell - 2}" height="${cell - 2}" fill="${scale.css(v)}"${over ? ' stroke="#d55e00" stroke-width="3"' : ''}><title>${headName(row.layer, row.head)}: ${formatValue(v)}</title></rect>`,
      `<text x="${x + (cell - 2) / 2}" y="${y + cell / 2 + 3}" text-anchor="middle" font-size="9" fill="${scale.ink(v)}">${Number.isFinite(v) ? v.toFixed(2) : '–'}</text>`,
    );
  }
  const legend = `<g transform="translate(0, ${top + gridH + 8})">${legendSvgBody(scale, label, threshold, 'atlas-legend-export')}</g>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10"><rect width="100%" height="100%" fill="#fff"/>${parts.join('')}${legend}</svg>`;
}

/** An SVG string rasterised to PNG at 2× (for the PNG exports). */
export async function svgToPng(svg: string): Promise<Blob> {
  const img = new Image();
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    img.src = url;
    await img.decode();
    const cv = document.createElement('canvas');
    cv.width = img.naturalWidth * 2;
    cv.height = img.naturalHeight * 2;
    const g = cv.getContext('2d')!;
    g.scale(2, 2);
    g.drawImage(img, 0, 0);
    return await new Promise((resolve, reject) => cv.toBlob((b) => (b ? resolve(b) : reject(new Error('the image could not be encoded as PNG'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}
