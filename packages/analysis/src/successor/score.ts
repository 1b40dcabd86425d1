/**
 * The weight-space succession score (methods.md §5): for every head, the share of (t, succ t) pairs of
 * every task whose restricted OV-circuit logits rank succ(t) first among the task's own tokens (t included,
 * so a copying head fails).
 */
import { type EffectiveEmbedding, type LoadedModel, type OvCircuit, type OvCircuitOptions, ovCircuit } from '@headscope/models';
import { findTaskSets, type TaskSet, type TaskSets, type TaskTokenizer } from './tasks.js';

export interface SuccessorHeadScore {
  layer: number;
  head: number;
  /** Mean success over every pair of every task. */
  score: number;
  /** Success per task id (mean over the task's pairs). */
  tasks: Record<string, number>;
}

export type SuccessorOptions = OvCircuitOptions;

/**
 * Scores from argmaxes: `argmaxOf(layer, head, task, member)` is the member index (within the task) that
 * the head's logits rank first for that member's row.
 */
export function successorScores(
  tasks: readonly TaskSet[],
  nLayers: number,
  nHeads: number,
  argmaxOf: (layer: number, head: number, task: number, member: number) => number,
): SuccessorHeadScore[] {
  const totalPairs = tasks.reduce((a, t) => a + t.pairs.length, 0);
  const out: SuccessorHeadScore[] = [];
  for (let l = 0; l < nLayers; l++) {
    for (let h = 0; h < nHeads; h++) {
      let hits = 0;
      const perTask: Record<string, number> = {};
      tasks.forEach((task, k) => {
        let taskHits = 0;
        for (const [i, j] of task.pairs) if (argmaxOf(l, h, k, i) === j) taskHits++;
        perTask[task.id] = taskHits / task.pairs.length;
        hits += taskHits;
      });
      out.push({ layer: l, head: h, score: totalPairs ? hits / totalPairs : 0, tasks: perTask });
    }
  }
  return out;
}

/** Heads by score, best first (ties: lower layer, then lower head). */
export function rankSuccessorHeads(heads: readonly SuccessorHeadScore[]): SuccessorHeadScore[] {
  return [...heads].sort((a, b) => b.score - a.score || a.layer - b.layer || a.head - b.head);
}

export interface SuccessorAnalysis {
  tasks: TaskSets;
  embedding: EffectiveEmbedding;
  options: SuccessorOptions;
  /** Every head in (layer, head) order. */
  heads: SuccessorHeadScore[];
  /** The OV circuit on the GPU, for per-head task × task matrices; release() it when done. */
  circuit: OvCircuit;
}

/** The tokenizer view the task finder needs, from a loaded model (no BOS, no context check). */
export function taskTokenizer(model: Pick<LoadedModel, 'tokenizer'>): TaskTokenizer {
  return {
    encode: (text) => model.tokenizer.encode(text, { addBos: false, checkContext: false }),
    tokenText: (id) => model.tokenizer.tokenText(id),
  };
}

/** Task sets from the model's tokenizer, the OV circuit of every head on the GPU, and the scores. */
export async function analyzeSuccessors(model: Pick<LoadedModel, 'tokenizer' | 'transformer'>, options: SuccessorOptions = {}): Promise<SuccessorAnalysis> {
  const tasks = findTaskSets(taskTokenizer(model));
  const index = new Map(tasks.tokens.map((t, i) => [t, i]));
  const groups = tasks.tasks.map((t) => t.members.map((m) => index.get(m.token)!));
  const circuit = await ovCircuit(model.transformer, { tokens: tasks.tokens, groups }, options);
  const c = model.transformer.config;
  const heads = successorScores(tasks.tasks, c.nLayers, c.nHeads, (l, h, k, i) => circuit.argmaxOf(l, h, k, i));
  return { tasks, embedding: options.embedding ?? 'mlp0', options, heads, circuit };
}

/** The OV-circuit options the atlas settings select (successor_variant, successor_biases, successor_head_norm). */
export function successorOptionsOf(settings: Readonly<Record<string, unknown>>): SuccessorOptions {
  return {
    embedding: (settings['successor_variant'] as EffectiveEmbedding | undefined) ?? 'mlp0',
    biases: settings['successor_biases'] === true,
    headNorm: settings['successor_head_norm'] === true,
  };
}

/** The k tokens of a task that a head's logits rank highest after `member` (its row of the task block). */
export function topSuccessors(
  task: { members: readonly { text: string; token: number }[] },
  block: ArrayLike<number>,
  member: number,
  k = 5,
): { text: string; token: number; logit: number }[] {
  const n = task.members.length;
  const row = Array.from({ length: n }, (_, j) => ({ j, logit: block[member * n + j]! }));
  row.sort((a, b) => b.logit - a.logit || a.j - b.j);
  return row.slice(0, k).map(({ j, logit }) => ({ text: task.members[j]!.text, token: task.members[j]!.token, logit }));
}
