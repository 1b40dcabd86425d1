/** Exports of what the views draw: a head's matrix as CSV/JSON, and downloads of blobs (PNG, SVG, safetensors). */
import { formatValue } from './format.js';

export interface MatrixExport {
  model: string;
  layer: number;
  head: number;
  ids: readonly number[];
  tokens: readonly string[];
  /** Row-major [T, T] (queries × keys). */
  values: Float32Array;
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Header `query,token,0,1,…` (key positions), then one row per query: its position, its token text and
 * the T values, written with the same formatting as the heatmap readout.
 */
export function matrixCsv(m: MatrixExport): string {
  const T = m.tokens.length;
  const lines = [['query', 'token', ...Array.from({ length: T }, (_, k) => String(k))].join(',')];
  for (let q = 0; q < T; q++) {
    const row = [String(q), csvField(m.tokens[q] ?? '')];
    for (let k = 0; k < T; k++) row.push(formatValue(m.values[q * T + k]!));
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}

export function matrixJson(m: MatrixExport): string {
  const T = m.tokens.length;
  const values: number[][] = [];
  for (let q = 0; q < T; q++) values.push(Array.from(m.values.subarray(q * T, (q + 1) * T), (v) => Number(formatValue(v))));
  return `${JSON.stringify({ model: m.model, layer: m.layer, head: m.head, tokens: m.tokens.map((text, i) => ({ id: m.ids[i], text })), values })}\n`;
}

/** Starts a download of `data` as `filename`. */
export function download(data: Blob, filename: string): void {
  const url = URL.createObjectURL(data);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function canvasBlob(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the canvas could not be encoded as PNG'))), 'image/png'));
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A file-name-safe stem: "headscope-tiny_L1H2". */
export function fileStem(model: string, suffix: string): string {
  return `${model.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-|-$/g, '') || 'model'}_${suffix}`;
}
