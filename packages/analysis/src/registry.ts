/**
 * The detector registry, as plain data: what each detector needs, the per-head scores it produces (under
 * the snake_case keys that the CLI's JSON and the CSV use), the finding it flags and its threshold, and the
 * settings it reads. Later detectors (successor, retrieval, calibration) add entries and score keys here;
 * the atlas, the CLI and the app read this table and need no other change to show a new score.
 * Definitions: ../shared/methods.md §1–§3. Each entry names the plain-TypeScript reference that the
 * GPU path is tested against (reference.ts).
 */
import { AnalysisInputError } from './errors.js';
import type { Finding } from './finding.js';

/** What a detector consumes: attention maps of the user's prompts, a probe it generates, the weights, decode-step rows. */
export type DetectorNeed = 'prompt-maps' | 'probe' | 'weights' | 'decode-steps';

export interface ScoreSpec {
  /** JSON/CSV key, snake_case: first_token_sink, induction, … */
  key: string;
  label: string;
  /** One line: what the number is. */
  description: string;
  /** Range the colour scale spans. */
  range: readonly [number, number];
  /** Computed from the user's prompts (mean, spread and per-prompt values) or from the probe (one value). */
  source: 'prompts' | 'probe' | 'weights' | 'decode';
}

export type SettingValue = number | boolean | string;

export interface SettingSpec {
  key: string;
  label: string;
  description: string;
  kind: 'number' | 'integer' | 'boolean' | 'choice';
  default: SettingValue;
  min?: number;
  max?: number;
  choices?: readonly string[];
}

export interface DetectorSpec {
  id: string;
  label: string;
  needs: readonly DetectorNeed[];
  /** Per-head scores, by key. */
  scores: readonly string[];
  /** The finding this detector flags: heads whose `score` exceeds the setting `threshold`. */
  finding?: { kind: Finding['kind']; score: string; threshold: string };
  /** Setting keys it reads (specs in SETTINGS). */
  settings: readonly string[];
  /** The plain-TS function in reference.ts that defines its scores. */
  reference: string;
}

/** Every per-head score the atlas can colour by. */
export const SCORES: readonly ScoreSpec[] = [
  {
    key: 'first_token_sink',
    label: 'First-token sink',
    description: 'imp[0]: mean attention the first key receives from the queries, averaged over prompts (methods §1–2)',
    range: [0, 1],
    source: 'prompts',
  },
  {
    key: 'hidden_sink',
    label: 'Hidden sink',
    description: 'largest imp[j] over keys j ≥ 1 (the last keys ignored), averaged over prompts (methods §2, ACT)',
    range: [0, 1],
    source: 'prompts',
  },
  {
    key: 'previous_token',
    label: 'Previous token (probe)',
    description: 'mean of the diagonal at offset −1 on the repeated random-token probe (methods §3)',
    range: [0, 1],
    source: 'probe',
  },
  {
    key: 'duplicate_token',
    label: 'Duplicate token (probe)',
    description: 'mean of the diagonal at offset −n over the probe’s second half (methods §3)',
    range: [0, 1],
    source: 'probe',
  },
  {
    key: 'induction',
    label: 'Induction (probe)',
    description: 'mean of the diagonal at offset −(n−1) over the probe’s second half (methods §3)',
    range: [0, 1],
    source: 'probe',
  },
  {
    key: 'previous_token_tl',
    label: 'Previous token (TL, probe)',
    description: 'TransformerLens head-detector score on the probe (mode and exclusions from the settings; mul by default)',
    range: [0, 1],
    source: 'probe',
  },
  {
    key: 'duplicate_token_tl',
    label: 'Duplicate token (TL, probe)',
    description: 'TransformerLens head-detector score on the probe',
    range: [0, 1],
    source: 'probe',
  },
  {
    key: 'induction_tl',
    label: 'Induction (TL, probe)',
    description: 'TransformerLens head-detector score on the probe (a perfect head scores ≈ 0.5 in mul mode: the first half has nothing to copy)',
    range: [0, 1],
    source: 'probe',
  },
  {
    key: 'previous_token_text',
    label: 'Previous token (TL, prompts)',
    description: 'TransformerLens head-detector score on the user’s prompts, averaged over prompts',
    range: [0, 1],
    source: 'prompts',
  },
  {
    key: 'duplicate_token_text',
    label: 'Duplicate token (TL, prompts)',
    description: 'TransformerLens head-detector score on the user’s prompts, averaged over prompts',
    range: [0, 1],
    source: 'prompts',
  },
  {
    key: 'induction_text',
    label: 'Induction (TL, prompts)',
    description: 'TransformerLens head-detector score on the user’s prompts, averaged over prompts',
    range: [0, 1],
    source: 'prompts',
  },
  {
    key: 'entropy',
    label: 'Entropy',
    description: 'mean row entropy −Σ p ln p in nats, averaged over prompts',
    range: [0, 4],
    source: 'prompts',
  },
  {
    key: 'attention_distance',
    label: 'Attention distance',
    description: 'mean over rows of Σ_j A[i,j]·(i − j), in tokens, averaged over prompts',
    range: [0, 32],
    source: 'prompts',
  },
  {
    key: 'self_mass',
    label: 'Mass on self',
    description: 'mean over rows of A[i,i], averaged over prompts',
    range: [0, 1],
    source: 'prompts',
  },
  {
    key: 'successor',
    label: 'Successor (weights)',
    description:
      'share of (t, succ t) pairs of every ordinal task whose OV-circuit logits E_t·W_V·W_O·W_U rank succ(t) first among the task’s tokens (methods §5)',
    range: [0, 1],
    source: 'weights',
  },
  {
    key: 'retrieval',
    label: 'Retrieval (needle tests)',
    description:
      'mean over the needle tests that retrieved the answer of the share of answer tokens whose copy this head pointed at (argmax key = the token emitted; methods §4); from the retrieval lab, merged with withRetrievalScores',
    range: [0, 1],
    source: 'decode',
  },
];

export const SETTINGS: readonly SettingSpec[] = [
  {
    key: 'max_tokens',
    label: 'Cut prompts to (tokens)',
    description: 'Prompts are cut to this many tokens (the sink-rate protocol uses 64); 0 = whole prompts, which must fit the context',
    kind: 'integer',
    default: 64,
    min: 0,
    max: 1_000_000,
  },
  {
    key: 'epsilon',
    label: 'Sink ε',
    description: 'A head is a first-token sink on a prompt when imp[0] > ε (Gu et al.: 0.3)',
    kind: 'number',
    default: 0.3,
    min: 0,
    max: 1,
  },
  {
    key: 'hidden_mode',
    label: 'Hidden-sink threshold',
    description: 'absolute: imp > τ (ACT code); relative: imp > α/N (ACT paper)',
    kind: 'choice',
    default: 'absolute',
    choices: ['absolute', 'relative'],
  },
  { key: 'tau', label: 'τ', description: 'Absolute hidden-sink threshold', kind: 'number', default: 0.1, min: 0, max: 1 },
  { key: 'alpha', label: 'α', description: 'Relative hidden-sink threshold: imp > α/N', kind: 'number', default: 5, min: 0.01, max: 1000 },
  {
    key: 'ignore_last_keys',
    label: 'Ignore last keys',
    description: 'The last k keys are seen by few queries; hidden sinks ignore them',
    kind: 'integer',
    default: 4,
    min: 0,
    max: 1024,
  },
  {
    key: 'tl_mode',
    label: 'TL score',
    description: 'TransformerLens head-detector mode: mul = Σ(A⊙P)/ΣA, abs = 1 − round(Σ|A−P|/N, 3)',
    kind: 'choice',
    default: 'mul',
    choices: ['mul', 'abs'],
  },
  { key: 'exclude_bos', label: 'Exclude BOS', description: 'Zero key 0 before the TL score', kind: 'boolean', default: false },
  {
    key: 'exclude_current_token',
    label: 'Exclude current token',
    description: 'Zero the diagonal before the TL score',
    kind: 'boolean',
    default: false,
  },
  {
    key: 'probe_n',
    label: 'Probe length n',
    description: 'n random tokens repeated twice (capped at half the context)',
    kind: 'integer',
    default: 50,
    min: 2,
    max: 100_000,
  },
  { key: 'probe_seed', label: 'Probe seed', description: 'Seed of the random probe tokens', kind: 'integer', default: 0, min: 0, max: 2 ** 31 - 1 },
  {
    key: 'previous_token_threshold',
    label: 'Previous-token threshold',
    description: 'Flag heads whose previous_token score exceeds this',
    kind: 'number',
    default: 0.5,
    min: 0,
    max: 1,
  },
  {
    key: 'duplicate_token_threshold',
    label: 'Duplicate-token threshold',
    description: 'Flag heads whose duplicate_token score exceeds this',
    kind: 'number',
    default: 0.3,
    min: 0,
    max: 1,
  },
  {
    key: 'induction_threshold',
    label: 'Induction threshold',
    description: 'Flag heads whose induction score exceeds this',
    kind: 'number',
    default: 0.3,
    min: 0,
    max: 1,
  },
  {
    key: 'successor_threshold',
    label: 'Successor threshold',
    description: 'Flag heads whose successor score exceeds this',
    kind: 'number',
    default: 0.4,
    min: 0,
    max: 1,
  },
  {
    key: 'successor_variant',
    label: 'Successor embedding',
    description: 'E_t: mlp0 = MLP0(LN2⁰(W_E[t])), mlp0+embedding adds W_E[t], embedding = W_E[t] alone',
    kind: 'choice',
    default: 'mlp0',
    choices: ['mlp0', 'mlp0+embedding', 'embedding'],
  },
  {
    key: 'retrieval_threshold',
    label: 'Retrieval threshold',
    description: 'Flag heads whose retrieval score exceeds this (Wu et al.: 0.1)',
    kind: 'number',
    default: 0.1,
    min: 0,
    max: 1,
  },
  { key: 'successor_biases', label: 'Successor: biases', description: 'Add b_V, b_O and b_U to the OV-circuit logits', kind: 'boolean', default: false },
  {
    key: 'successor_head_norm',
    label: 'Successor: head norm',
    description: 'Pass E_t through the head’s own layer norm (ln1) before W_V',
    kind: 'boolean',
    default: false,
  },
];

export const DETECTORS: readonly DetectorSpec[] = [
  {
    id: 'first-token-sink',
    label: 'First-token sink',
    needs: ['prompt-maps'],
    scores: ['first_token_sink'],
    finding: { kind: 'first-token-sink', score: 'first_token_sink', threshold: 'epsilon' },
    settings: ['max_tokens', 'epsilon'],
    reference: 'summarizeHeadRef (imp[0]) and sinkRateOf',
  },
  {
    id: 'hidden-sinks',
    label: 'Hidden sinks',
    needs: ['prompt-maps'],
    scores: ['hidden_sink'],
    finding: { kind: 'hidden-sink', score: 'hidden_sink', threshold: 'tau' },
    settings: ['max_tokens', 'hidden_mode', 'tau', 'alpha', 'ignore_last_keys'],
    reference: 'summarizeHeadRef (imp) and hiddenSinksOf',
  },
  {
    id: 'previous-token',
    label: 'Previous-token heads',
    needs: ['probe', 'prompt-maps'],
    scores: ['previous_token', 'previous_token_tl', 'previous_token_text'],
    finding: { kind: 'previous-token', score: 'previous_token', threshold: 'previous_token_threshold' },
    settings: ['probe_n', 'probe_seed', 'tl_mode', 'exclude_bos', 'exclude_current_token', 'previous_token_threshold'],
    reference: 'summarizeHeadRef (diagonal −1, patternMatrix + detectionScore)',
  },
  {
    id: 'duplicate-token',
    label: 'Duplicate-token heads',
    needs: ['probe', 'prompt-maps'],
    scores: ['duplicate_token', 'duplicate_token_tl', 'duplicate_token_text'],
    finding: { kind: 'duplicate-token', score: 'duplicate_token', threshold: 'duplicate_token_threshold' },
    settings: ['probe_n', 'probe_seed', 'tl_mode', 'exclude_bos', 'exclude_current_token', 'duplicate_token_threshold'],
    reference: 'summarizeHeadRef (diagonal −n, patternMatrix + detectionScore)',
  },
  {
    id: 'induction',
    label: 'Induction heads',
    needs: ['probe', 'prompt-maps'],
    scores: ['induction', 'induction_tl', 'induction_text'],
    finding: { kind: 'induction', score: 'induction', threshold: 'induction_threshold' },
    settings: ['probe_n', 'probe_seed', 'tl_mode', 'exclude_bos', 'exclude_current_token', 'induction_threshold'],
    reference: 'summarizeHeadRef (diagonal −(n−1), patternMatrix + detectionScore)',
  },
  {
    id: 'head-statistics',
    label: 'Descriptive statistics',
    needs: ['prompt-maps'],
    scores: ['entropy', 'attention_distance', 'self_mass'],
    settings: ['max_tokens'],
    reference: 'summarizeHeadRef (row entropy, distance, diagonal)',
  },
  {
    id: 'successor',
    label: 'Successor heads',
    needs: ['weights'],
    scores: ['successor'],
    finding: { kind: 'successor', score: 'successor', threshold: 'successor_threshold' },
    settings: ['successor_threshold', 'successor_variant', 'successor_biases', 'successor_head_norm'],
    reference: 'ovCircuitReference (successor/reference.ts) and successorScores',
  },
  {
    id: 'retrieval',
    label: 'Retrieval heads',
    needs: ['decode-steps'],
    scores: ['retrieval'],
    finding: { kind: 'retrieval', score: 'retrieval', threshold: 'retrieval_threshold' },
    settings: ['retrieval_threshold'],
    reference: 'retrievalScores (retrieval/score.ts), over the needle grid of runRetrieval',
  },
];

export type AtlasSettings = Record<string, SettingValue>;

/** A detector setting outside its range (or of the wrong kind): says which, the range, and the default. */
export class SettingOutOfRangeError extends AnalysisInputError {
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly spec: SettingSpec | undefined,
  ) {
    const fix = spec
      ? spec.kind === 'choice'
        ? `Use one of ${spec.choices!.join(', ')} (default ${spec.default}).`
        : spec.kind === 'boolean'
          ? `Use true or false (default ${spec.default}).`
          : `Use ${spec.kind === 'integer' ? 'an integer' : 'a number'} from ${spec.min} to ${spec.max} (default ${spec.default}).`
      : `Known settings: ${SETTINGS.map((s) => s.key).join(', ')}.`;
    super(spec ? `Setting "${spec.label}" (${key}) cannot be ${JSON.stringify(value)}.` : `There is no atlas setting "${key}".`, fix);
  }
}

export const DEFAULT_SETTINGS: Readonly<AtlasSettings> = Object.freeze(Object.fromEntries(SETTINGS.map((s) => [s.key, s.default])));

/** Defaults overlaid with `given`; every value checked against its spec (SettingOutOfRangeError otherwise). */
export function resolveSettings(given: Readonly<Record<string, unknown>> = {}): AtlasSettings {
  const out: AtlasSettings = { ...DEFAULT_SETTINGS };
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const spec = SETTINGS.find((s) => s.key === key);
    if (!spec) throw new SettingOutOfRangeError(key, value, undefined);
    out[key] = checkSetting(spec, value);
  }
  return out;
}

function checkSetting(spec: SettingSpec, value: unknown): SettingValue {
  const bad = () => new SettingOutOfRangeError(spec.key, value, spec);
  if (spec.kind === 'boolean') {
    if (typeof value !== 'boolean') throw bad();
    return value;
  }
  if (spec.kind === 'choice') {
    if (typeof value !== 'string' || !spec.choices!.includes(value)) throw bad();
    return value;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < spec.min! || value > spec.max!) throw bad();
  if (spec.kind === 'integer' && !Number.isInteger(value)) throw bad();
  return value;
}

export const scoreSpec = (key: string): ScoreSpec | undefined => SCORES.find((s) => s.key === key);
