/**
 * The successor panel's task × task matrix of one head's OV logits on canvas (viridis, colour-blind safe,
 * linear from the block's smallest to its largest logit, with a legend strip), and the panel's exports. The
 * numbers drawn and exported go through formatValue, so they are the same strings.
 */
import { lut } from './colour.js';
import { formatValue } from './format.js';

export const LEGEND_H = 38;

export interface SuccessorMatrix {
  /** Row-major n × n: row t, column j = the OV logit of member j for member t. */
  values: Float32Array;
  n: number;
  /** Column of each row's successor (−1: none), outlined so the successor diagonal can be checked by eye. */
  successorOf: number[];
  /** The picked row (the token picker), outlined across. */
  picked: number;
  /** Token texts for the row and column labels (drawn when the cells are big enough). */
  labels: readonly string[];
}

export function matrixRange(values: Float32Array): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return Number.isFinite(lo) ? [lo, hi > lo ? hi : lo + 1] : [0, 1];
}

/** Cell size, the label margins (left, top; 0 when the cells are too small for text) and the canvas size. */
export function matrixSize(n: number): { cell: number; left: number; top: number; width: number; height: number } {
  const cell = Math.max(2, Math.min(32, Math.floor(360 / Math.max(1, n))));
  const margin = cell >= 10 ? 78 : 0;
  // Rotated column labels reach past the last column: room on the right for them.
  return { cell, left: margin, top: margin, width: Math.max(220, margin + cell * n + (margin ? 44 : 0)), height: margin + cell * n + LEGEND_H };
}

function rgb(t: number): string {
  const l = lut('viridis');
  const i = Math.round(Math.min(1, Math.max(0, t)) * 255) * 3;
  return `rgb(${l[i]},${l[i + 1]},${l[i + 2]})`;
}

export function drawSuccessorMatrix(g: CanvasRenderingContext2D, m: SuccessorMatrix): void {
  const { cell, left, top, width, height } = matrixSize(m.n);
  const [lo, hi] = matrixRange(m.values);
  g.clearRect(0, 0, width, height);
  g.fillStyle = '#fff';
  g.fillRect(0, 0, width, height);
  if (left > 0) {
    g.fillStyle = '#222';
    g.font = `${Math.min(12, cell - 1)}px system-ui, sans-serif`;
    g.textBaseline = 'middle';
    m.labels.forEach((text, i) => {
      g.textAlign = 'right';
      g.fillText(text.trim().slice(0, 11), left - 4, top + (i + 0.5) * cell);
      g.save();
      g.translate(left + (i + 0.5) * cell, top - 4);
      g.rotate(-Math.PI / 3);
      g.textAlign = 'left';
      g.fillText(text.trim().slice(0, 11), 0, 0);
      g.restore();
    });
    g.textBaseline = 'alphabetic';
  }
  g.save();
  g.translate(left, top);
  for (let i = 0; i < m.n; i++) {
    for (let j = 0; j < m.n; j++) {
      g.fillStyle = rgb((m.values[i * m.n + j]! - lo) / (hi - lo));
      g.fillRect(j * cell, i * cell, cell, cell);
    }
  }
  // Each row's successor cell: a thin red-orange (Okabe–Ito vermilion) mark when the cells are big enough.
  if (cell >= 6) {
    g.strokeStyle = '#D55E00';
    g.lineWidth = 1.5;
    m.successorOf.forEach((j, i) => {
      if (j >= 0) g.strokeRect(j * cell + 1, i * cell + 1, cell - 2, cell - 2);
    });
  }
  if (m.picked >= 0 && m.picked < m.n) {
    g.strokeStyle = '#000';
    g.lineWidth = 2;
    g.strokeRect(1, m.picked * cell, m.n * cell - 2, cell);
  }
  g.restore();
  const y = top + m.n * cell + 6;
  const w = width - 8;
  for (let x = 0; x < w; x++) {
    g.fillStyle = rgb(x / (w - 1));
    g.fillRect(4 + x, y, 1, 10);
  }
  g.fillStyle = '#222';
  g.font = '11px system-ui, sans-serif';
  g.textAlign = 'left';
  g.fillText(formatValue(lo), 4, y + 24);
  g.textAlign = 'right';
  g.fillText(formatValue(hi), width - 4, y + 24);
  g.textAlign = 'center';
  g.fillText('OV logit', width / 2, y + 24);
}

export interface TopSuccessor {
  text: string;
  token: number;
  logit: number;
}

/** What the panel shows of one head, as the exports write it. */
export interface SuccessorExport {
  model: string;
  variant: string;
  layer: number;
  head: number;
  score: number;
  tasks: { id: string; label: string; success: number }[];
  task: { id: string; members: { text: string; token: number }[]; values: Float32Array };
  picked: { text: string; token: number; top: TopSuccessor[] } | null;
  behaviour: Record<string, unknown> | null;
}

const num = (v: number) => Number(formatValue(v));

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The drawn matrix: header `token,<member texts>`, one row per member, values as the readout writes them. */
export function successorCsv(e: SuccessorExport): string {
  const m = e.task.members;
  const lines = [['token', ...m.map((x) => x.text)].map(csvField).join(',')];
  m.forEach((x, i) => {
    lines.push([csvField(x.text), ...m.map((_, j) => formatValue(e.task.values[i * m.length + j]!))].join(','));
  });
  return `${lines.join('\n')}\n`;
}

export function successorJson(e: SuccessorExport): string {
  const n = e.task.members.length;
  return `${JSON.stringify(
    {
      model: e.model,
      variant: e.variant,
      layer: e.layer,
      head: e.head,
      score: num(e.score),
      tasks: e.tasks.map((t) => ({ ...t, success: num(t.success) })),
      task: {
        id: e.task.id,
        tokens: e.task.members,
        values: Array.from({ length: n }, (_, i) => Array.from(e.task.values.subarray(i * n, (i + 1) * n), num)),
      },
      picked: e.picked && { ...e.picked, top: e.picked.top.map((t) => ({ ...t, logit: num(t.logit) })) },
      // DLA values as drawn (formatValue); attention shares as numbers (drawn as percentages).
      behaviour: e.behaviour && roundDla(e.behaviour),
    },
    null,
    1,
  )}\n`;
}

function roundDla(b: Record<string, unknown>): Record<string, unknown> {
  const prompts = b['prompts'] as { successor: number; item: number }[] | undefined;
  const out: Record<string, unknown> = { ...b };
  for (const k of ['margin', 'controlMargin']) if (typeof b[k] === 'number') out[k] = num(b[k] as number);
  if (prompts) out['prompts'] = prompts.map((p) => ({ ...p, successor: num(p.successor), item: num(p.item) }));
  return out;
}

/** A label for the canvas's accessible name. */
export function matrixLabel(task: string, layer: number, head: number, n: number): string {
  return `OV logits of L${layer}H${head} on ${task}: ${n} × ${n}, rows token t, columns candidate successor`;
}
