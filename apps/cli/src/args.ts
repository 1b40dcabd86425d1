import { parseArgs } from 'node:util';
import { CALIBRATION_TASK_SETS } from '@headscope/analysis';
import { EFFECTIVE_EMBEDDINGS, type EffectiveEmbedding } from '@headscope/models';

export class UsageError extends Error {
  override name = 'UsageError';
}

const TASK_SET_IDS = CALIBRATION_TASK_SETS.map((t) => t.id).join('|');

export const USAGE = `usage:
  headscope run --model DIR (--prompt TEXT | --ids 1,2,3) [--bos | --no-bos] [--format auto|safetensors|onnx] --out FILE.safetensors
                [--act HEADS [--act-tau T | --act-alpha A] [--act-beta B]] [--zerotuning HEADS --zerotuning-gamma G] [--pre]
  headscope generate --model DIR (--prompt TEXT | --ids 1,2,3) [--bos | --no-bos] [--format auto|safetensors|onnx] --max-new-tokens N
                     [--temperature T] [--top-k K] [--seed S]
  headscope analyze --model DIR [--prompts FILE] [--json OUT.json] [--csv OUT.csv] [--bos | --no-bos]
                    [--max-tokens 64] [--probe-n 50] [--seed S] [--successor-variant mlp0|mlp0+embedding|embedding]
                    [--set KEY=VALUE …]
    FILE: .txt (one prompt a line), .jsonl ("prompt" field) or .csv ("prompt" column); without it, 4 built-in prompts.
    --set changes any atlas setting (epsilon, tau, hidden_mode, alpha, ignore_last_keys, tl_mode, exclude_bos,
    exclude_current_token, …_threshold); --max-tokens 0 analyses whole prompts (they must fit the context).
  headscope calibrate --model DIR (--task FILE.jsonl | --task-set ${TASK_SET_IDS}) --method act|zerotuning [--split 0.5]
                      [--objective accuracy|entropy] [--gamma-grid 0.5,1,2] [--act-tau T] [--act-beta B] [--json OUT.json]
  headscope retrieval --model DIR [--needles FILE.jsonl] [--haystack FILE.txt] [--lengths a,b,…] [--depths 0,50,100]
                      [--max-new-tokens 50] [--mask-top K] [--seed S] [--template TEXT] [--bos | --no-bos] [--json OUT.json]
HEADS: comma-separated layer.head (0-based), e.g. 1.5,2.11, or all.
--format auto (the default): an ONNX export when DIR or DIR/onnx holds model.onnx, else the safetensors checkpoint.`;

export type ModelFormat = 'auto' | 'safetensors' | 'onnx';

export interface CommonArgs {
  model: string;
  /** 'auto' (default): ONNX when the folder holds model.onnx (or onnx/model.onnx). */
  format?: ModelFormat;
  prompt?: string;
  ids?: number[];
  /** undefined = the model's default. */
  bos?: boolean;
}

/** Calibration on `headscope run`; HEADS are checked against the model once it is loaded. */
export interface RunCalibration {
  act?: { heads: string; tau?: number; tauMode?: 'relative'; beta?: number };
  zeroTuning?: { heads: string; gamma: number };
  pre: boolean;
}

export interface CalibrateArgs {
  model: string;
  bos?: boolean;
  task?: string;
  taskSet?: string;
  method: 'act' | 'zerotuning';
  split: number;
  objective: 'accuracy' | 'entropy';
  tau?: number;
  beta?: number;
  /** ZeroTuning γ values to try (default 0.25 … 4 by 0.25). */
  gammaGrid?: number[];
  json?: string;
}

export type Command =
  | ({ command: 'run'; out: string; calibration: RunCalibration } & CommonArgs)
  | ({ command: 'calibrate' } & CalibrateArgs)
  | ({ command: 'generate'; maxNewTokens: number; temperature: number; topK: number; seed: number } & CommonArgs)
  | ({ command: 'analyze'; promptsFile?: string; json?: string; csv?: string; settings: Record<string, unknown> } & Omit<CommonArgs, 'prompt' | 'ids'>)
  | ({ command: 'retrieval' } & RetrievalArgs)
  | { command: 'help' };

export interface RetrievalArgs {
  model: string;
  bos?: boolean;
  needlesFile?: string;
  haystackFile?: string;
  lengths?: string;
  depths?: string;
  maxNewTokens: number;
  maskTop: number;
  seed: number;
  template?: string;
  json?: string;
}

function parseIds(text: string): number[] {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const ids = parts.map(Number);
  if (parts.length === 0 || ids.some((n) => !Number.isInteger(n) || n < 0))
    throw new UsageError(`--ids must be comma-separated non-negative integers (got "${text}")`);
  return ids;
}

function num(name: string, text: string | undefined, fallback: number, check: (n: number) => boolean): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} has an invalid value "${text}"`);
  return n;
}

/** "true"/"false" → boolean, numbers → number, anything else stays text (the registry checks it). */
function settingValue(text: string): unknown {
  if (text === 'true' || text === 'false') return text === 'true';
  return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
}

export function parseCommand(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') return { command: 'help' };
  if (command !== 'run' && command !== 'generate' && command !== 'analyze' && command !== 'calibrate' && command !== 'retrieval')
    throw new UsageError(`unknown command "${command}"`);
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: {
        model: { type: 'string' },
        format: { type: 'string' },
        prompt: { type: 'string' },
        ids: { type: 'string' },
        bos: { type: 'boolean' },
        'no-bos': { type: 'boolean' },
        out: { type: 'string' },
        'max-new-tokens': { type: 'string' },
        temperature: { type: 'string' },
        'top-k': { type: 'string' },
        seed: { type: 'string' },
        prompts: { type: 'string' },
        'max-tokens': { type: 'string' },
        'probe-n': { type: 'string' },
        'successor-variant': { type: 'string' },
        act: { type: 'string' },
        'act-tau': { type: 'string' },
        'act-alpha': { type: 'string' },
        'act-beta': { type: 'string' },
        zerotuning: { type: 'string' },
        'zerotuning-gamma': { type: 'string' },
        pre: { type: 'boolean' },
        task: { type: 'string' },
        'task-set': { type: 'string' },
        method: { type: 'string' },
        split: { type: 'string' },
        objective: { type: 'string' },
        json: { type: 'string' },
        'gamma-grid': { type: 'string' },
        needles: { type: 'string' },
        haystack: { type: 'string' },
        lengths: { type: 'string' },
        depths: { type: 'string' },
        'mask-top': { type: 'string' },
        template: { type: 'string' },
        csv: { type: 'string' },
        set: { type: 'string', multiple: true },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const model = values.model as string | undefined;
  if (!model) throw new UsageError('--model DIR is required');
  if (values.bos && values['no-bos']) throw new UsageError('--bos and --no-bos contradict each other');
  const format = (values.format as string | undefined) ?? 'auto';
  if (format !== 'auto' && format !== 'safetensors' && format !== 'onnx') throw new UsageError(`--format must be auto, safetensors or onnx (got "${format}")`);
  if (command === 'analyze') {
    const settings: Record<string, unknown> = {};
    for (const pair of (values.set as string[] | undefined) ?? []) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new UsageError(`--set needs KEY=VALUE (got "${pair}")`);
      settings[pair.slice(0, eq)] = settingValue(pair.slice(eq + 1));
    }
    for (const [flag, key] of [
      ['max-tokens', 'max_tokens'],
      ['probe-n', 'probe_n'],
      ['seed', 'probe_seed'],
    ] as const) {
      if (values[flag] !== undefined) settings[key] = settingValue(values[flag] as string);
    }
    if (values['successor-variant'] !== undefined) settings['successor_variant'] = successorVariant(values['successor-variant'] as string);
    return {
      command,
      model,
      format,
      ...(values.prompts ? { promptsFile: values.prompts as string } : {}),
      ...(values.json ? { json: values.json as string } : {}),
      ...(values.csv ? { csv: values.csv as string } : {}),
      ...(values.bos ? { bos: true } : values['no-bos'] ? { bos: false } : {}),
      settings,
    };
  }
  const str = (k: string) => values[k] as string | undefined;
  const tau = str('act-tau') === undefined ? undefined : num('act-tau', str('act-tau'), 0, (n) => n >= 0);
  const beta = str('act-beta') === undefined ? undefined : num('act-beta', str('act-beta'), 0, (n) => n >= 0 && n <= 1);
  if (command === 'calibrate') {
    const method = str('method');
    if (method !== 'act' && method !== 'zerotuning') throw new UsageError('calibrate needs --method act or --method zerotuning');
    if ((str('task') === undefined) === (str('task-set') === undefined))
      throw new UsageError(`give exactly one of --task FILE.jsonl or --task-set ${TASK_SET_IDS}`);
    const taskSet = str('task-set');
    if (taskSet !== undefined && !CALIBRATION_TASK_SETS.some((t) => t.id === taskSet))
      throw new UsageError(`--task-set must be one of ${TASK_SET_IDS} (got "${taskSet}")`);
    const objective = str('objective') ?? 'accuracy';
    if (objective !== 'accuracy' && objective !== 'entropy') throw new UsageError('--objective must be accuracy or entropy');
    return {
      command,
      model,
      method,
      objective,
      split: num('split', str('split'), 0.5, (n) => n > 0 && n < 1),
      ...(str('task') !== undefined ? { task: str('task')! } : {}),
      ...(taskSet !== undefined ? { taskSet } : {}),
      ...(values.bos ? { bos: true } : values['no-bos'] ? { bos: false } : {}),
      ...(tau !== undefined ? { tau } : {}),
      ...(beta !== undefined ? { beta } : {}),
      ...(str('json') !== undefined ? { json: str('json')! } : {}),
      ...(str('gamma-grid') !== undefined ? { gammaGrid: parseGrid(str('gamma-grid')!) } : {}),
    };
  }
  if (command === 'retrieval') {
    return {
      command,
      model,
      ...(values.bos ? { bos: true } : values['no-bos'] ? { bos: false } : {}),
      ...(str('needles') !== undefined ? { needlesFile: str('needles')! } : {}),
      ...(str('haystack') !== undefined ? { haystackFile: str('haystack')! } : {}),
      ...(str('lengths') !== undefined ? { lengths: str('lengths')! } : {}),
      ...(str('depths') !== undefined ? { depths: str('depths')! } : {}),
      ...(str('template') !== undefined ? { template: str('template')! } : {}),
      ...(str('json') !== undefined ? { json: str('json')! } : {}),
      maxNewTokens: num('max-new-tokens', str('max-new-tokens'), 50, (n) => Number.isInteger(n) && n >= 1),
      maskTop: num('mask-top', str('mask-top'), 0, (n) => Number.isInteger(n) && n >= 0),
      seed: num('seed', str('seed'), 0, (n) => Number.isInteger(n)),
    };
  }
  const prompt = values.prompt as string | undefined;
  const idsText = values.ids as string | undefined;
  if ((prompt === undefined) === (idsText === undefined)) throw new UsageError('give exactly one of --prompt TEXT or --ids 1,2,3');
  const common: CommonArgs = {
    model,
    format,
    ...(prompt !== undefined ? { prompt } : {}),
    ...(idsText !== undefined ? { ids: parseIds(idsText) } : {}),
    ...(values.bos ? { bos: true } : values['no-bos'] ? { bos: false } : {}),
  };
  if (command === 'run') {
    const out = values.out as string | undefined;
    if (!out) throw new UsageError('run needs --out FILE.safetensors');
    return { command, out, ...common, calibration: runCalibration(str, tau, beta, values.pre === true) };
  }
  if (values['max-new-tokens'] === undefined) throw new UsageError('generate needs --max-new-tokens N');
  return {
    command,
    ...common,
    maxNewTokens: num('max-new-tokens', values['max-new-tokens'] as string, 0, (n) => Number.isInteger(n) && n >= 1),
    temperature: num('temperature', values.temperature as string | undefined, 0, (n) => n >= 0),
    topK: num('top-k', values['top-k'] as string | undefined, 50, (n) => Number.isInteger(n) && n >= 1 && n <= 64),
    seed: num('seed', values.seed as string | undefined, 0, (n) => Number.isInteger(n)),
  };
}

function runCalibration(str: (k: string) => string | undefined, tau: number | undefined, beta: number | undefined, pre: boolean): RunCalibration {
  const out: RunCalibration = { pre };
  const actHeads = str('act');
  const alpha = str('act-alpha') === undefined ? undefined : num('act-alpha', str('act-alpha'), 0, (n) => n >= 0);
  if (actHeads === undefined && (tau !== undefined || beta !== undefined || alpha !== undefined))
    throw new UsageError('--act-tau, --act-alpha and --act-beta need --act HEADS');
  if (tau !== undefined && alpha !== undefined) throw new UsageError('--act-tau (absolute) and --act-alpha (relative, α/N) exclude each other');
  if (actHeads !== undefined) {
    out.act = {
      heads: actHeads,
      ...(tau !== undefined ? { tau } : {}),
      ...(alpha !== undefined ? { tau: alpha, tauMode: 'relative' as const } : {}),
      ...(beta !== undefined ? { beta } : {}),
    };
  }
  const ztHeads = str('zerotuning');
  const gamma = str('zerotuning-gamma');
  if ((ztHeads === undefined) !== (gamma === undefined)) throw new UsageError('--zerotuning HEADS and --zerotuning-gamma G go together');
  if (ztHeads !== undefined) out.zeroTuning = { heads: ztHeads, gamma: num('zerotuning-gamma', gamma, 1, (n) => n > 0) };
  return out;
}

function parseGrid(text: string): number[] {
  const g = text.split(',').map(Number);
  if (g.length === 0 || g.some((x) => !(x > 0 && Number.isFinite(x)))) throw new UsageError(`--gamma-grid must be comma-separated numbers > 0 (got "${text}")`);
  return g;
}

function successorVariant(v: string | undefined): EffectiveEmbedding {
  if (v === undefined) return 'mlp0';
  const known = EFFECTIVE_EMBEDDINGS.find((e) => e === v);
  if (!known) throw new UsageError(`--successor-variant must be one of ${EFFECTIVE_EMBEDDINGS.join(', ')} (got "${v}")`);
  return known;
}
