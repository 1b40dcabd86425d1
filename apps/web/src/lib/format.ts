/** Number and size formatting shared by every view and export. */
import { formatSize } from '@headscope/models';

/**
 * The shortest decimal that reads back as the same float32: what the heatmap readout shows and what the
 * CSV/JSON exports write, so a drawn value and an exported value are the same string.
 */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return String(Number(s));
  }
  return String(f);
}

/** Decimal units (KB = 1000 B), as download sizes are usually shown: the engine's own messages use the same. */
export const formatBytes = formatSize;

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** 1234567 → "1.23M"; small counts stay exact. */
export function formatCount(n: number): string {
  if (n < 1e3) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 2 : 1)}K`;
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)}M`;
  return `${(n / 1e9).toFixed(2)}B`;
}

export function formatPercent(p: number): string {
  return `${(100 * p).toFixed(p >= 0.1 ? 1 : 2)}%`;
}

/** A token's text for a label: whitespace made visible, long pieces cut. */
export function tokenLabel(text: string, max = 12): string {
  const shown = text.replace(/ /g, '·').replace(/\n/g, '↵').replace(/\t/g, '⇥');
  return shown.length > max ? `${shown.slice(0, max - 1)}…` : shown || '∅';
}

export function headName(layer: number, head: number): string {
  return `L${layer}H${head}`;
}
