import { EmptyHaystackError, GridSettingError, LengthBeyondContextError, RetrievalInputError, TemplateError } from './errors.js';
import type { Needle } from './needles.js';

/** What the grid needs from a tokenizer (HeadscopeTokenizer fits). */
export interface GridTokenizer {
  encode(text: string, options?: { addBos?: boolean; checkContext?: boolean }): number[];
  decode(ids: readonly number[]): string;
  readonly addBosDefault: boolean;
  readonly bosTokenId: number | null;
}

export interface GridSpec {
  needles: readonly Needle[];
  haystack: string;
  /** Context lengths in tokens: BOS (when the model adds one) + haystack + needle. */
  lengths: readonly number[];
  /** Needle depths in percent of the haystack (0 = start, 100 = end). */
  depths: readonly number[];
  /** Optional chat-style template holding `{context}` and `{question}` once each. */
  template?: string;
  /** Prepend BOS; default the tokenizer's own policy. */
  addBos?: boolean;
}

export interface NeedleTest {
  index: number;
  needleIndex: number;
  length: number;
  depth: number;
  /** The whole prompt: [BOS] + template head + haystack with the needle + template middle + question + template tail. */
  ids: number[];
  /** Answer tokens inside the needle, [start, end) in `ids` (methods.md §4's [s, e)). */
  span: [number, number];
  /** The whole needle in `ids`, [start, end). */
  needleSpan: [number, number];
}

export const DEFAULT_DEPTHS: readonly number[] = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
export const DEFAULT_MAX_NEW_TOKENS = 50;

/** 10 lengths spread evenly from 256 (a quarter of the room for a window under 256) to the largest that fits. */
export function defaultLengths(maxLength: number, count = 10): number[] {
  if (maxLength < 16)
    throw new GridSettingError(
      `The model's context leaves room for only ${maxLength} tokens of haystack.`,
      'Lower the answer budget (--max-new-tokens) or use a model with a longer context.',
    );
  const lo = maxLength > 256 ? 256 : Math.max(16, Math.floor(maxLength / 4));
  if (maxLength <= lo) return [maxLength];
  const out = new Set<number>();
  for (let i = 0; i < count; i++) out.add(Math.round(lo + ((maxLength - lo) * i) / (count - 1)));
  return [...out];
}

/** The longest context (BOS + haystack + needle) that leaves room for the question and the answer. */
export function maxContextLength(nCtx: number, questionTokens: number, maxNewTokens: number): number {
  return nCtx - questionTokens - maxNewTokens;
}

/** Parses "a,b,c" into positive integers (CLI and UI fields). */
export function parseNumberList(text: string, what: 'lengths' | 'depths'): number[] {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const values = parts.map(Number);
  const bad = parts.find((_, i) => !Number.isFinite(values[i]!) || (what === 'lengths' && !Number.isInteger(values[i]!)));
  if (parts.length === 0 || bad !== undefined)
    throw new GridSettingError(
      `The ${what} ${JSON.stringify(text)} ${parts.length === 0 ? 'are empty' : `hold ${JSON.stringify(bad)}, not a${what === 'lengths' ? 'n integer' : ' number'}`}.`,
      what === 'lengths' ? 'Give token counts separated by commas, e.g. 256,512,1024.' : 'Give percentages from 0 to 100 separated by commas, e.g. 0,50,100.',
    );
  return values;
}

function checkSettings(spec: GridSpec): void {
  if (spec.haystack.trim() === '') throw new EmptyHaystackError();
  if (spec.lengths.length === 0) throw new GridSettingError('No context lengths were given.', 'Give at least one length in tokens, e.g. 256.');
  if (spec.depths.length === 0) throw new GridSettingError('No depths were given.', 'Give at least one depth in percent, e.g. 0,50,100.');
  for (const d of spec.depths)
    if (!(d >= 0 && d <= 100))
      throw new GridSettingError(`Depth ${d} is outside 0–100 %.`, 'Give depths as percentages from 0 (start of the haystack) to 100 (end).');
  for (const l of spec.lengths)
    if (!Number.isInteger(l) || l < 1) throw new GridSettingError(`Context length ${l} is not a positive integer.`, 'Give lengths in tokens, e.g. 256,512.');
}

function splitTemplate(template: string | undefined): [string, string, string] {
  if (template === undefined) return ['', '', ''];
  const c = template.split('{context}');
  const q = template.split('{question}');
  if (c.length !== 2) throw new TemplateError(c.length === 1 ? 'has no {context}' : 'has {context} more than once');
  if (q.length !== 2) throw new TemplateError(q.length === 1 ? 'has no {question}' : 'has {question} more than once');
  const [head, rest] = c as [string, string];
  const parts = rest.split('{question}');
  if (parts.length !== 2) throw new TemplateError('has {question} before {context}');
  return [head, parts[0]!, parts[1]!];
}

/** Where the answer's tokens sit in the needle's tokens, [start, end). */
function answerSpanInNeedle(tok: GridTokenizer, n: Needle, needleIds: readonly number[]): [number, number] {
  const at = n.needle.indexOf(n.answer);
  const before = tok.encode(n.needle.slice(0, at), { addBos: false, checkContext: false });
  const through = tok.encode(n.needle.slice(0, at + n.answer.length), { addBos: false, checkContext: false });
  const prefix = (a: readonly number[], b: readonly number[]) => a.length <= b.length && a.every((x, i) => b[i] === x);
  if (through.length > before.length && prefix(before, through) && prefix(through, needleIds)) return [before.length, through.length];
  // Tokenizers that merge across the answer's edges: look for the answer's own tokens instead.
  const own = tok.encode(n.answer, { addBos: false, checkContext: false });
  for (let i = 0; i + own.length <= needleIds.length; i++) if (own.every((x, k) => needleIds[i + k] === x)) return [i, i + own.length];
  throw new RetrievalInputError(
    `The answer ${JSON.stringify(n.answer)} does not tokenize as a run of the needle's tokens with this tokenizer.`,
    'Start the answer at a word boundary (with its leading space) and end it at the end of a word.',
  );
}

/** Haystack tokens, repeated until there are at least `need` (long contexts from a short text). */
function haystackIds(tok: GridTokenizer, haystack: string, need: number): number[] {
  const once = tok.encode(haystack.trim(), { addBos: false, checkContext: false });
  if (once.length === 0) throw new EmptyHaystackError();
  const sep = tok.encode(` ${haystack.trim()}`, { addBos: false, checkContext: false });
  const out = [...once];
  while (out.length < need) out.push(...sep);
  return out;
}

/**
 * Builds every (needle, length, depth) prompt: the haystack cut so that [BOS] + haystack + needle has
 * the chosen length, the needle inserted at the chosen depth at a sentence boundary (the nearest one at
 * or before the depth; a word boundary where the text has none), then the question appended verbatim.
 * Works on token ids, so the answer's span is exact whatever the tokenizer does at the seams.
 */
export function buildGrid(tok: GridTokenizer, spec: GridSpec, limits: { nCtx: number; maxNewTokens: number }): NeedleTest[] {
  checkSettings(spec);
  const [head, middle, tail] = splitTemplate(spec.template);
  const enc = (s: string) => (s === '' ? [] : tok.encode(s, { addBos: false, checkContext: false }));
  const addBos = (spec.addBos ?? tok.addBosDefault) && tok.bosTokenId !== null;
  const bos = addBos ? [tok.bosTokenId!] : [];
  const headIds = enc(head);
  const middleIds = enc(middle);
  const tailIds = enc(tail);
  const needles = spec.needles.map((n) => {
    const ids = enc(n.needle);
    return { ids, answer: answerSpanInNeedle(tok, n, ids), question: enc(n.question) };
  });
  const longestQuestion = Math.max(...needles.map((n) => n.question.length));
  const overhead = headIds.length + middleIds.length + tailIds.length + longestQuestion;
  const maxLength = maxContextLength(limits.nCtx, overhead, limits.maxNewTokens);
  for (const length of spec.lengths) if (length > maxLength) throw new LengthBeyondContextError(length, maxLength, limits.nCtx);
  const hay = haystackIds(tok, spec.haystack, Math.max(...spec.lengths));
  const textOf = new Map<number, string>();
  const text = (id: number) => {
    let t = textOf.get(id);
    if (t === undefined) {
      t = tok.decode([id]);
      textOf.set(id, t);
    }
    return t;
  };
  const sentenceStart = (p: number) => p === 0 || /[.!?]['"’”)]*\s*$/.test(text(hay[p - 1]!));
  const wordStart = (p: number) => p === 0 || /^\s/.test(text(hay[p]!));

  const tests: NeedleTest[] = [];
  spec.needles.forEach((_, needleIndex) => {
    const n = needles[needleIndex]!;
    for (const length of spec.lengths) {
      const cut = length - bos.length - n.ids.length;
      if (cut < 0)
        throw new GridSettingError(
          `Context length ${length} is shorter than the needle itself (${n.ids.length + bos.length} tokens).`,
          'Choose lengths longer than the needle.',
        );
      for (const depth of spec.depths) {
        const target = Math.round((cut * depth) / 100);
        // Depth 100 % is the very end of the cut haystack, right before the question.
        let p = target;
        while (p > 0 && p < cut && !sentenceStart(p)) p--;
        if (p === 0 && target > 0) {
          p = target;
          while (p > 0 && !wordStart(p)) p--;
        }
        const before = [...bos, ...headIds, ...hay.slice(0, p)];
        const ids = [...before, ...n.ids, ...hay.slice(p, cut), ...middleIds, ...n.question, ...tailIds];
        const s = before.length;
        tests.push({
          index: tests.length,
          needleIndex,
          length,
          depth,
          ids,
          span: [s + n.answer[0], s + n.answer[1]],
          needleSpan: [s, s + n.ids.length],
        });
      }
    }
  });
  return tests;
}
