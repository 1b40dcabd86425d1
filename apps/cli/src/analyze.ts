import { readFileSync } from 'node:fs';
import {
  type AttentionMap,
  analyzeSuccessors,
  detectionScore,
  NoSuccessorTasksError,
  patternMatrix,
  probeScores,
  rankSuccessorHeads,
  repeatedRandomTokens,
  sinkRate,
  taskReport,
} from '@headscope/analysis';
import type { EffectiveEmbedding, LoadedModel } from '@headscope/models';

/** Short public-domain-style English prompts used when no --prompts file is given. */
export const DEFAULT_PROMPTS = [
  'Once upon a time there was a little girl who lived in a village near the forest. Every morning she walked to the well to fetch water for her mother, and every evening she sat by the fire and listened to the old stories of the hills.',
  'The ship had been at sea for forty days when the captain called the crew together on the deck. He told them that the water was running low, that the wind had failed them, and that they must row in turns through the night.',
  'In the spring the boys went down to the river to fish. Tom carried the rods and Harry carried the basket, and the little dog ran ahead of them barking at every bird that rose out of the long grass.',
  'She opened the letter slowly, for she knew the hand that had written it. It was short, only a few lines, but when she had read it twice she put it down on the table and looked out of the window for a long time.',
];

export interface AnalyzeReport {
  prompts: number;
  max_tokens: number;
  sink_rate: { epsilon: number; key: number; rate: number; count: number; total: number };
  probe: { n: number; seed: number; token_range: [number, number] };
  heads: Array<{
    layer: number;
    head: number;
    induction: number;
    duplicate_token: number;
    previous_token: number;
    induction_tl: number;
    /** Successor score (methods §5) of the chosen variant; absent when the tokenizer has no ordinal task. */
    successor?: number;
    /** Success per task id. */
    successor_tasks?: Record<string, number>;
  }>;
  best: { induction: HeadScore; previous_token: HeadScore; duplicate_token: HeadScore; successor?: HeadScore };
  /** Which tasks the tokenizer has ("numbers: 187 of 200 single tokens; …"), the variant, or why there is no score. */
  successor: { variant: EffectiveEmbedding; tasks: string; error?: string };
}
type HeadScore = { layer: number; head: number; score: number };

function split(all: Float32Array, heads: number, n: number): AttentionMap[] {
  return Array.from({ length: heads }, (_, h) => ({ n, data: all.subarray(h * n * n, (h + 1) * n * n) }));
}

/** Sink rate (methods.md §2) over prompts cut to maxTokens, and the §3 probe scores of every head. */
export async function analyzeModel(
  model: LoadedModel,
  options: { promptsFile?: string; bos?: boolean; maxTokens: number; probeN: number; seed: number; successorVariant?: EffectiveEmbedding },
): Promise<AnalyzeReport> {
  const c = model.config;
  const texts = options.promptsFile
    ? readFileSync(options.promptsFile, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
    : DEFAULT_PROMPTS;
  const prompts: AttentionMap[][][] = [];
  for (const text of texts) {
    const ids = model.encode(text, options.bos === undefined ? {} : { bos: options.bos }).slice(0, Math.min(options.maxTokens, c.nCtx));
    const { logits, attention } = model.run(ids, { logits: 'last' });
    const layers: AttentionMap[][] = [];
    for (let l = 0; l < c.nLayers; l++) layers.push(split(await attention.layer(l), c.nHeads, ids.length));
    prompts.push(layers);
    model.transformer.ctx.release(logits);
    attention.release();
  }
  const sr = sinkRate(prompts, { epsilon: 0.3, key: 0 });

  const n = Math.min(options.probeN, Math.floor(c.nCtx / 2));
  const low = Math.min(1000, Math.floor(c.vocabSize / 4));
  const tokens = repeatedRandomTokens(n, low, c.vocabSize, options.seed);
  const { logits, attention } = model.run(tokens, { logits: 'last' });
  const induction = patternMatrix('induction', tokens);
  const heads: AnalyzeReport['heads'] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const maps = split(await attention.layer(l), c.nHeads, tokens.length);
    maps.forEach((m, h) => {
      const p = probeScores(m, n);
      heads.push({
        layer: l,
        head: h,
        induction: p.induction,
        duplicate_token: p.duplicateToken,
        previous_token: p.previousToken,
        induction_tl: detectionScore(m, induction),
      });
    });
  }
  model.transformer.ctx.release(logits);
  attention.release();
  const variant = options.successorVariant ?? 'mlp0';
  let successor: AnalyzeReport['successor'];
  let bestSuccessor: HeadScore | undefined;
  try {
    const a = await analyzeSuccessors(model, { embedding: variant });
    a.circuit.release();
    for (const s of a.heads) Object.assign(heads[s.layer * c.nHeads + s.head]!, { successor: s.score, successor_tasks: s.tasks });
    const top = rankSuccessorHeads(a.heads)[0]!;
    bestSuccessor = { layer: top.layer, head: top.head, score: top.score };
    successor = { variant, tasks: taskReport(a.tasks.all) };
  } catch (e) {
    if (!(e instanceof NoSuccessorTasksError)) throw e;
    successor = { variant, tasks: e.report, error: e.message };
  }
  const best = (key: 'induction' | 'previous_token' | 'duplicate_token'): HeadScore => {
    const top = heads.reduce((a, b) => (b[key] > a[key] ? b : a));
    return { layer: top.layer, head: top.head, score: top[key] };
  };
  return {
    prompts: texts.length,
    max_tokens: options.maxTokens,
    sink_rate: { epsilon: sr.epsilon, key: sr.key, rate: sr.rate, count: sr.count, total: sr.total },
    probe: { n, seed: options.seed, token_range: [low, c.vocabSize] },
    heads,
    best: {
      induction: best('induction'),
      previous_token: best('previous_token'),
      duplicate_token: best('duplicate_token'),
      ...(bestSuccessor ? { successor: bestSuccessor } : {}),
    },
    successor,
  };
}
