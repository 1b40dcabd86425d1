/**
 * What the retrieval lab draws and exports, computed once: the NIAH accuracy grid (depth rows × length
 * columns, as in the NIAH literature), the text drawn in each cell, its colour on a fixed 0–100 % viridis
 * ramp (colour-blind-safe), and the CSV/JSON exports, which carry the very numbers the cells show.
 */
import { type CellAccuracy, summariseRetrieval } from '@headscope/analysis';
import type { RetrievalTestRow } from '../engine/retrieval-protocol.js';
import { lut } from './colour.js';

export interface NiahCell {
  length: number;
  depth: number;
  /** Tests run in this cell so far, and how many retrieved the answer; absent: none run yet. */
  tests: number;
  retrieved: number;
  /** retrieved / tests (NaN while none ran). */
  accuracy: number;
}

export interface NiahGrid {
  lengths: number[];
  depths: number[];
  /** cells[d][l]: depth index d (row), length index l (column). */
  cells: NiahCell[][];
}

export function niahGrid(lengths: readonly number[], depths: readonly number[], cells: readonly CellAccuracy[]): NiahGrid {
  const byKey = new Map(cells.map((c) => [`${c.length}:${c.depth}`, c]));
  return {
    lengths: [...lengths],
    depths: [...depths],
    cells: depths.map((depth) =>
      lengths.map((length) => {
        const c = byKey.get(`${length}:${depth}`);
        return c
          ? { length, depth, tests: c.tests, retrieved: c.retrieved, accuracy: c.accuracy }
          : { length, depth, tests: 0, retrieved: 0, accuracy: Number.NaN };
      }),
    ),
  };
}

/** The grid and per-head scores of the tests so far (results stream in). */
export function liveSummary(rows: readonly RetrievalTestRow[], heads: number) {
  return summariseRetrieval(
    rows.filter((r) => r.phase === 'grid'),
    heads,
  );
}

/** What a cell shows: the accuracy in whole percent ("67%"), or "…" while it has no test. */
export function cellText(c: NiahCell): string {
  return c.tests === 0 ? '…' : `${Math.round(100 * c.accuracy)}%`;
}

/** The accuracy in whole percent as drawn (null while the cell has no test). */
export function cellPercent(c: NiahCell): number | null {
  return c.tests === 0 ? null : Math.round(100 * c.accuracy);
}

const PENDING: [number, number, number] = [221, 221, 221];

/** RGB of a cell: viridis over 0–100 % (fixed, so colours compare across runs); light grey while pending. */
export function cellRgb(c: NiahCell): [number, number, number] {
  if (c.tests === 0) return PENDING;
  return rampRgb(c.accuracy);
}

export function rampRgb(t: number): [number, number, number] {
  const table = lut('viridis');
  const i = Math.round(Math.min(1, Math.max(0, t)) * 255) * 3;
  return [table[i]!, table[i + 1]!, table[i + 2]!];
}

export const css = ([r, g, b]: [number, number, number]) => `rgb(${r}, ${g}, ${b})`;

/** Black text on the bright end of viridis, white on the dark end. */
export function textColour([r, g, b]: [number, number, number]): string {
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 140 ? '#000' : '#fff';
}

/** One line per cell: length, depth, tests, retrieved, accuracy (the fraction) and accuracy_percent (as drawn). */
export function niahCsv(grid: NiahGrid): string {
  const lines = ['length,depth,tests,retrieved,accuracy,accuracy_percent'];
  for (const row of grid.cells)
    for (const c of row) lines.push([c.length, c.depth, c.tests, c.retrieved, c.tests ? c.accuracy : '', cellPercent(c) ?? ''].join(','));
  return `${lines.join('\n')}\n`;
}

export interface NiahJsonMeta {
  model: string;
  tests: number;
  counted: number;
  needles: number;
  maxNewTokens: number;
  /** Top heads by retrieval score, when any test counted. */
  heads: { layer: number; head: number; retrieval: number }[];
  masking?: {
    baseline: number;
    top: { heads: { layer: number; head: number }[]; accuracy: number };
    random: { heads: { layer: number; head: number }[]; accuracy: number };
  };
}

export function niahJson(grid: NiahGrid, meta: NiahJsonMeta): string {
  const cells = grid.cells.flat().map((c) => ({
    length: c.length,
    depth: c.depth,
    tests: c.tests,
    retrieved: c.retrieved,
    accuracy: c.tests ? c.accuracy : null,
    accuracy_percent: cellPercent(c),
  }));
  return `${JSON.stringify({ ...meta, lengths: grid.lengths, depths: grid.depths, cells }, null, 1)}\n`;
}

/** The K best heads by score, best first (ties → lower index). */
export function topHeadsOf(retrieval: ArrayLike<number>, nHeads: number, k: number): { layer: number; head: number; retrieval: number }[] {
  return Array.from({ length: retrieval.length }, (_, i) => i)
    .sort((a, b) => retrieval[b]! - retrieval[a]! || a - b)
    .slice(0, k)
    .map((i) => ({ layer: Math.floor(i / nHeads), head: i % nHeads, retrieval: retrieval[i]! }));
}

/** "1:05" from milliseconds. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
