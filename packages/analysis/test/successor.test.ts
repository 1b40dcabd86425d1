import { join, resolve } from 'node:path';
import { type LoadedModel, loadModel, type OvCircuitOptions, ovCircuit, tokenizerFromJson } from '@headscope/models';
import { NodeDirSource } from '@headscope/models/node';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLANTED_SUCCESSOR_HEADS, wordTokenizerJson, writePlantedSuccessorModel } from '../../../test/support/successor-model.js';
import { plantedModel, writePlantedModel } from '../../models/test/helpers/planted-heads.js';
import {
  analyzeSuccessors,
  atlasModelOf,
  findTaskSets,
  NoSuccessorTasksError,
  ovCircuitReference,
  rankSuccessorHeads,
  runAtlas,
  successorBehaviour,
  successorBehaviourReference,
  successorPrompts,
  summariseBehaviour,
  taskReport,
  taskTokenizer,
  topSuccessors,
} from '../src/index.js';

const FIXTURES = resolve(__dirname, '../../../test/fixtures/models');

let ctx: GpuContext;
let planted: LoadedModel;
beforeAll(async () => {
  ctx = await createNodeContext();
  planted = await loadModel(ctx, new NodeDirSource(writePlantedSuccessorModel()));
});
afterAll(() => {
  planted?.dispose();
  ctx?.destroy();
});

describe('successor task sets', () => {
  it('are found in the model’s own tokenizer: single-token members only, pairs only between neighbours', () => {
    const sets = findTaskSets(taskTokenizer(planted));
    const byId = Object.fromEntries(sets.all.map((t) => [t.id, t]));
    expect(taskReport(sets.all)).toContain('numbers: 20 of 200 single tokens');
    expect(taskReport(sets.all)).toContain('days: 7 of 7 single tokens');
    expect(byId['letters']!.members).toHaveLength(0); // " A" is two tokens here
    expect(byId['numbers']!.pairs).toHaveLength(19); // " 20" has no single-token successor
    expect(byId['days']!.pairs).toHaveLength(7); // cyclic: Sunday → Monday
    expect(byId['days']!.pairs.at(-1)).toEqual([6, 0]);
    expect(sets.tasks.map((t) => t.id)).toEqual(['numbers', 'ordinals', 'days', 'months']);
    expect(new Set(sets.tokens).size).toBe(20 + 10 + 7 + 12);
    expect(planted.tokenizer.encode(' Monday', { addBos: false })).toEqual([byId['days']!.members[0]!.token]);
  });

  it('a gap breaks the chain; a vocabulary with no ordinal words is a typed error, not a column of zeros', () => {
    const { json } = wordTokenizerJson(['1', '2', '4', '5', 'Monday', 'Sunday']);
    const tok = tokenizerFromJson(JSON.parse(json), undefined);
    const sets = findTaskSets({ encode: (t) => tok.encode(t), tokenText: (id) => tok.tokenText(id) });
    expect(sets.tasks.map((t) => [t.id, t.pairs])).toEqual([
      [
        'numbers',
        [
          [0, 1],
          [2, 3],
        ],
      ],
    ]);
    // A word-piece vocabulary that writes unknown words as [UNK]: [UNK] is no member; " one" … " ten" are.
    const wp = plantedModel();
    const wordPiece = tokenizerFromJson(wp.tokenizer, wp.tokenizerConfig);
    const wpSets = findTaskSets({ encode: (t) => wordPiece.encode(t), tokenText: (id) => wordPiece.tokenText(id) });
    expect(taskReport(wpSets.all)).toContain('numbers: 0 of 200 single tokens; number words: 10 of 20 single tokens');
    const none = tokenizerFromJson(JSON.parse(wordTokenizerJson(['apple']).json), undefined);
    expect(() => findTaskSets({ encode: (t) => none.encode(t), tokenText: (id) => none.tokenText(id) })).toThrow(NoSuccessorTasksError);
    try {
      findTaskSets({ encode: (t) => none.encode(t), tokenText: (id) => none.tokenText(id) });
    } catch (e) {
      expect((e as NoSuccessorTasksError).fix).toMatch(/one token each/);
      expect((e as Error).message).toContain('numbers: 0 of 200 single tokens');
    }
  });
});

describe('successor score on planted heads', () => {
  it('the successor head scores 1 and ranks first; copying and predecessor heads 0; random heads near chance per task', async () => {
    const a = await analyzeSuccessors(planted);
    try {
      const score = (l: number, h: number) => a.heads.find((x) => x.layer === l && x.head === h)!;
      const ranked = rankSuccessorHeads(a.heads);
      expect([ranked[0]!.layer, ranked[0]!.head]).toEqual([1, 5]);
      expect(score(1, 5).score).toBeGreaterThanOrEqual(0.95);
      expect(Object.values(score(1, 5).tasks).every((s) => s === 1)).toBe(true);
      expect(score(0, 2).score).toBeLessThanOrEqual(0.1); // copying: t itself wins
      expect(score(0, 3).score).toBe(0); // predecessor
      expect(ranked[1]!.score).toBeLessThan(0.5);
      // Heads that read a random KV head (the circle KV heads are 1 in layer 0 and 2 in layer 1).
      const random = a.heads.filter((x) => Math.floor(x.head / 2) !== (x.layer === 0 ? 1 : 2));
      expect(random).toHaveLength(12);
      for (const task of a.tasks.tasks) {
        const chance = 1 / task.members.length;
        const mean = random.reduce((s, x) => s + x.tasks[task.id]!, 0) / random.length;
        const sigma = Math.sqrt((chance * (1 - chance)) / (random.length * task.pairs.length));
        expect(Math.abs(mean - chance), `${task.id}: mean ${mean} vs chance ${chance}`).toBeLessThan(4 * sigma + 0.02);
      }
      // The successor head's block: the successor diagonal, and " Tuesday" first after " Monday".
      const days = a.tasks.tasks.findIndex((t) => t.id === 'days');
      const block = await a.circuit.block(1, 5, days);
      const top = topSuccessors(a.tasks.tasks[days]!, block, 0);
      expect(top.map((t) => t.text)).toHaveLength(5);
      expect(top[0]!.text).toBe(' Tuesday');
      expect(top[0]!.logit).toBeCloseTo(Math.sqrt(64), 1); // √d · cos 0 (RMSNorm's eps aside)
    } finally {
      a.circuit.release();
    }
    expect(PLANTED_SUCCESSOR_HEADS.find((h) => h.role === 'successor')).toEqual({ layer: 1, head: 5, role: 'successor' });
  });
});

describe('successor in the head atlas', () => {
  it('is a registry score (key successor) with per-task values, a successor finding above the threshold, and the task report', async () => {
    const r = await runAtlas(atlasModelOf(planted, { successorBehaviour: true }), [' Monday, Tuesday, Wednesday,'], { successor_threshold: 0.4, probe_n: 4 });
    const row = r.table.find((x) => x.layer === 1 && x.head === 5)!;
    expect(row.scores['successor']).toBe(1);
    expect(row.successorTasks).toEqual({ numbers: 1, ordinals: 1, days: 1, months: 1 });
    expect(r.findings.filter((f) => f.kind === 'successor').map((f) => [f.layer, f.head, f.score])).toEqual([[1, 5, 1]]);
    expect(r.successor!.report).toContain('months: 12 of 12 single tokens');
    expect(r.successor!.behaviourPrompts).toContain('ordinal: Monday, Tuesday, Wednesday,');
    expect(Object.keys(row.successorBehaviour!).sort()).toEqual([
      'attention',
      'controlAttention',
      'controlMargin',
      'head',
      'holds',
      'layer',
      'margin',
      'successorWins',
    ]);
    const other = await runAtlas(atlasModelOf(planted), ['x'], { successor_variant: 'embedding', successor_threshold: 0.99, probe_n: 2 });
    expect(other.table[13]!.scores['successor']).toBe(1); // E = W_E[t] is a multiple of the default E here
    await expect(runAtlas(atlasModelOf(planted), ['x'], { successor_variant: 'mlp1' })).rejects.toThrow(/successor_variant/);
  });
});

describe('GPU OV circuit = plain reference', () => {
  const variants: OvCircuitOptions[] = [{}, { embedding: 'mlp0+embedding', headNorm: true }, { embedding: 'embedding', biases: true }];
  const check = async (model: LoadedModel, tokens: number[], groups: number[][], options: OvCircuitOptions) => {
    const gpu = await ovCircuit(model.transformer, { tokens, groups }, options);
    try {
      const ref = await ovCircuitReference({ config: model.transformer.config, weights: model.weights }, { tokens, groups }, options);
      expect(Array.from(gpu.argmax)).toEqual(Array.from(ref.argmax));
      const c = model.transformer.config;
      let worst = 0;
      for (let l = 0; l < c.nLayers; l++) {
        for (let h = 0; h < c.nHeads; h++) {
          const got = (await Promise.all(groups.map((_, g) => gpu.block(l, h, g)))).flatMap((b) => Array.from(b));
          const want = ref.logits[l]![h]!;
          for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
        }
      }
      expect(worst).toBeLessThan(1e-4);
    } finally {
      gpu.release();
    }
  };

  it('planted model (Llama, GQA, tied): every variant and switch, every row’s argmax', async () => {
    const sets = findTaskSets(taskTokenizer(planted));
    const index = new Map(sets.tokens.map((t, i) => [t, i]));
    const groups = sets.tasks.map((t) => t.members.map((m) => index.get(m.token)!));
    for (const o of variants) await check(planted, sets.tokens, groups, o);
  });

  for (const name of ['gpt2', 'gpt_neox', 'qwen2', 'llama_gqa', 'gemma3_text', 'olmo2']) {
    it(`${name} fixture (random weights; biases, untied unembedding, embedding scale, post-norms as the family has them): every variant`, async () => {
      const model = await loadModel(ctx, new NodeDirSource(join(FIXTURES, name)));
      try {
        const V = model.config.vocabSize;
        const tokens = Array.from({ length: 30 }, (_, i) => (i * 37 + 11) % V);
        const groups = [Array.from({ length: 12 }, (_, i) => i), Array.from({ length: 18 }, (_, i) => i + 12), [3, 14, 25]];
        for (const o of variants) await check(model, tokens, groups, o);
      } finally {
        model.dispose();
      }
    });
  }
});

describe('successor behavioural check (planted GPT-2 heads: known attention and direct logit attribution)', () => {
  const NUMBER_WORDS = 'one two three four five six seven eight nine ten'.split(' ');
  it('the successor head attends to the last item and favours the successor; a copying head favours the item; GPU = plain reference', async () => {
    const spec = plantedModel({
      roles: [
        [{ kind: 'previous-token' }, { kind: 'first-token-sink' }, { kind: 'random' }, { kind: 'random' }],
        [{ kind: 'random' }, { kind: 'successor', words: NUMBER_WORDS }, { kind: 'successor', words: NUMBER_WORDS, shift: 0 }, { kind: 'previous-token' }],
      ],
    });
    const model = await loadModel(ctx, new NodeDirSource(writePlantedModel(spec)));
    try {
      const sets = findTaskSets(taskTokenizer(model));
      const r = await successorBehaviour(model, sets, { perTask: 3 });
      expect(r.prompts.map((p) => [p.kind, p.text, p.successorText])).toEqual([
        ['ordinal', ' one, two, three,', ' four'],
        ['control', ' river, green, house,', ' four'],
        ['ordinal', ' four, five, six,', ' seven'],
        ['control', ' table, bread, water,', ' seven'],
        ['ordinal', ' seven, eight, nine,', ' ten'],
        ['control', ' tree, dog, cat,', ' ten'],
      ]);
      const head = (l: number, h: number) => r.heads[l * 4 + h]!;
      expect(head(1, 1)).toMatchObject({ successorWins: 1, holds: true });
      expect(head(1, 1).attention).toBeGreaterThan(0.99);
      expect(head(1, 1).margin).toBeGreaterThan(0.5);
      expect(head(1, 2)).toMatchObject({ successorWins: 0, holds: false }); // copies the item
      expect(head(1, 2).margin).toBeLessThan(-0.5);
      expect(head(1, 3).attention).toBeGreaterThan(0.99); // attends, but writes nothing the unembedding reads
      expect(Math.abs(head(1, 3).margin)).toBeLessThan(1e-4);
      expect(head(1, 3).holds).toBe(false);
      expect(head(0, 1).attention).toBeLessThan(0.01); // first-token sink
      expect(r.heads.filter((x) => x.holds).map((x) => [x.layer, x.head])).toEqual([[1, 1]]);

      const ref = await successorBehaviourReference({ config: model.transformer.config, weights: model.weights }, r.prompts);
      let worst = 0;
      ref.forEach((perHead, p) => {
        perHead.forEach((want, lh) => {
          const got = r.perPrompt[p]![lh]!;
          for (const k of ['attention', 'successor', 'item'] as const) worst = Math.max(worst, Math.abs(got[k] - want[k]) / (1 + Math.abs(want[k])));
        });
      });
      expect(worst).toBeLessThan(1e-4);
      expect(summariseBehaviour(r.prompts, ref, 2, 4).map((x) => x.holds)).toEqual(r.heads.map((x) => x.holds));
    } finally {
      model.dispose();
    }
  });

  it('prompts come from the model’s own task sets (days, months, numbers) and encode as the text does', () => {
    const sets = findTaskSets(taskTokenizer(planted));
    const prompts = successorPrompts(sets, taskTokenizer(planted));
    const days = prompts.filter((p) => p.task === 'days' && p.kind === 'ordinal');
    expect(days.map((p) => p.text)).toEqual([' Monday, Tuesday, Wednesday,', ' Sunday, Monday, Tuesday,']); // 2 per task, spread over the 7 runs
    expect(days.map((p) => p.successorText)).toEqual([' Thursday', ' Wednesday']);
    for (const p of prompts) expect(planted.tokenizer.encode(p.text, { addBos: false })).toEqual(p.tokens);
    expect(new Set(prompts.map((p) => p.task))).toEqual(new Set(['numbers', 'ordinals', 'days', 'months']));
    expect(prompts.filter((p) => p.kind === 'control').every((p) => /^ \w+, \w+, \w+,$/.test(p.text) && !/day|ary/.test(p.text))).toBe(true);
  });

  it('reports progress per prompt and stops when cancelled', async () => {
    const sets = findTaskSets(taskTokenizer(planted));
    const stop = new AbortController();
    const seen: string[] = [];
    const run = successorBehaviour(planted, sets, {
      signal: stop.signal,
      onProgress: (done, total) => {
        seen.push(`${done}/${total}`);
        stop.abort();
      },
    });
    await expect(run).rejects.toThrow(/abort/i);
    expect(seen).toEqual(['1/16']); // 4 tasks × 2 prompts × (ordinal + control); none after the cancel
  });
});
