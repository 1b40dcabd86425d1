import { AnswerNotInNeedleError, EmptyNeedleSetError, NeedleFileError } from './errors.js';

/** One needle-in-a-haystack item: a fact to hide, the question that asks for it, and the answer inside the fact. */
export interface Needle {
  needle: string;
  question: string;
  answer: string;
}

/**
 * Needles written for this project (not taken from any benchmark): each answer is a made-up name or
 * phrase no book would predict, so a model can only produce it by copying it from the context.
 */
export const BUILTIN_NEEDLES: readonly Needle[] = [
  {
    needle: ' The keeper of the blue lighthouse is named Orvald Penhallow.',
    question: ' Question: What is the keeper of the blue lighthouse named? Answer: The keeper of the blue lighthouse is named',
    answer: ' Orvald Penhallow',
  },
  {
    needle: ' The secret word for the garden gate is marigold thunder.',
    question: ' Question: What is the secret word for the garden gate? Answer: The secret word for the garden gate is',
    answer: ' marigold thunder',
  },
  {
    needle: ' The little grey donkey at the mill is called Barnaby Quill.',
    question: ' Question: What is the little grey donkey at the mill called? Answer: The little grey donkey at the mill is called',
    answer: ' Barnaby Quill',
  },
];

/** Checks one needle (strings, non-empty, answer inside the needle); `line` names the file line in messages. */
export function checkNeedle(value: unknown, line?: number): Needle {
  const at = line ?? 0;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new NeedleFileError(at, 'expected a JSON object');
  const o = value as Record<string, unknown>;
  for (const key of ['needle', 'question', 'answer'] as const) {
    if (typeof o[key] !== 'string') throw new NeedleFileError(at, `"${key}" must be a string (got ${o[key] === undefined ? 'nothing' : typeof o[key]})`);
    if ((o[key] as string).trim() === '') throw new NeedleFileError(at, `"${key}" is empty`);
  }
  const n = { needle: o['needle'] as string, question: o['question'] as string, answer: o['answer'] as string };
  if (!n.needle.includes(n.answer)) throw new AnswerNotInNeedleError(n.answer, n.needle, line);
  return n;
}

/** Parses a needle file: one JSON object per non-blank line. Errors name the line and say what to write. */
export function parseNeedlesJsonl(text: string): Needle[] {
  const out: Needle[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new NeedleFileError(i + 1, `not valid JSON (${(e as Error).message})`);
    }
    out.push(checkNeedle(value, i + 1));
  });
  if (out.length === 0) throw new EmptyNeedleSetError();
  return out;
}
