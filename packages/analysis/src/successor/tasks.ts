/**
 * Ordinal task sets for successor heads (methods.md §5), found in a model's own tokenizer. A member is the
 * word with a leading space (" Monday"); it takes part only if the tokenizer writes it as one token.
 */
import { AnalysisInputError } from '../errors.js';

export interface TaskDefinition {
  id: string;
  label: string;
  /** Members in order, without the leading space. */
  words: readonly string[];
  /** The last member's successor is the first (days, months). */
  cyclic: boolean;
}

const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

export const SUCCESSOR_TASKS: readonly TaskDefinition[] = [
  { id: 'numbers', label: 'numbers', words: range(1, 200), cyclic: false },
  {
    id: 'number-words',
    label: 'number words',
    words: 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty'.split(' '),
    cyclic: false,
  },
  { id: 'ordinals', label: 'ordinal words', words: 'first second third fourth fifth sixth seventh eighth ninth tenth'.split(' '), cyclic: false },
  { id: 'days', label: 'days', words: 'Monday Tuesday Wednesday Thursday Friday Saturday Sunday'.split(' '), cyclic: true },
  { id: 'months', label: 'months', words: 'January February March April May June July August September October November December'.split(' '), cyclic: true },
  { id: 'letters', label: 'letters', words: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split(''), cyclic: false },
  { id: 'day-abbreviations', label: 'day abbreviations', words: 'Mon Tue Wed Thu Fri Sat Sun'.split(' '), cyclic: true },
  { id: 'month-abbreviations', label: 'month abbreviations', words: 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' '), cyclic: true },
];

/** What the task finder needs of a tokenizer. */
export interface TaskTokenizer {
  /** Ids of a text, without BOS or other special tokens. */
  encode(text: string): number[];
  /** A token as readable text (" Monday"). */
  tokenText(id: number): string;
}

export interface TaskMember {
  /** " Monday" */
  text: string;
  token: number;
  /** Position in the task's full word list (gaps where a word is not a single token). */
  ordinal: number;
}

export interface TaskSet {
  id: string;
  label: string;
  cyclic: boolean;
  /** Words the task defines. */
  total: number;
  /** The single-token members, in order. */
  members: TaskMember[];
  /** (t, succ t) as indices into `members`: consecutive words that are both single tokens (and last → first when cyclic). */
  pairs: [number, number][];
}

export interface TaskSets {
  /** Tasks with at least one (t, succ t) pair. */
  tasks: TaskSet[];
  /** Every task, including those with no pair, for the "numbers: 187 of 200 single tokens" report. */
  all: TaskSet[];
  /** Distinct task tokens over all usable tasks (a token may belong to two tasks: " May"). */
  tokens: number[];
}

/** The model's tokenizer writes none of the ordinal words as single tokens: no successor score exists. */
export class NoSuccessorTasksError extends AnalysisInputError {
  constructor(readonly report: string) {
    super(
      `No successor task has two consecutive single-token members (${report}).`,
      'Successor scores need ordinal words (" 1", " Monday", " January", …) that the tokenizer writes as one token each; this model has none, so its heads cannot be scored.',
    );
  }
}

/**
 * The single token of " word", or undefined. Byte-level BPE and word-piece vocabularies encode " word" as
 * one token directly; SentencePiece tokenizers that add a dummy prefix may split off the leading space,
 * so "word" alone counts when its one token reads " word". The token must read back as the word (case
 * aside, for uncased word-piece vocabularies): an unknown-word token is not a member.
 */
export function singleToken(tokenizer: TaskTokenizer, word: string): number | undefined {
  const spaced = ` ${word}`;
  const readsBack = (id: number) => tokenizer.tokenText(id).trim().toLowerCase() === word.toLowerCase();
  const ids = tokenizer.encode(spaced);
  if (ids.length === 1 && readsBack(ids[0]!)) return ids[0];
  const bare = tokenizer.encode(word);
  if (bare.length === 1 && tokenizer.tokenText(bare[0]!) === spaced) return bare[0];
  return undefined;
}

export function findTaskSets(tokenizer: TaskTokenizer, definitions: readonly TaskDefinition[] = SUCCESSOR_TASKS): TaskSets {
  const all = definitions.map((def): TaskSet => {
    const members: TaskMember[] = [];
    def.words.forEach((word, ordinal) => {
      const token = singleToken(tokenizer, word);
      if (token !== undefined) members.push({ text: ` ${word}`, token, ordinal });
    });
    const pairs: [number, number][] = [];
    for (let i = 0; i + 1 < members.length; i++) if (members[i + 1]!.ordinal === members[i]!.ordinal + 1) pairs.push([i, i + 1]);
    const last = members.at(-1);
    if (def.cyclic && members.length > 2 && members[0]!.ordinal === 0 && last!.ordinal === def.words.length - 1) pairs.push([members.length - 1, 0]);
    return { id: def.id, label: def.label, cyclic: def.cyclic, total: def.words.length, members, pairs };
  });
  const tasks = all.filter((t) => t.pairs.length > 0);
  if (tasks.length === 0) throw new NoSuccessorTasksError(taskReport(all));
  const tokens = [...new Set(tasks.flatMap((t) => t.members.map((m) => m.token)))];
  return { tasks, all, tokens };
}

/** "numbers: 187 of 200 single tokens; days: 7 of 7 single tokens; …" */
export function taskReport(tasks: readonly TaskSet[]): string {
  return tasks.map((t) => `${t.label}: ${t.members.length} of ${t.total} single tokens`).join('; ');
}
