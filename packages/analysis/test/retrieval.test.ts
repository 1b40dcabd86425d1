import { resolve } from 'node:path';
import { type HeadscopeTokenizer, loadTokenizer, mulberry32 } from '@headscope/models';
import { NodeDirSource } from '@headscope/models/node';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AnswerNotInNeedleError,
  BUILTIN_HAYSTACK,
  BUILTIN_NEEDLES,
  buildGrid,
  defaultLengths,
  EmptyHaystackError,
  EmptyNeedleSetError,
  GridSettingError,
  LengthBeyondContextError,
  NeedleFileError,
  parseNeedlesJsonl,
  parseNumberList,
  randomHeadsLike,
  retrievalScores,
  rouge1Recall,
  summariseRetrieval,
  TemplateError,
  topHeads,
} from '../src/index.js';

const BUNDLED = resolve(__dirname, '../../../public/models/headscope-tiny');
let tok: HeadscopeTokenizer;
beforeAll(async () => {
  tok = await loadTokenizer(new NodeDirSource(BUNDLED), { nCtx: 512, bosTokenId: 0 });
});

describe('needle files', () => {
  it('parses one object per line, skipping blank lines', () => {
    const text = `${JSON.stringify(BUILTIN_NEEDLES[0])}\n\n${JSON.stringify(BUILTIN_NEEDLES[1])}\r\n`;
    expect(parseNeedlesJsonl(text)).toEqual([BUILTIN_NEEDLES[0], BUILTIN_NEEDLES[1]]);
  });
  it('names the line and the problem', () => {
    expect(() => parseNeedlesJsonl('{"needle": " a", "question": " b", "answer": " a"}\n{oops')).toThrow(/line 2: not valid JSON/);
    expect(() => parseNeedlesJsonl('{"needle": " a", "question": 3, "answer": " a"}')).toThrow(NeedleFileError);
    expect(() => parseNeedlesJsonl('[1]')).toThrow(/line 1: expected a JSON object/);
    expect(() => parseNeedlesJsonl('  \n')).toThrow(EmptyNeedleSetError);
  });
  it('refuses an answer that is not in the needle text, saying how to fix it', () => {
    const bad = '{"needle": " The key is under the mat.", "question": " Where is the key?", "answer": " under the rug"}';
    const e = (() => {
      try {
        parseNeedlesJsonl(bad);
      } catch (err) {
        return err as AnswerNotInNeedleError;
      }
    })();
    expect(e).toBeInstanceOf(AnswerNotInNeedleError);
    expect(e!.message).toMatch(/line 1: the answer " under the rug" does not occur in the needle/);
    expect(e!.fix).toMatch(/verbatim/);
  });
  it('every built-in needle has its answer inside it, and names no word of the haystack', () => {
    const hay = new Set(BUILTIN_HAYSTACK.toLowerCase().match(/[a-z]+/g));
    for (const n of BUILTIN_NEEDLES) {
      expect(n.needle).toContain(n.answer);
      for (const w of n.answer.toLowerCase().match(/[a-z]+/g)!) expect(hay.has(w), w).toBe(false);
    }
  });
});

describe('grid builder', () => {
  const needles = BUILTIN_NEEDLES.slice(0, 2);
  it('cuts the haystack to the length, puts the needle at the depth on a sentence boundary and appends the question', () => {
    const tests = buildGrid(tok, { needles, haystack: BUILTIN_HAYSTACK, lengths: [64, 200], depths: [0, 50, 100] }, { nCtx: 512, maxNewTokens: 50 });
    expect(tests).toHaveLength(2 * 2 * 3);
    for (const t of tests) {
      const n = needles[t.needleIndex]!;
      const q = tok.encode(n.question, { addBos: false });
      expect(t.ids[0]).toBe(0); // the bundled tokenizer prepends BOS
      expect(t.ids.length).toBe(t.length + q.length);
      expect(t.ids.slice(-q.length)).toEqual(q);
      expect(tok.decode(t.ids.slice(t.needleSpan[0], t.needleSpan[1]))).toBe(n.needle);
      expect(tok.decode(t.ids.slice(t.span[0], t.span[1]))).toBe(n.answer);
      const hayTokens = t.length - 1 - (t.needleSpan[1] - t.needleSpan[0]);
      const before = t.needleSpan[0] - 1;
      if (t.depth === 0) expect(before).toBe(0);
      if (t.depth === 100) expect(before).toBe(hayTokens);
      if (t.depth === 50) {
        // At or before the middle: after a sentence end where one comes before it (length 200); inside the
        // haystack's long first sentence (length 64) at a word boundary.
        expect(before).toBeLessThanOrEqual(Math.round(hayTokens / 2));
        expect(before).toBeGreaterThan(0);
        if (t.length === 200) expect(tok.decode(t.ids.slice(1, t.needleSpan[0]))).toMatch(/[.!?]['"’”)]*\s*$/);
        else expect(tok.decode([t.ids[t.needleSpan[1]]!])).toMatch(/^\s/);
      }
    }
  });
  it('repeats the haystack for lengths past its end, and wraps with a template', () => {
    const [t] = buildGrid(
      tok,
      { needles: [needles[0]!], haystack: 'One short sentence here.', lengths: [80], depths: [50], template: 'Read this.\n{context}\nNow answer.{question}' },
      { nCtx: 512, maxNewTokens: 10 },
    );
    const text = tok.decode(t!.ids.slice(1));
    expect(text.startsWith('Read this.\nOne short sentence here. One short')).toBe(true);
    expect(text.endsWith(`\nNow answer.${needles[0]!.question}`)).toBe(true);
    expect(tok.decode(t!.ids.slice(t!.span[0], t!.span[1]))).toBe(needles[0]!.answer);
  });
  it('default lengths: 10 from 256 to the largest that fits', () => {
    expect(defaultLengths(1000)).toEqual([256, 339, 421, 504, 587, 669, 752, 835, 917, 1000]);
    expect(defaultLengths(100)[0]).toBe(25);
    expect(parseNumberList('0, 50,100', 'depths')).toEqual([0, 50, 100]);
  });
  it('bad input: lengths beyond the context, an empty haystack, bad lists and templates', () => {
    const limits = { nCtx: 512, maxNewTokens: 50 };
    expect(() => buildGrid(tok, { needles, haystack: BUILTIN_HAYSTACK, lengths: [500], depths: [0] }, limits)).toThrow(LengthBeyondContextError);
    expect(() => buildGrid(tok, { needles, haystack: BUILTIN_HAYSTACK, lengths: [500], depths: [0] }, limits)).toThrow(/at most 4\d\d/);
    expect(() => buildGrid(tok, { needles, haystack: '  \n', lengths: [64], depths: [0] }, limits)).toThrow(EmptyHaystackError);
    expect(() => buildGrid(tok, { needles, haystack: 'x', lengths: [64], depths: [120] }, limits)).toThrow(/outside 0–100/);
    expect(() => buildGrid(tok, { needles, haystack: 'x', lengths: [64], depths: [0], template: '{question}' }, limits)).toThrow(TemplateError);
    expect(() => parseNumberList('256,abc', 'lengths')).toThrow(GridSettingError);
    expect(() => parseNumberList('256.5', 'lengths')).toThrow(/not an integer/);
  });
});

describe('retrieval score (methods.md §4)', () => {
  // Prompt positions 10..12 hold the answer tokens 7, 8, 9; two layers × two heads.
  const prompt = Array.from({ length: 16 }, (_, i) => (i >= 10 && i < 13 ? i - 3 : 100 + i));
  it('a head earns 1/(e−s) per step whose argmax is in the span and holds the emitted token', () => {
    const s = retrievalScores(
      {
        prompt,
        span: [10, 13],
        emitted: [7, 8, 9, 5],
        argmax: [
          [10, 10, 3, 11], // heads 0 and 1 point at the 7 they emit; head 3 points into the span at the wrong token
          [11, 12, 11, 11],
          [12, 12, 12, 15],
          [12, 0, 0, 0], // token 5 is not the token at 12
        ],
      },
      4,
    );
    const want = [1, 2 / 3, 2 / 3, 1 / 3];
    for (const [h, w] of want.entries()) expect(s[h]).toBeCloseTo(w, 12);
  });
  it('ROUGE-1 recall of the answer words', () => {
    expect(rouge1Recall(' Orvald Penhallow', ' Orvald Penhallow.\n')).toBe(1);
    expect(rouge1Recall(' Orvald Penhallow', ' orvald the keeper')).toBe(0.5);
    expect(rouge1Recall('a a b', 'a b')).toBeCloseTo(2 / 3);
  });
  it('counts only retrieved tests (recall > 0.5) and averages heads over them; accuracy per cell', () => {
    const sum = summariseRetrieval(
      [
        { length: 64, depth: 0, recall: 1, scores: [1, 0] },
        { length: 64, depth: 0, recall: 0.5, scores: [1, 1] },
        { length: 64, depth: 100, recall: 0.6, scores: [0.5, 0.2] },
      ],
      2,
    );
    expect(sum.counted).toBe(2);
    expect([...sum.retrieval]).toEqual([0.75, 0.1]);
    expect(sum.cells.map((c) => [c.depth, c.accuracy])).toEqual([
      [0, 0.5],
      [100, 1],
    ]);
    expect(summariseRetrieval([{ length: 1, depth: 0, recall: 0, scores: [1] }], 1).counted).toBe(0);
  });
  it('top heads, and random heads drawn from the same layers (seeded, never a top head)', () => {
    expect(topHeads([0.1, 0.9, 0.9, 0], 2)).toEqual([1, 2]);
    const drawn = randomHeadsLike([5, 6], 4, 3, mulberry32(5));
    expect(drawn).toHaveLength(2);
    for (const h of drawn) {
      expect(Math.floor(h / 4)).toBe(1);
      expect([5, 6]).not.toContain(h);
    }
    expect(new Set(drawn).size).toBe(2);
  });
});
