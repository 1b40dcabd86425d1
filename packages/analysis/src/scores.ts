/**
 * Per-head scores of one sequence, two ways: from the GPU reductions (RunSummary: row sums and column
 * importance, no T×T map) and, as the reference the tests hold that path against, straight from the
 * maps with the plain definitions (columnImportance, patternMatrix + detectionScore, probeScores).
 */
import { HEAD_SUMMARY_FIELDS, HEAD_SUMMARY_STRIDE, type RunSummary } from '@headscope/models';
import { columnImportance } from './column-importance.js';
import type { AttentionMap } from './finding.js';
import { detectionScore, type HeadPattern, patternMatrix } from './head-detector.js';
import { probeScores } from './probes.js';
import type { AtlasSettings } from './registry.js';

/** Score key → value, for one head on one sequence. */
export type HeadValues = Record<string, number>;

export interface SequenceScores {
  /** [layer][head] */
  values: HeadValues[][];
  /** [layer][head] column importance imp[j], kept for hidden sinks, sink rate and top tokens. */
  imp: Float32Array[][];
}

const FIELD = Object.fromEntries(HEAD_SUMMARY_FIELDS.map((f, i) => [f, i])) as Record<(typeof HEAD_SUMMARY_FIELDS)[number], number>;
const PATTERNS: [string, HeadPattern, 'Previous' | 'Duplicate' | 'Induction'][] = [
  ['previous_token', 'previous-token', 'Previous'],
  ['duplicate_token', 'duplicate-token', 'Duplicate'],
  ['induction', 'induction', 'Induction'],
];

/** Largest imp[j] over 1 ≤ j < N − ignoreLast (0 when no key qualifies). */
export function hiddenSinkScore(imp: ArrayLike<number>, ignoreLast: number): number {
  let best = 0;
  for (let j = 1; j < imp.length - ignoreLast; j++) best = Math.max(best, imp[j]!);
  return best;
}

const tlFromSums = (mode: string, kept: number, mul: number, abs: number, rows: number) =>
  mode === 'abs' ? 1 - Math.round((abs / rows) * 1000) / 1000 : kept === 0 ? 0 : mul / kept;

/** Scores of every head from the GPU reductions of one prompt (kind 'prompt') or of the probe (kind 'probe', n = half length). */
export function scoresFromSummary(s: RunSummary, kind: 'prompt' | 'probe', settings: AtlasSettings, probeN = 0): SequenceScores {
  const T = s.queries;
  const values: HeadValues[][] = [];
  const imp: Float32Array[][] = [];
  s.layers.forEach((_, at) => {
    const vRow: HeadValues[] = [];
    const iRow: Float32Array[] = [];
    for (let h = 0; h < s.nHeads; h++) {
      const sums = s.sums.subarray((at * s.nHeads + h) * HEAD_SUMMARY_STRIDE, (at * s.nHeads + h + 1) * HEAD_SUMMARY_STRIDE);
      const im = s.imp.subarray((at * s.nHeads + h) * s.keys, (at * s.nHeads + h + 1) * s.keys);
      const f = (name: keyof typeof FIELD) => sums[FIELD[name]]!;
      const v: HeadValues = {};
      const suffix = kind === 'probe' ? '_tl' : '_text';
      for (const [key, , field] of PATTERNS) v[key + suffix] = tlFromSums(settings['tl_mode'] as string, f('kept'), f(`mul${field}`), f(`abs${field}`), T);
      if (kind === 'probe') {
        v['previous_token'] = T > 1 ? f('diagPrevious') / (T - 1) : 0;
        v['duplicate_token'] = T > probeN ? f('diagDuplicate') / (T - probeN) : 0;
        v['induction'] = T > probeN ? f('diagInduction') / (T - probeN) : 0;
      } else {
        v['first_token_sink'] = im[0]!;
        v['hidden_sink'] = hiddenSinkScore(im, settings['ignore_last_keys'] as number);
        v['entropy'] = f('entropy') / T;
        v['attention_distance'] = f('distance') / T;
        v['self_mass'] = f('self') / T;
      }
      vRow.push(v);
      iRow.push(im);
    }
    values.push(vRow);
    imp.push(iRow);
  });
  return { values, imp };
}

/** The same scores from maps read back, by the definitions (methods.md §1–§3). maps[layer][head]. */
export function referenceScores(
  maps: ReadonlyArray<ReadonlyArray<AttentionMap>>,
  tokens: readonly number[],
  kind: 'prompt' | 'probe',
  settings: AtlasSettings,
  probeN = 0,
): SequenceScores {
  const options = {
    mode: settings['tl_mode'] as 'mul' | 'abs',
    excludeBos: settings['exclude_bos'] as boolean,
    excludeCurrentToken: settings['exclude_current_token'] as boolean,
  };
  const patterns = PATTERNS.map(([key, p]) => [key, patternMatrix(p, tokens)] as const);
  const values = maps.map((heads) =>
    heads.map((m) => {
      const v: HeadValues = {};
      const suffix = kind === 'probe' ? '_tl' : '_text';
      for (const [key, p] of patterns) v[key + suffix] = detectionScore(m, p, options);
      if (kind === 'probe') {
        const p = probeScores(m, probeN);
        v['previous_token'] = p.previousToken;
        v['duplicate_token'] = p.duplicateToken;
        v['induction'] = p.induction;
      } else {
        const imp = columnImportance(m);
        v['first_token_sink'] = imp[0]!;
        v['hidden_sink'] = hiddenSinkScore(imp, settings['ignore_last_keys'] as number);
        let ent = 0;
        let dist = 0;
        let self = 0;
        for (let i = 0; i < m.n; i++) {
          for (let j = 0; j <= i; j++) {
            const a = m.data[i * m.n + j]!;
            if (a > 0) ent -= a * Math.log(a);
            dist += a * (i - j);
          }
          self += m.data[i * m.n + i]!;
        }
        v['entropy'] = ent / m.n;
        v['attention_distance'] = dist / m.n;
        v['self_mass'] = self / m.n;
      }
      return v;
    }),
  );
  const imp = maps.map((heads) => heads.map((m) => Float32Array.from(columnImportance(m))));
  return { values, imp };
}
