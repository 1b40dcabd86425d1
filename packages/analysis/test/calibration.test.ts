/**
 * Task files, head lists, splits and the two searches on a real model (the llama_gqa fixture on the CPU
 * path; the CLI test runs them on WebGPU):
 * each search's per-head figures are recomputed independently with scoreTask, and cancelling stops it.
 */
import { join, resolve } from 'node:path';
import { act, type CpuLoadedModel, loadModelCpu, loadTokenizer } from '@headscope/models';
import { NodeDirSource } from '@headscope/models/node';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  actHeadSearch,
  CALIBRATION_TASK_SETS,
  type EncodedExample,
  encodeTasks,
  parseHeads,
  parseTaskLines,
  scoreTask,
  scoringModel,
  splitExamples,
  TaskFileError,
  UnknownHeadError,
  zeroTuningHeadIndex,
  zeroTuningSearch,
} from '../src/index.js';

const ROOT = resolve(__dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/models');

describe('task files', () => {
  it('names each bad line by number and keeps the rest; no usable line is a TaskFileError', async () => {
    const tok = await loadTokenizer(new NodeDirSource(join(FIXTURES, 'gpt2')));
    const encode = (t: string, o: { bos: boolean }) => tok.encode(t, { addBos: o.bos });
    const text = [
      '{"prompt": "The old keeper", "choices": [" lamp", " storm"], "label": 1}',
      '',
      '{"prompt": "The old keeper" "choices"}',
      '{"prompt": "The keeper", "choices": [" lamp", " storm"], "label": -1}',
      '{"prompt": "The keeper", "choices": [" lamp", ""], "label": 0}',
      '{"prompt": "The keeper", "choices": [" the lamp", " lamp"], "label": 0}',
      '{"prompt": "The keeper", "choices": [" lamp"], "label": 0}',
      '[1, 2]',
    ].join('\n');
    const { examples, problems } = encodeTasks(parseTaskLines(text), encode, { bos: false, decode: (ids) => tok.decode(ids) });
    expect(examples.map((e) => e.line)).toEqual([1]);
    expect(examples[0]!.choiceTokens).toEqual([encode(' lamp', { bos: false }).at(-1), encode(' storm', { bos: false }).at(-1)]);
    expect(problems).toEqual([
      { line: 3, message: 'not valid JSON' },
      { line: 4, message: '"label" -1 is out of range: it must be 0–1 (the index of the right choice)' },
      { line: 5, message: 'choice 1 ("") is empty after tokenisation' },
      { line: 6, message: 'choices 0 and 1 end in the same token (" lamp"), so they cannot be told apart' },
      { line: 7, message: '"choices" must be a list of 2–64 strings' },
      { line: 8, message: 'not a JSON object' },
    ]);
    expect(() => encodeTasks(parseTaskLines('nope\n'), encode, { bos: false })).toThrow(TaskFileError);
    expect(() => encodeTasks(parseTaskLines('nope\n'), encode, { bos: false })).toThrow(/line 1: not valid JSON\)\. Each line must be a JSON object/);
  });

  it('the built-in sets tokenise cleanly on the bundled model, with balanced labels', async () => {
    const tok = await loadTokenizer(new NodeDirSource(join(ROOT, 'public/models/headscope-tiny')));
    for (const set of CALIBRATION_TASK_SETS) {
      const { examples, problems } = encodeTasks({ examples: set.examples, problems: [] }, (t, o) => tok.encode(t, { addBos: o.bos }), { bos: true });
      expect(problems, set.id).toEqual([]);
      const ones = examples.filter((e) => e.label === 1).length;
      expect(Math.abs(2 * ones - examples.length), set.id).toBeLessThanOrEqual(2);
    }
  });

  it('heads: layer.head lists and all; unknown heads are typed errors; splits are disjoint and repeatable', () => {
    expect(parseHeads('1.2, 0.0,1.2', 2, 4)).toEqual([
      { layer: 1, head: 2 },
      { layer: 0, head: 0 },
    ]);
    expect(parseHeads('all', 2, 3)).toHaveLength(6);
    for (const bad of ['2.0', '0.4', '1', 'a.b', '', '0.1,']) expect(() => parseHeads(bad, 2, 4), bad).toThrow(UnknownHeadError);
    const xs = Array.from({ length: 10 }, (_, i) => i);
    const s = splitExamples(xs, 0.5);
    expect(s.choose).toHaveLength(5);
    expect([...s.choose, ...s.heldOut].sort((a, b) => a - b)).toEqual(xs);
    expect(splitExamples(xs, 0.5)).toEqual(s);
  });
});

describe('searches on the llama_gqa fixture', () => {
  let model: CpuLoadedModel;
  let examples: EncodedExample[];
  beforeAll(async () => {
    model = await loadModelCpu(new NodeDirSource(join(FIXTURES, 'llama_gqa')));
    const lines = ['The old keeper watched the small', 'The children ran to the', 'From the top he watched the', 'The keeper lit the'].map((prompt, i) =>
      JSON.stringify({ prompt, choices: [' boats', ' lamp', ' harbour'], label: i % 3 }),
    );
    examples = encodeTasks(parseTaskLines(lines.join('\n')), (t, o) => model.encode(t, { bos: o.bos }), { bos: true }).examples;
  });

  it('ACT search over layer 1: per-head accuracy = scoreTask with ACT on that head; kept = the heads that gain', async () => {
    const sm = scoringModel(model);
    const split = { choose: examples.slice(0, 3), heldOut: examples.slice(3) };
    const progress: number[] = [];
    const r = await actHeadSearch(sm, split, { layers: [1], settings: { tau: 0.05 }, onProgress: (p) => progress.push(p.done) });
    expect(r.heads).toHaveLength(4);
    expect(progress.at(-1)).toBe(3 * (4 + 2) + 2);
    const base = await scoreTask(sm, split.choose, []);
    expect(r.before.choose.accuracy).toBe(base.accuracy);
    for (const h of r.heads) expect((await scoreTask(sm, split.choose, act([h], { tau: 0.05 }))).accuracy).toBe(h.accuracy);
    expect(r.kept).toEqual(r.heads.filter((h) => h.gain > 0).map(({ layer, head }) => ({ layer, head })));
    expect(r.after.heldOut.n).toBe(1);
  });

  it('ZeroTuning search: grid points recomputed; cancelling rejects with AbortError', async () => {
    const sm = scoringModel(model);
    const split = { choose: examples.slice(0, 2), heldOut: examples.slice(2) };
    const r = await zeroTuningSearch(sm, split, { objective: 'entropy', grid: [0.5, 1, 2] });
    const at2 = await scoreTask(sm, split.choose, zeroTuningHeadIndex(r.heads, 3, 2));
    expect(r.grid[2]!.meanEntropy).toBeCloseTo(at2.meanEntropy, 6);
    expect(r.gamma).toBe(r.grid.reduce((b, p) => (p.meanEntropy < b.meanEntropy ? p : b)).gamma);
    const abort = new AbortController();
    const run = zeroTuningSearch(sm, split, { signal: abort.signal, onProgress: (p) => p.done === 2 && abort.abort() });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });
});
