/**
 * The head atlas: every detector of the registry over a whole prompt set and the random-token probe, one
 * forward pass per sequence, reduced on the GPU (RunSummary) so that only per-head numbers come back.
 * The same runner drives the reference path (maps read back, plain definitions) for the tests.
 */
import type { CapturedMaps, CpuLoadedModel, LoadedModel, ModelConfig, OnnxLoadedModel } from '@headscope/models';
import { AtlasCancelledError, EmptyPromptError, EmptyPromptSetError, PromptTooLongError } from './errors.js';
import type { AttentionMap, Finding } from './finding.js';
import { repeatedRandomTokens } from './probes.js';
import { type AtlasSettings, DETECTORS, resolveSettings, SCORES } from './registry.js';
import { type HeadValues, referenceScores, type SequenceScores, scoresFromSummary } from './scores.js';
import { NoBehaviourPromptsError, type SuccessorBehaviour, type SuccessorBehaviourResult, successorBehaviour } from './successor/behaviour.js';
import { analyzeSuccessors, type SuccessorAnalysis, type SuccessorHeadScore, type SuccessorOptions, successorOptionsOf } from './successor/score.js';
import { NoSuccessorTasksError, type TaskSets, taskReport } from './successor/tasks.js';

/** What the atlas needs from a model (a WebGPU LoadedModel, a CPU one or an ONNX export, through atlasModelOf). */
export interface AtlasModel {
  readonly name: string;
  readonly config: Pick<ModelConfig, 'nLayers' | 'nHeads' | 'nCtx' | 'vocabSize' | 'addBos'>;
  encode(text: string, bos?: boolean): number[];
  tokenText(id: number): string;
  /** One forward pass capturing every layer (an ONNX session answers asynchronously); `done` frees what it holds. */
  forward(ids: readonly number[]): AtlasPass | Promise<AtlasPass>;
  /** The weight-space successor analysis (methods §5), cached per option set (its circuit may be released); absent where the weights are not on a GPU. */
  successor?(options: SuccessorOptions): Promise<SuccessorAnalysis>;
  /** The successor behavioural check on the task sets' prompts, cached (it depends on the weights only). */
  successorBehaviour?(sets: TaskSets): Promise<SuccessorBehaviourResult>;
}

export interface AtlasPass {
  attention: CapturedMaps<unknown>;
  done(): void;
}

/**
 * `successorBehaviour`: also run the successor behavioural check (one short pass per prompt, once per model);
 * the CLI asks for it, the workbench's atlas leaves it to the successor panel.
 */
export function atlasModelOf(model: LoadedModel | CpuLoadedModel | OnnxLoadedModel, options: { successorBehaviour?: boolean } = {}): AtlasModel {
  if ('backend' in model && model.backend === 'onnx') {
    // The export's attention outputs arrive as host arrays (a CpuAttentionStore); no weights, so no successor score.
    return {
      name: model.name,
      config: model.config,
      encode: (text, bos) => model.tokenizer.encode(text, { addBos: bos ?? model.config.addBos, checkContext: false }),
      tokenText: (id) => model.tokenizer.tokenText(id),
      async forward(ids) {
        const { attention } = await model.run(ids);
        return { attention, done: () => attention.release() };
      },
    };
  }
  return {
    name: model.name,
    config: model.config,
    encode: (text, bos) => model.tokenizer.encode(text, { addBos: bos ?? model.config.addBos, checkContext: false }),
    tokenText: (id) => model.tokenizer.tokenText(id),
    forward(ids) {
      if ('backend' in model) {
        const { attention } = model.run(ids, { logits: 'last' });
        return { attention, done: () => attention.release() };
      }
      const { logits, attention } = model.run(ids, { logits: 'last' });
      return {
        attention,
        done: () => {
          model.transformer.ctx.release(logits);
          attention.release();
        },
      };
    },
    ...('backend' in model ? {} : { successor: cachedSuccessor(model) }),
    ...('backend' in model || !options.successorBehaviour ? {} : { successorBehaviour: cachedBehaviour(model) }),
  };
}

/** One behavioural check per loaded model (it depends on the weights and tokenizer only), shared by every atlas run. */
const behaviourRuns = new WeakMap<LoadedModel, Promise<SuccessorBehaviourResult>>();

function cachedBehaviour(model: LoadedModel): (sets: TaskSets) => Promise<SuccessorBehaviourResult> {
  return (sets) => {
    let run = behaviourRuns.get(model);
    if (!run) {
      run = successorBehaviour(model, sets);
      run.catch(() => behaviourRuns.delete(model));
      behaviourRuns.set(model, run);
    }
    return run;
  };
}

/** The successor analysis depends on the weights and options only: one run per option set serves every atlas run. */
function cachedSuccessor(model: LoadedModel): (o: SuccessorOptions) => Promise<SuccessorAnalysis> {
  const runs = new Map<string, Promise<SuccessorAnalysis>>();
  return (o) => {
    const key = JSON.stringify([o.embedding, o.biases, o.headNorm]);
    let run = runs.get(key);
    if (!run) {
      run = analyzeSuccessors(model, o);
      run.catch(() => runs.delete(key));
      runs.set(key, run);
    }
    return run;
  };
}

export interface HiddenSinkHit {
  prompt: number;
  position: number;
  token: string;
  imp: number;
}

export interface AtlasHead {
  layer: number;
  head: number;
  /** Mean over prompts (prompt scores) or the probe value. */
  scores: HeadValues;
  /** Standard deviation over prompts (prompt scores only). */
  spread: HeadValues;
  /** One value per prompt (prompt scores only). */
  perPrompt: Record<string, number[]>;
  hiddenSinks: HiddenSinkHit[];
  /** The keys it attends to most (largest imp over all prompts, position 0 included), one per token string. */
  topTokens: HiddenSinkHit[];
  /** Successor success per task id (when the successor score was computed). */
  successorTasks?: Record<string, number>;
  /** The successor behavioural check (when it ran). */
  successorBehaviour?: SuccessorBehaviour;
  /** The needle tests behind the retrieval score (set by withRetrievalScores). */
  retrievalTests?: { counted: number; tests: number };
}

/** What the successor detector found in the tokenizer, or why it has no score. */
export interface AtlasSuccessor {
  /** "numbers: 187 of 200 single tokens; …" */
  report: string;
  tasks: { id: string; label: string; members: number; total: number; pairs: number }[];
  /** Set when there is no score: the reason and what to do. */
  error?: string;
  /** The behavioural check's prompts ("ordinal: Monday, Tuesday, Wednesday,"), or why it did not run. */
  behaviourPrompts?: string[];
  behaviourError?: string;
}

export interface AtlasResult {
  model: string;
  layers: number;
  heads: number;
  settings: AtlasSettings;
  prompts: number;
  /** Tokens of each prompt after the cut. */
  promptTokens: number[];
  /** How many prompts the max_tokens cut shortened. */
  cut: number;
  probe: { n: number; seed: number; tokenRange: [number, number] } | null;
  table: AtlasHead[];
  sinkRate: { rate: number; count: number; total: number; epsilon: number; perLayer: number[] };
  /** Hidden-sink tokens over the prompt set: in how many heads each token string is a hidden sink. */
  hiddenSinkTokens: { token: string; heads: number; hits: number }[];
  findings: Finding[];
  /** Bytes the captured maps held and bytes read back from the GPU, summed over `sequences` (prompts + probe). */
  bytes: { captured: number; readBack: number; sequences: number };
  successor?: AtlasSuccessor;
}

export interface AtlasProgress {
  done: number;
  total: number;
  elapsedMs: number;
  /** Estimated time left (from the mean time per sequence so far). */
  etaMs: number;
}

export interface AtlasOptions {
  /** 'summaries' (default): GPU reductions. 'reference': maps read back and scored by the definitions. */
  path?: 'summaries' | 'reference';
  /** Prepend BOS to prompts (default: the model's policy). The probe never has one. */
  bos?: boolean;
  onProgress?: (p: AtlasProgress) => void;
  signal?: AbortSignal;
}

/** Prompts as token ids, cut to max_tokens (and to the context); bad prompts throw typed errors. */
export function encodePrompts(model: AtlasModel, texts: readonly string[], settings: AtlasSettings, bos?: boolean): { ids: number[][]; cut: number } {
  if (texts.length === 0) throw new EmptyPromptSetError();
  const maxTokens = settings['max_tokens'] as number;
  const limit = maxTokens > 0 ? Math.min(maxTokens, model.config.nCtx) : model.config.nCtx;
  let cut = 0;
  const ids = texts.map((text, i) => {
    const all = model.encode(text, bos);
    if (all.length === 0) throw new EmptyPromptError(i);
    if (maxTokens === 0 && all.length > model.config.nCtx) throw new PromptTooLongError(i, all.length, model.config.nCtx);
    if (all.length > limit) cut++;
    return all.slice(0, limit);
  });
  return { ids, cut };
}

/** The §3 probe: n = min(probe_n, ⌊nCtx/2⌋) random ids from [min(1000, vocab/4), vocab), repeated, no BOS. */
export function probeTokens(config: AtlasModel['config'], settings: AtlasSettings): { tokens: number[]; n: number; low: number } {
  const n = Math.min(settings['probe_n'] as number, Math.floor(config.nCtx / 2));
  const low = Math.min(1000, Math.floor(config.vocabSize / 4));
  return { tokens: repeatedRandomTokens(n, low, config.vocabSize, settings['probe_seed'] as number), n, low };
}

async function scoreSequence(
  model: AtlasModel,
  ids: readonly number[],
  kind: 'prompt' | 'probe',
  settings: AtlasSettings,
  probeN: number,
  path: 'summaries' | 'reference',
): Promise<SequenceScores & { bytesRead: number; bytesCaptured: number }> {
  const { attention, done } = await model.forward(ids);
  try {
    const captured = model.config.nLayers * model.config.nHeads * ids.length * ids.length * 4;
    if (path === 'summaries') {
      const s = await attention.summarize({
        tokens: ids,
        excludeBos: settings['exclude_bos'] as boolean,
        excludeCurrentToken: settings['exclude_current_token'] as boolean,
        probeN: kind === 'probe' ? probeN : 0,
      });
      return { ...scoresFromSummary(s, kind, settings, probeN), bytesRead: s.bytesRead, bytesCaptured: s.bytesCaptured };
    }
    const maps: AttentionMap[][] = [];
    const n = ids.length;
    for (let l = 0; l < model.config.nLayers; l++) {
      const all = await attention.layer(l);
      maps.push(Array.from({ length: model.config.nHeads }, (_, h) => ({ n, data: all.subarray(h * n * n, (h + 1) * n * n) })));
    }
    return { ...referenceScores(maps, ids, kind, settings, probeN), bytesRead: captured, bytesCaptured: captured };
  } finally {
    done();
  }
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const sd = (xs: readonly number[]) => {
  const m = mean(xs);
  return xs.length ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length) : 0;
};

/** Runs every detector over the prompts and the probe; settings are checked first (SettingOutOfRangeError). */
export async function runAtlas(
  model: AtlasModel,
  texts: readonly string[],
  given: Readonly<Record<string, unknown>> = {},
  options: AtlasOptions = {},
): Promise<AtlasResult> {
  const settings = resolveSettings(given);
  const path = options.path ?? 'summaries';
  const { ids: prompts, cut } = encodePrompts(model, texts, settings, options.bos);
  const probe = probeTokens(model.config, settings);
  const total = prompts.length + 1;
  const start = performance.now();
  const tick = (done: number) => {
    const elapsedMs = performance.now() - start;
    options.onProgress?.({ done, total, elapsedMs, etaMs: done > 0 ? (elapsedMs / done) * (total - done) : Number.NaN });
  };
  const check = () => {
    if (options.signal?.aborted) throw new AtlasCancelledError();
  };
  tick(0);
  check();
  const bytes = { captured: 0, readBack: 0, sequences: total };
  const probeScores = await scoreSequence(model, probe.tokens, 'probe', settings, probe.n, path);
  bytes.captured += probeScores.bytesCaptured;
  bytes.readBack += probeScores.bytesRead;
  tick(1);
  const perPrompt: SequenceScores[] = [];
  for (const ids of prompts) {
    check();
    const s = await scoreSequence(model, ids, 'prompt', settings, 0, path);
    bytes.captured += s.bytesCaptured;
    bytes.readBack += s.bytesRead;
    perPrompt.push(s);
    tick(perPrompt.length + 1);
  }
  check();
  const successor = await successorOf(model, settings);
  const result = assemble(model, settings, prompts, cut, probe, probeScores, perPrompt, bytes);
  return successor ? withSuccessor(result, settings, successor) : result;
}

/** Runs the successor analysis when the model offers it; a tokenizer without ordinal tasks gives the reason, not zeros. */
async function successorOf(
  model: AtlasModel,
  settings: AtlasSettings,
): Promise<{ info: AtlasSuccessor; heads: SuccessorHeadScore[]; behaviour?: SuccessorBehaviour[] } | undefined> {
  if (!model.successor) return undefined;
  try {
    const a = await model.successor(successorOptionsOf(settings));
    a.circuit.release();
    const tasks = a.tasks.all.map((t) => ({ id: t.id, label: t.label, members: t.members.length, total: t.total, pairs: t.pairs.length }));
    const info: AtlasSuccessor = { report: taskReport(a.tasks.all), tasks };
    if (!model.successorBehaviour) return { info, heads: a.heads };
    try {
      const b = await model.successorBehaviour(a.tasks);
      info.behaviourPrompts = b.prompts.map((p) => `${p.kind}:${p.text}`);
      return { info, heads: a.heads, behaviour: b.heads };
    } catch (e) {
      if (!(e instanceof NoBehaviourPromptsError)) throw e;
      info.behaviourError = e.message;
      return { info, heads: a.heads };
    }
  } catch (e) {
    if (!(e instanceof NoSuccessorTasksError)) throw e;
    return { info: { report: e.report, tasks: [], error: e.message }, heads: [] };
  }
}

function withSuccessor(
  result: AtlasResult,
  settings: AtlasSettings,
  s: { info: AtlasSuccessor; heads: SuccessorHeadScore[]; behaviour?: SuccessorBehaviour[] },
): AtlasResult {
  const H = result.heads;
  for (const head of s.heads) {
    const row = result.table[head.layer * H + head.head]!;
    row.scores['successor'] = head.score;
    row.successorTasks = head.tasks;
  }
  for (const b of s.behaviour ?? []) result.table[b.layer * H + b.head]!.successorBehaviour = b;
  const meanTokens = mean(result.promptTokens);
  return { ...result, successor: s.info, findings: findingsOf(result.table, settings, meanTokens) };
}

function assemble(
  model: AtlasModel,
  settings: AtlasSettings,
  prompts: number[][],
  cut: number,
  probe: { n: number; low: number },
  probeScores: SequenceScores,
  perPrompt: SequenceScores[],
  bytes: AtlasResult['bytes'],
): AtlasResult {
  const { nLayers: L, nHeads: H } = model.config;
  const epsilon = settings['epsilon'] as number;
  const ignoreLast = settings['ignore_last_keys'] as number;
  const promptKeys = SCORES.filter((s) => s.source === 'prompts').map((s) => s.key);
  const probeKeys = SCORES.filter((s) => s.source === 'probe').map((s) => s.key);
  const text = (p: number, j: number) => model.tokenText(prompts[p]![j]!);
  const table: AtlasHead[] = [];
  let sinkCount = 0;
  const perLayer = new Array<number>(L).fill(0);
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      const scores: HeadValues = {};
      const spread: HeadValues = {};
      const values: Record<string, number[]> = {};
      for (const k of promptKeys) {
        values[k] = perPrompt.map((s) => s.values[l]![h]![k]!);
        scores[k] = mean(values[k]);
        spread[k] = sd(values[k]);
      }
      for (const k of probeKeys) scores[k] = probeScores.values[l]![h]![k]!;
      const hiddenSinks: HiddenSinkHit[] = [];
      const top: HiddenSinkHit[] = [];
      perPrompt.forEach((s, p) => {
        const imp = s.imp[l]![h]!;
        const n = imp.length;
        const threshold = settings['hidden_mode'] === 'relative' ? (settings['alpha'] as number) / n : (settings['tau'] as number);
        for (let j = 1; j < n - ignoreLast; j++) if (imp[j]! > threshold) hiddenSinks.push({ prompt: p, position: j, token: text(p, j), imp: imp[j]! });
        if (imp[0]! > epsilon) {
          sinkCount++;
          perLayer[l]!++;
        }
        for (let j = 0; j < n; j++) top.push({ prompt: p, position: j, token: text(p, j), imp: imp[j]! });
      });
      top.sort((a, b) => b.imp - a.imp);
      table.push({ layer: l, head: h, scores, spread, perPrompt: values, hiddenSinks, topTokens: distinctTokens(top, 5) });
    }
  }
  const per = perPrompt.length * H;
  const tokenHeads = new Map<string, { heads: Set<number>; hits: number }>();
  for (const row of table) {
    for (const hit of row.hiddenSinks) {
      const e = tokenHeads.get(hit.token) ?? { heads: new Set<number>(), hits: 0 };
      e.heads.add(row.layer * H + row.head);
      e.hits++;
      tokenHeads.set(hit.token, e);
    }
  }
  const hiddenSinkTokens = [...tokenHeads]
    .map(([token, e]) => ({ token, heads: e.heads.size, hits: e.hits }))
    .sort((a, b) => b.heads - a.heads || b.hits - a.hits);
  return {
    model: model.name,
    layers: L,
    heads: H,
    settings,
    prompts: prompts.length,
    promptTokens: prompts.map((p) => p.length),
    cut,
    probe: { n: probe.n, seed: settings['probe_seed'] as number, tokenRange: [probe.low, model.config.vocabSize] },
    table,
    sinkRate: {
      rate: (100 * sinkCount) / (L * per),
      count: sinkCount,
      total: L * per,
      epsilon,
      perLayer: perLayer.map((c) => (100 * c) / per),
    },
    hiddenSinkTokens,
    findings: findingsOf(table, settings, mean(prompts.map((p) => p.length))),
    bytes,
  };
}

/** The first `n` hits with different token strings (a sink head's top keys would otherwise all be position 0). */
function distinctTokens(sorted: readonly HiddenSinkHit[], n: number): HiddenSinkHit[] {
  const seen = new Set<string>();
  const out: HiddenSinkHit[] = [];
  for (const hit of sorted) {
    if (out.length === n) break;
    if (seen.has(hit.token)) continue;
    seen.add(hit.token);
    out.push(hit);
  }
  return out;
}

/** Heads above each detector's threshold, with their evidence, strongest first within each kind. */
export function findingsOf(table: readonly AtlasHead[], settings: AtlasSettings, meanTokens: number): Finding[] {
  const out: Finding[] = [];
  for (const d of DETECTORS) {
    if (!d.finding) continue;
    const { kind, score, threshold: key } = d.finding;
    const threshold = kind === 'hidden-sink' && settings['hidden_mode'] === 'relative' ? (settings['alpha'] as number) / meanTokens : (settings[key] as number);
    const found = table
      .filter((row) => row.scores[score]! > threshold)
      .map((row): Finding => ({ kind, layer: row.layer, head: row.head, score: row.scores[score]!, threshold, evidence: evidenceOf(kind, row, settings) }));
    out.push(...found.sort((a, b) => b.score - a.score));
  }
  return out;
}

function evidenceOf(kind: Finding['kind'], row: AtlasHead, settings: AtlasSettings): Record<string, unknown> {
  if (kind === 'first-token-sink') {
    const values = row.perPrompt['first_token_sink'] ?? [];
    return { prompts_over_epsilon: values.filter((v) => v > (settings['epsilon'] as number)).length, prompts: values.length, columns: [0] };
  }
  if (kind === 'hidden-sink') {
    const byToken = new Map<string, number>();
    for (const h of row.hiddenSinks) byToken.set(h.token, (byToken.get(h.token) ?? 0) + 1);
    const tokens = [...byToken].sort((a, b) => b[1] - a[1]).map(([token, hits]) => ({ token, hits }));
    return { tokens: tokens.slice(0, 5), hits: row.hiddenSinks.length };
  }
  if (kind === 'successor') return { tasks: row.successorTasks };
  if (kind === 'retrieval') return { counted_tests: row.retrievalTests?.counted, tests: row.retrievalTests?.tests };
  const key = kind === 'previous-token' ? 'previous_token' : kind === 'duplicate-token' ? 'duplicate_token' : 'induction';
  return { probe_tl: row.scores[`${key}_tl`], prompts_tl: row.scores[`${key}_text`] };
}

/**
 * The retrieval lab's per-head scores (methods §4, computed from decoding, not by the atlas run) merged into
 * an atlas result as the `retrieval` score, with its findings. With no counted test there is no evidence:
 * the result is returned unchanged rather than with zeros.
 */
export function withRetrievalScores(result: AtlasResult, retrieval: ArrayLike<number>, tests: { counted: number; tests: number }): AtlasResult {
  if (retrieval.length !== result.table.length)
    throw new RangeError(`retrieval scores for ${retrieval.length} heads, the atlas has ${result.table.length}: they come from another model`);
  if (tests.counted === 0) return result;
  const table = result.table.map((row, i) => ({ ...row, scores: { ...row.scores, retrieval: retrieval[i]! }, retrievalTests: tests }));
  return { ...result, table, findings: findingsOf(table, result.settings, mean(result.promptTokens)) };
}
