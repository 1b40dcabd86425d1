/**
 * Labelled task files (JSONL): one example per line, `{"prompt": "…", "choices": [" a", " b"], "label": 0}`.
 * Each bad line is reported with its number and the rest of the file stays usable. A choice is scored by
 * the last sub-token of its tokenisation (as in the ACT authors' evaluation).
 */
import { TaskFileError, type TaskLineProblem } from './errors.js';

export interface TaskExample {
  /** 1-based line of the file (0 for built-in sets). */
  line: number;
  prompt: string;
  choices: string[];
  label: number;
}

/** An example ready for a model: prompt ids and the scored token of each choice. */
export interface EncodedExample extends TaskExample {
  ids: number[];
  choiceTokens: number[];
}

export interface ParsedTasks {
  examples: TaskExample[];
  problems: TaskLineProblem[];
}

const MAX_CHOICES = 64;

/** Parses JSONL text; blank lines are skipped. Never throws for a bad line: it lands in `problems`. */
export function parseTaskLines(text: string): ParsedTasks {
  const examples: TaskExample[] = [];
  const problems: TaskLineProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      problems.push({ line, message: 'not valid JSON' });
      return;
    }
    const problem = checkExample(v);
    if (problem) problems.push({ line, message: problem });
    else {
      const o = v as { prompt: string; choices: string[]; label: number };
      examples.push({ line, prompt: o.prompt, choices: [...o.choices], label: o.label });
    }
  });
  return { examples, problems };
}

function checkExample(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  if (typeof o['prompt'] !== 'string' || o['prompt'] === '') return '"prompt" must be a non-empty string';
  const choices = o['choices'];
  if (!Array.isArray(choices) || choices.length < 2 || choices.length > MAX_CHOICES || !choices.every((c) => typeof c === 'string'))
    return `"choices" must be a list of 2–${MAX_CHOICES} strings`;
  const label = o['label'];
  if (typeof label !== 'number' || !Number.isInteger(label)) return '"label" must be a whole number';
  if (label < 0 || label >= choices.length) return `"label" ${label} is out of range: it must be 0–${choices.length - 1} (the index of the right choice)`;
  return undefined;
}

/**
 * Tokenises prompts and choices. Examples whose choice encodes to nothing, or whose choices end in the
 * same token (indistinguishable by the score), become problems too. Throws TaskFileError only when no
 * example is left.
 */
export function encodeTasks(
  parsed: ParsedTasks,
  encode: (text: string, options: { bos: boolean }) => number[],
  options: { bos: boolean; decode?: (ids: number[]) => string },
): { examples: EncodedExample[]; problems: TaskLineProblem[] } {
  const problems = [...parsed.problems];
  const examples: EncodedExample[] = [];
  for (const ex of parsed.examples) {
    const last = ex.choices.map((c) => encode(c, { bos: false }).at(-1));
    const empty = last.indexOf(undefined);
    if (empty >= 0) {
      problems.push({ line: ex.line, message: `choice ${empty} (${JSON.stringify(ex.choices[empty])}) is empty after tokenisation` });
      continue;
    }
    const tokens = last as number[];
    const dup = tokens.findIndex((t, i) => tokens.indexOf(t) !== i);
    if (dup >= 0) {
      const tok = options.decode ? ` (${JSON.stringify(options.decode([tokens[dup]!]))})` : '';
      problems.push({ line: ex.line, message: `choices ${tokens.indexOf(tokens[dup]!)} and ${dup} end in the same token${tok}, so they cannot be told apart` });
      continue;
    }
    const ids = encode(ex.prompt, { bos: options.bos });
    if (ids.length === 0) {
      problems.push({ line: ex.line, message: 'the prompt is empty after tokenisation' });
      continue;
    }
    examples.push({ ...ex, ids, choiceTokens: tokens });
  }
  problems.sort((a, b) => a.line - b.line);
  if (examples.length === 0) throw new TaskFileError(problems);
  return { examples, problems };
}

/** A seeded shuffle, then the first ⌈fraction·n⌉ examples choose (heads, γ) and the rest are held out. */
export function splitExamples<T>(examples: readonly T[], fraction: number, seed = 0): { choose: T[]; heldOut: T[] } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`the split must be between 0 and 1 (got ${fraction})`);
  const order = examples.map((_, i) => i);
  let s = seed >>> 0 || 0x9e3779b9;
  for (let i = order.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const cut = Math.min(examples.length - 1, Math.max(1, Math.ceil(fraction * examples.length)));
  return { choose: order.slice(0, cut).map((i) => examples[i]!), heldOut: order.slice(cut).map((i) => examples[i]!) };
}
