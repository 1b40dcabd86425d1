/**
 * The atlas as files: the JSON of `headscope analyze` (snake_case keys of the registry) and CSV tables of
 * the per-head scores and of the findings. The CLI and the app's export buttons both use these, so the
 * numbers are the same everywhere (full precision; views round them only for display).
 */
import type { AtlasResult } from './atlas.js';
import { parseCsv } from './prompt-sets.js';
import { SCORES } from './registry.js';
import type { SuccessorBehaviour } from './successor/behaviour.js';

export function atlasJson(r: AtlasResult): Record<string, unknown> {
  const best = (key: string) => {
    const top = r.table.reduce((a, b) => (b.scores[key]! > a.scores[key]! ? b : a));
    return { layer: top.layer, head: top.head, score: top.scores[key] };
  };
  return {
    model: r.model,
    prompts: r.prompts,
    prompt_tokens: r.promptTokens,
    max_tokens: r.settings['max_tokens'],
    cut: r.cut,
    settings: r.settings,
    sink_rate: { epsilon: r.sinkRate.epsilon, key: 0, rate: r.sinkRate.rate, count: r.sinkRate.count, total: r.sinkRate.total, per_layer: r.sinkRate.perLayer },
    probe: r.probe && { n: r.probe.n, seed: r.probe.seed, token_range: r.probe.tokenRange },
    heads: r.table.map((row) => ({
      layer: row.layer,
      head: row.head,
      ...Object.fromEntries(SCORES.map((s) => [s.key, row.scores[s.key]])),
      ...(row.successorTasks ? { successor_tasks: row.successorTasks } : {}),
      ...(row.successorBehaviour ? { successor_behaviour: behaviourJson(row.successorBehaviour) } : {}),
      hidden_sinks: row.hiddenSinks,
      top_tokens: row.topTokens,
      spread: row.spread,
      per_prompt: row.perPrompt,
    })),
    hidden_sink_tokens: r.hiddenSinkTokens,
    findings: r.findings,
    best: {
      first_token_sink: best('first_token_sink'),
      previous_token: best('previous_token'),
      duplicate_token: best('duplicate_token'),
      induction: best('induction'),
      ...(r.successor && !r.successor.error ? { successor: best('successor') } : {}),
    },
    // The successor detector's task report (which ordinal sets the tokenizer has), or why it has no score.
    ...(r.successor
      ? {
          successor: {
            variant: r.settings['successor_variant'],
            tasks: r.successor.report,
            task_sets: r.successor.tasks,
            ...(r.successor.error ? { error: r.successor.error } : {}),
            ...(r.successor.behaviourPrompts ? { behaviour_prompts: r.successor.behaviourPrompts } : {}),
            ...(r.successor.behaviourError ? { behaviour_error: r.successor.behaviourError } : {}),
          },
        }
      : {}),
    bytes: {
      captured: r.bytes.captured,
      read_back: r.bytes.readBack,
      sequences: r.bytes.sequences,
      captured_per_sequence: r.bytes.captured / r.bytes.sequences,
      read_back_per_sequence: r.bytes.readBack / r.bytes.sequences,
    },
  };
}

/** The behavioural check of one head, snake_case as the rest of the JSON. */
function behaviourJson(b: SuccessorBehaviour): Record<string, unknown> {
  return {
    attention: b.attention,
    control_attention: b.controlAttention,
    successor_wins: b.successorWins,
    margin: b.margin,
    control_margin: b.controlMargin,
    holds: b.holds,
  };
}

const cell = (v: unknown): string => {
  const s = typeof v === 'number' ? String(v) : String(v ?? '');
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csv = (rows: unknown[][]) => `${rows.map((r) => r.map(cell).join(',')).join('\n')}\n`;

/** One row per head: layer, head, every score, and its hidden-sink tokens (a JSON list). */
export function atlasHeadsCsv(r: AtlasResult): string {
  const keys = SCORES.map((s) => s.key);
  return csv([
    ['layer', 'head', ...keys, 'hidden_sink_tokens'],
    ...r.table.map((row) => [row.layer, row.head, ...keys.map((k) => row.scores[k]), JSON.stringify([...new Set(row.hiddenSinks.map((h) => h.token))])]),
  ]);
}

/** One row per finding: kind, head (L{l}H{h}), layer, head index, score, threshold, evidence (JSON). */
export function findingsCsv(r: Pick<AtlasResult, 'findings'>): string {
  return csv([
    ['kind', 'name', 'layer', 'head', 'score', 'threshold', 'evidence'],
    ...r.findings.map((f) => [f.kind, `L${f.layer}H${f.head}`, f.layer, f.head, f.score, f.threshold, JSON.stringify(f.evidence ?? {})]),
  ]);
}

/** Reads a CSV written by the functions above back into objects (numbers parsed), for round-trip checks. */
export function readCsv(text: string): Record<string, string | number>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] !== '' && Number.isFinite(Number(r[i])) ? Number(r[i]) : (r[i] ?? '')])));
}
