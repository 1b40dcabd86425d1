/**
 * What the head atlas draws, as plain functions of the AtlasResult: each score's colour domain and
 * threshold, the findings table's rows (sorted, filtered, as the strings shown) and its CSV, which is
 * written from those same strings so that the exported table equals the drawn one.
 */
import { type AtlasHead, type AtlasResult, DETECTORS, type Finding, SCORES, type ScoreSpec } from '@headscope/analysis';
import type { FindingColumn } from '../state/atlas-store.js';
import { formatValue, headName, tokenLabel } from './format.js';

export const scoreLabel = (key: string): string => SCORES.find((s) => s.key === key)?.label ?? key;

/** The scores a result has values for (the successor score only where the weights were analysed). */
export function availableScores(r: AtlasResult): ScoreSpec[] {
  return SCORES.filter((s) => r.table.some((row) => Number.isFinite(row.scores[s.key])));
}

/** The detector threshold a score is flagged above (undefined: no finding, or a relative α/N threshold that varies with the prompt). */
export function thresholdOf(r: AtlasResult, key: string): number | undefined {
  const d = DETECTORS.find((x) => x.finding?.score === key);
  if (!d?.finding) return undefined;
  if (d.finding.kind === 'hidden-sink' && r.settings['hidden_mode'] === 'relative') return undefined;
  const v = r.settings[d.finding.threshold];
  return typeof v === 'number' ? v : undefined;
}

/** The colour domain: the registry's range, widened to the values present. */
export function domainOf(r: AtlasResult, key: string): [number, number] {
  const spec = SCORES.find((s) => s.key === key);
  let lo = spec?.range[0] ?? 0;
  let hi = spec?.range[1] ?? 1;
  for (const row of r.table) {
    const v = row.scores[key];
    if (v === undefined || !Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi > lo ? hi : lo + 1];
}

export const rowOf = (r: AtlasResult, layer: number, head: number): AtlasHead | undefined => r.table[layer * r.heads + head];

/** Short evidence text of a finding: tokens and counts for sinks, the TransformerLens scores for probe heads, tasks for successor heads. */
export function evidenceText(f: Finding): string {
  const e = f.evidence ?? {};
  if (f.kind === 'first-token-sink') return `imp[0] > ε on ${e['prompts_over_epsilon']} of ${e['prompts']} prompts`;
  if (f.kind === 'hidden-sink') {
    const tokens = (e['tokens'] as { token: string; hits: number }[] | undefined) ?? [];
    return `${tokens.map((t) => `“${tokenLabel(t.token)}” ×${t.hits}`).join(', ')} (${e['hits']} hits)`;
  }
  if (f.kind === 'retrieval') return `${e['counted_tests']} of ${e['tests']} needle tests retrieved the answer (retrieval lab)`;
  if (f.kind === 'successor') {
    const tasks = (e['tasks'] as Record<string, number> | undefined) ?? {};
    return Object.entries(tasks)
      .map(([k, v]) => `${k} ${formatValue(v)}`)
      .join(', ');
  }
  const fmt = (v: unknown) => (typeof v === 'number' ? formatValue(v) : '–');
  return `TL on the probe ${fmt(e['probe_tl'])}, on the prompts ${fmt(e['prompts_tl'])}`;
}

export interface FindingRow {
  finding: Finding;
  /** The cells as shown: kind, head, score, threshold, evidence. */
  cells: [string, string, string, string, string];
}

export const FINDING_COLUMNS: { key: FindingColumn | 'evidence'; label: string }[] = [
  { key: 'kind', label: 'Kind' },
  { key: 'head', label: 'Head' },
  { key: 'score', label: 'Score' },
  { key: 'threshold', label: 'Threshold' },
  { key: 'evidence', label: 'Evidence' },
];

/** The table's rows: filtered to `kind` ('all' keeps every kind), sorted by `column`; ties keep the registry's order. */
export function findingRows(findings: readonly Finding[], kind: string, sort: { column: FindingColumn; descending: boolean }): FindingRow[] {
  const value = (f: Finding): number | string =>
    sort.column === 'kind' ? f.kind : sort.column === 'head' ? f.layer * 1e6 + f.head : sort.column === 'score' ? f.score : f.threshold;
  const rows = findings.filter((f) => kind === 'all' || f.kind === kind).map((f, i) => ({ f, i }));
  rows.sort((a, b) => {
    const va = value(a.f);
    const vb = value(b.f);
    const c = va < vb ? -1 : va > vb ? 1 : 0;
    return (sort.descending ? -c : c) || a.i - b.i;
  });
  return rows.map(({ f }) => ({
    finding: f,
    cells: [f.kind, headName(f.layer, f.head), formatValue(f.score), formatValue(f.threshold), evidenceText(f)],
  }));
}

const csvField = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The findings table as shown (same rows, order and strings). */
export function findingRowsCsv(rows: readonly FindingRow[]): string {
  return `${[FINDING_COLUMNS.map((c) => c.key), ...rows.map((r) => r.cells)].map((cells) => cells.map(csvField).join(',')).join('\n')}\n`;
}

/**
 * The prompt that shows a head's evidence best: the one where its score for `key` is highest when the score
 * comes from the prompts, else the one where it puts the most attention on its top key.
 */
export function evidencePrompt(row: AtlasHead, key: string): number {
  const values = row.perPrompt[key] ?? row.perPrompt['first_token_sink'] ?? [];
  if (SCORES.find((s) => s.key === key)?.source !== 'prompts') return row.topTokens[0]?.prompt ?? 0;
  let best = 0;
  values.forEach((v, i) => {
    if (v > values[best]!) best = i;
  });
  return best;
}

/**
 * Keyboard walk over the scatter's points: Left/Right step to the head with the next smaller/larger x score,
 * Down/Up the next smaller/larger y score (ties broken by layer, then head, so every point is reachable).
 * From a head not in `points`, any key starts at the first point in that order. Undefined for other keys.
 */
export function scatterStep(
  points: readonly { layer: number; head: number; x: number; y: number }[],
  from: { layer: number; head: number },
  key: string,
): { layer: number; head: number } | undefined {
  const axis = key === 'ArrowLeft' || key === 'ArrowRight' ? 'x' : key === 'ArrowUp' || key === 'ArrowDown' ? 'y' : undefined;
  if (!axis || points.length === 0) return undefined;
  const order = [...points].sort((a, b) => a[axis] - b[axis] || a.layer - b.layer || a.head - b.head);
  const at = order.findIndex((p) => p.layer === from.layer && p.head === from.head);
  const step = key === 'ArrowRight' || key === 'ArrowUp' ? 1 : -1;
  const next = at < 0 ? 0 : Math.min(order.length - 1, Math.max(0, at + step));
  const p = order[next]!;
  return { layer: p.layer, head: p.head };
}
