/**
 * `headscope calibrate`: the ACT head search or the ZeroTuning profile + γ grid on a labelled task, with
 * accuracy and valid-format rate before and after on the split used to choose and on the held-out split.
 * Progress goes to stderr; Ctrl-C cancels between forward passes.
 */
import { readFileSync } from 'node:fs';
import {
  type ActSearchResult,
  actHeadSearch,
  CALIBRATION_TASK_SETS,
  calibrationTaskJsonl,
  encodeTasks,
  formatHeads,
  parseTaskLines,
  type SearchProgress,
  scoringModel,
  splitExamples,
  type TaskLineProblem,
  type TaskScore,
  type ZeroTuningSearchResult,
  zeroTuningSearch,
} from '@headscope/analysis';
import type { CalibrateArgs } from './args.js';
import { withModel } from './commands.js';

type Score = Omit<TaskScore, 'examples'>;
const brief = ({ examples: _, ...s }: TaskScore): Score => s;

export interface CalibrateReport {
  method: 'act' | 'zerotuning';
  task: string;
  examples: { choose: number; heldOut: number };
  problems: TaskLineProblem[];
  before: { choose: Score; heldOut: Score };
  after: { choose: Score; heldOut: Score };
  /** ACT: the heads kept (layer.head); ZeroTuning: head indices applied in every layer. */
  heads: string;
  gamma?: number;
  seconds: number;
  secondsPerHead: number;
  detail: Omit<ActSearchResult, 'before' | 'after'> | Omit<ZeroTuningSearchResult, 'before' | 'after'>;
}

export function executeCalibrate(args: CalibrateArgs, onProgress: (p: SearchProgress) => void, signal?: AbortSignal): Promise<CalibrateReport> {
  const set = args.taskSet ? CALIBRATION_TASK_SETS.find((t) => t.id === args.taskSet)! : undefined;
  const text = set ? calibrationTaskJsonl(set) : readFileSync(args.task!, 'utf8');
  const parsed = parseTaskLines(text);
  return withModel({ model: args.model, ...(args.bos !== undefined ? { bos: args.bos } : {}) }, async (_ctx, model, _ids, bos) => {
    const { examples, problems } = encodeTasks(parsed, (t, o) => model.encode(t, o), { bos, decode: (ids) => model.tokenizer.decode(ids) });
    const split = splitExamples(examples, args.split);
    const sm = scoringModel(model);
    const common = { onProgress, ...(signal ? { signal } : {}) };
    const r =
      args.method === 'act'
        ? await actHeadSearch(sm, split, {
            ...common,
            settings: { ...(args.tau !== undefined ? { tau: args.tau } : {}), ...(args.beta !== undefined ? { beta: args.beta } : {}) },
          })
        : await zeroTuningSearch(sm, split, { ...common, objective: args.objective, ...(args.gammaGrid ? { grid: args.gammaGrid } : {}) });
    const { before, after, ...detail } = r;
    return {
      method: args.method,
      task: set ? `built-in:${set.id}` : args.task!,
      examples: { choose: split.choose.length, heldOut: split.heldOut.length },
      problems,
      before: { choose: brief(before.choose), heldOut: brief(before.heldOut) },
      after: { choose: brief(after.choose), heldOut: brief(after.heldOut) },
      heads: r.method === 'act' ? formatHeads(r.kept) : r.heads.join(','),
      ...(r.method === 'zerotuning' ? { gamma: r.gamma } : {}),
      seconds: r.seconds,
      secondsPerHead: r.secondsPerHead,
      detail,
    };
  });
}
