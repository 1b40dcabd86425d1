import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage:
  headscope run --model DIR (--prompt TEXT | --ids 1,2,3) [--bos | --no-bos] --out FILE.safetensors
  headscope generate --model DIR (--prompt TEXT | --ids 1,2,3) [--bos | --no-bos] --max-new-tokens N
                     [--temperature T] [--top-k K] [--seed S]
  headscope analyze --model DIR [--prompts FILE.txt] [--bos | --no-bos] [--max-tokens 64] [--probe-n 50] [--seed S]`;

export interface CommonArgs {
  model: string;
  prompt?: string;
  ids?: number[];
  /** undefined = the model's default. */
  bos?: boolean;
}

export type Command =
  | ({ command: 'run'; out: string } & CommonArgs)
  | ({ command: 'generate'; maxNewTokens: number; temperature: number; topK: number; seed: number } & CommonArgs)
  | ({ command: 'analyze'; promptsFile?: string; maxTokens: number; probeN: number; seed: number } & Omit<CommonArgs, 'prompt' | 'ids'>)
  | { command: 'help' };

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

export function parseCommand(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') return { command: 'help' };
  if (command !== 'run' && command !== 'generate' && command !== 'analyze') throw new UsageError(`unknown command "${command}"`);
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: {
        model: { type: 'string' },
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
  if (command === 'analyze') {
    return {
      command,
      model,
      ...(values.prompts ? { promptsFile: values.prompts as string } : {}),
      ...(values.bos ? { bos: true } : values['no-bos'] ? { bos: false } : {}),
      maxTokens: num('max-tokens', values['max-tokens'] as string | undefined, 64, (n) => Number.isInteger(n) && n >= 2),
      probeN: num('probe-n', values['probe-n'] as string | undefined, 50, (n) => Number.isInteger(n) && n >= 2),
      seed: num('seed', values.seed as string | undefined, 0, (n) => Number.isInteger(n)),
    };
  }
  const prompt = values.prompt as string | undefined;
  const idsText = values.ids as string | undefined;
  if ((prompt === undefined) === (idsText === undefined)) throw new UsageError('give exactly one of --prompt TEXT or --ids 1,2,3');
  const common: CommonArgs = {
    model,
    ...(prompt !== undefined ? { prompt } : {}),
    ...(idsText !== undefined ? { ids: parseIds(idsText) } : {}),
    ...(values.bos ? { bos: true } : values['no-bos'] ? { bos: false } : {}),
  };
  if (command === 'run') {
    const out = values.out as string | undefined;
    if (!out) throw new UsageError('run needs --out FILE.safetensors');
    return { command, out, ...common };
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
