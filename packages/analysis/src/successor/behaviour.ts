/**
 * The behavioural check of successor heads (methods.md §5): on ordinal runs (" Monday, Tuesday, Wednesday,")
 * and matched random-word controls (" river, chair, stone,"), at the final comma, does the head attend to the
 * last item, and does its direct logit attribution favour the successor (" Thursday") over the item itself
 * (" Wednesday")? The controls keep the ordinal prompt's two target tokens, so a head that favours
 * " Thursday" whatever it reads shows the same margin on both.
 */
import { type AttributionPrompt, type AttributionRunOptions, type LoadedModel, lastPositionAttribution } from '@headscope/models';
import { AnalysisInputError } from '../errors.js';
import { singleToken, type TaskSet, type TaskSets, type TaskTokenizer } from './tasks.js';

export interface SuccessorPrompt {
  task: string;
  kind: 'ordinal' | 'control';
  /** " Monday, Tuesday, Wednesday," */
  text: string;
  tokens: number[];
  /** Position of the last item (the token before the final comma). */
  lastItem: number;
  /** The last item's token (" Wednesday"; for a control, its ordinal prompt's) and its successor (" Thursday"). */
  item: number;
  successor: number;
  itemText: string;
  successorText: string;
}

/** Common words for the controls; those the tokenizer writes as one token and no task holds take part. */
export const CONTROL_WORDS: readonly string[] =
  'apple river chair green house stone cloud table bread water tree dog cat bird fish hill road door window book fire king queen ship town sea star moon sun girl boy man woman garden paper glass'.split(
    ' ',
  );

export interface SuccessorPromptOptions {
  /** Ordinal prompts per task, spread over the task's runs (default 2). */
  perTask?: number;
  /** Items before the final comma (default 3). */
  items?: number;
  /** Tokens before the text (BOS where the model adds one). */
  prefix?: readonly number[];
}

/** The tokenizer writes "," as several tokens, or has too few control words: no behavioural check. */
export class NoBehaviourPromptsError extends AnalysisInputError {
  constructor(what: string) {
    super(
      what,
      'The behavioural check needs "," as one token, at least three single-token common words and a task with four consecutive members; the weight score still stands.',
    );
  }
}

/** Ordinal prompts from the model's own task sets, each followed by its matched control. */
export function successorPrompts(sets: TaskSets, tokenizer: TaskTokenizer, options: SuccessorPromptOptions = {}): SuccessorPrompt[] {
  const perTask = options.perTask ?? 2;
  const n = options.items ?? 3;
  const prefix = options.prefix ?? [];
  const commaIds = tokenizer.encode(',');
  if (commaIds.length !== 1) throw new NoBehaviourPromptsError(`"," is ${commaIds.length} tokens in this tokenizer.`);
  const comma = commaIds[0]!;
  const taskTokens = new Set(sets.tokens);
  const controls: { text: string; token: number }[] = [];
  for (const w of CONTROL_WORDS) {
    const t = singleToken(tokenizer, w);
    if (t !== undefined && !taskTokens.has(t)) controls.push({ text: ` ${w}`, token: t });
  }
  if (controls.length < n) throw new NoBehaviourPromptsError(`Only ${controls.length} control words are single tokens.`);
  const out: SuccessorPrompt[] = [];
  const build = (words: { text: string; token: number }[]) => {
    const tokens = [...prefix];
    for (const w of words) tokens.push(w.token, comma);
    return { text: words.map((w) => `${w.text},`).join(''), tokens, lastItem: tokens.length - 2 };
  };
  let c = 0;
  for (const task of sets.tasks) {
    const runs = runsOf(task, n + 1);
    const picks = spread(runs.length, perTask);
    for (const r of picks) {
      const run = runs[r]!.map((i) => task.members[i]!);
      const items = run.slice(0, n);
      const item = items[n - 1]!;
      const succ = run[n]!;
      const targets = { item: item.token, successor: succ.token, itemText: item.text, successorText: succ.text };
      out.push({ task: task.id, kind: 'ordinal', ...build(items), ...targets });
      const words = Array.from({ length: n }, () => controls[c++ % controls.length]!);
      out.push({ task: task.id, kind: 'control', ...build(words), ...targets });
    }
  }
  if (out.length === 0) throw new NoBehaviourPromptsError(`No task has ${n + 1} consecutive single-token members.`);
  return out;
}

/** Runs of `len` members linked by the task's (t, succ t) pairs, as member indices. */
function runsOf(task: TaskSet, len: number): number[][] {
  const next = new Map(task.pairs.map(([a, b]) => [a, b]));
  const runs: number[][] = [];
  for (let start = 0; start < task.members.length; start++) {
    const run = [start];
    while (run.length < len && next.has(run.at(-1)!)) run.push(next.get(run.at(-1)!)!);
    if (run.length === len) runs.push(run);
  }
  return runs;
}

/** `k` indices spread evenly over 0 … n−1 (all of them when n ≤ k). */
function spread(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, i) => Math.round((i * (n - 1)) / Math.max(1, k - 1)));
}

/** One prompt's numbers for one head. */
export interface PromptHeadResult {
  /** Attention from the final comma to the last item. */
  attention: number;
  /** Direct logit attribution to the successor and to the item. */
  successor: number;
  item: number;
}

export interface SuccessorBehaviour {
  layer: number;
  head: number;
  /** Mean attention from the final comma to the last item, ordinal prompts / controls. */
  attention: number;
  controlAttention: number;
  /** Share of ordinal prompts whose DLA ranks the successor above the item (by more than BEHAVIOUR_MARGIN_EPS). */
  successorWins: number;
  /** Mean DLA(successor) − DLA(item), ordinal prompts / controls (the same two tokens). */
  margin: number;
  controlMargin: number;
  /** attention ≥ the threshold, successorWins > ½ and margin > controlMargin. */
  holds: boolean;
}

export interface SuccessorBehaviourResult {
  prompts: SuccessorPrompt[];
  /** Every head in (layer, head) order. */
  heads: SuccessorBehaviour[];
  /** perPrompt[p][layer·H + head]. */
  perPrompt: PromptHeadResult[][];
  attentionThreshold: number;
}

/** A DLA difference (logits) below this is float noise, not a preference. */
export const BEHAVIOUR_MARGIN_EPS = 1e-4;

/** Default share of the final comma's attention on the last item that counts as "attends to it". */
export const BEHAVIOUR_ATTENTION_THRESHOLD = 0.3;

/** Per-head summary from per-prompt numbers (GPU path and reference alike). */
export function summariseBehaviour(
  prompts: readonly SuccessorPrompt[],
  perPrompt: readonly PromptHeadResult[][],
  nLayers: number,
  nHeads: number,
  attentionThreshold = BEHAVIOUR_ATTENTION_THRESHOLD,
): SuccessorBehaviour[] {
  const heads: SuccessorBehaviour[] = [];
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  for (let l = 0; l < nLayers; l++) {
    for (let h = 0; h < nHeads; h++) {
      const i = l * nHeads + h;
      const of = (kind: SuccessorPrompt['kind']) => perPrompt.filter((_, p) => prompts[p]!.kind === kind).map((r) => r[i]!);
      const ord = of('ordinal');
      const ctl = of('control');
      const attention = mean(ord.map((r) => r.attention));
      const successorWins = mean(ord.map((r) => (r.successor - r.item > BEHAVIOUR_MARGIN_EPS ? 1 : 0)));
      const margin = mean(ord.map((r) => r.successor - r.item));
      const controlMargin = mean(ctl.map((r) => r.successor - r.item));
      heads.push({
        layer: l,
        head: h,
        attention,
        controlAttention: mean(ctl.map((r) => r.attention)),
        successorWins,
        margin,
        controlMargin,
        holds: attention >= attentionThreshold && successorWins > 0.5 && margin > controlMargin + BEHAVIOUR_MARGIN_EPS,
      });
    }
  }
  return heads;
}

/** The attribution prompts (targets: successor, item) of the check's prompts. */
export function attributionPrompts(prompts: readonly SuccessorPrompt[]): AttributionPrompt[] {
  return prompts.map((p) => ({ tokens: p.tokens, targets: [p.successor, p.item] }));
}

/** Runs the behavioural check on the GPU: one short pass per prompt, only per-head numbers read back. */
export async function successorBehaviour(
  model: Pick<LoadedModel, 'tokenizer' | 'transformer'>,
  sets: TaskSets,
  options: SuccessorPromptOptions & AttributionRunOptions & { attentionThreshold?: number } = {},
): Promise<SuccessorBehaviourResult> {
  const tok = model.tokenizer;
  const prefix = options.prefix ?? (tok.addBosDefault && tok.bosTokenId !== null ? [tok.bosTokenId] : []);
  const prompts = successorPrompts(
    sets,
    { encode: (t) => tok.encode(t, { addBos: false, checkContext: false }), tokenText: (id) => tok.tokenText(id) },
    { ...options, prefix },
  );
  const c = model.transformer.config;
  const r = await lastPositionAttribution(model.transformer, attributionPrompts(prompts), options);
  const perPrompt = prompts.map((p, i) => {
    const T = p.tokens.length;
    return Array.from({ length: c.nLayers * c.nHeads }, (_, lh) => ({
      attention: r.attention[i]![lh * T + p.lastItem]!,
      successor: r.dla[i]![lh * 2]!,
      item: r.dla[i]![lh * 2 + 1]!,
    }));
  });
  const threshold = options.attentionThreshold ?? BEHAVIOUR_ATTENTION_THRESHOLD;
  return { prompts, perPrompt, heads: summariseBehaviour(prompts, perPrompt, c.nLayers, c.nHeads, threshold), attentionThreshold: threshold };
}
