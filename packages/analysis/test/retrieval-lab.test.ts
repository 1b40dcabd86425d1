/**
 * The retrieval lab on a model whose weights are constructed so that it retrieves by copying (the planted
 * builder of the head atlas): a previous-token head (L0H0) and an induction head (L1H0) that reads it and
 * copies the attended token into the logits; the others attend to the first token, to '.' or to the previous
 * token (near-uniform random heads are left out: their argmax lands on the needle by chance). The answer is known: L1H0 must score ~1, nothing else above 0.1, and masking it must break
 * retrieval while masking a head of the same layer does not.
 */
import { rmSync } from 'node:fs';
import { type LoadedModel, loadModel } from '@headscope/models';
import { NodeDirSource } from '@headscope/models/node';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLANTED_PROMPTS, PLANTED_WORDS, plantedModel, writePlantedModel } from '../../models/test/helpers/planted-heads.js';
import { atlasModelOf, type Needle, runAtlas, runRetrieval, withRetrievalScores } from '../src/index.js';

// Made-up words of the planted vocabulary that no haystack sentence holds, so the copy is unambiguous.
const [key, a, b, c] = PLANTED_WORDS.slice(300, 304) as [string, string, string, string];
const NEEDLE: Needle = { needle: ` ${key} ${a} ${b} ${c} .`, question: ` ${key}`, answer: ` ${a} ${b} ${c}` };

let ctx: GpuContext;
let model: LoadedModel;
let dir: string;
beforeAll(async () => {
  dir = writePlantedModel(
    plantedModel({
      roles: [
        [{ kind: 'previous-token' }, { kind: 'first-token-sink' }, { kind: 'attend-token', token: '.' }, { kind: 'first-token-sink' }],
        [{ kind: 'induction' }, { kind: 'first-token-sink' }, { kind: 'attend-token', token: '.' }, { kind: 'previous-token' }],
      ],
      nCtx: 64,
    }),
  );
  ctx = await createNodeContext();
  model = await loadModel(ctx, new NodeDirSource(dir));
});
afterAll(() => {
  model?.dispose();
  ctx?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('retrieval lab on a constructed copying model', () => {
  it('counts its tests, scores the copying head ≥ 0.8 and no other above 0.1; masking it drops accuracy, masking a random head does not', async () => {
    const progress: number[] = [];
    const report = await runRetrieval(
      model,
      // BOS ([UNK]) first: the previous-token head has nothing to read at position 0.
      { needles: [NEEDLE], haystack: PLANTED_PROMPTS.join(' '), addBos: true, lengths: [40], depths: [0, 50, 100], maxNewTokens: 4, maskTop: 1, seed: 3 },
      { onTest: (_r, done, total) => progress.push(done / total) },
    );
    expect(report.tests).toHaveLength(3);
    for (const t of report.tests) expect(t.response.trim()).toBe(`${a} ${b} ${c} .`.replace(' .', '.'));
    expect(report.counted).toBe(3);
    expect(report.accuracy.overall).toBe(1);
    const score = (l: number, h: number) => report.heads.find((x) => x.layer === l && x.head === h)!.retrieval;
    expect(score(1, 0)).toBeGreaterThanOrEqual(0.8);
    for (const x of report.heads) if (!(x.layer === 1 && x.head === 0)) expect(x.retrieval, `L${x.layer}H${x.head}`).toBeLessThanOrEqual(0.1);
    // Per step, the copying head is the one that pointed at the needle token it emitted.
    expect(report.tests[0]!.steps.slice(0, 3).map((s) => s.heads)).toEqual([[4], [4], [4]]);
    const m = report.masking!;
    expect(m.top.heads).toEqual([{ layer: 1, head: 0 }]);
    expect(m.random.heads).toHaveLength(1);
    expect(m.random.heads[0]!.layer).toBe(1);
    expect(m.top.accuracy).toBe(0);
    expect(m.random.accuracy).toBe(1);
    expect(progress.at(-1)).toBe(1);
    expect(progress).toHaveLength(9);

    // The scores join the head atlas as the registry's `retrieval` score, with the finding above 0.1.
    const atlas = await runAtlas(atlasModelOf(model), [PLANTED_PROMPTS[0]!], { probe_n: 4, max_tokens: 16 });
    expect(atlas.table[4]!.scores['retrieval']).toBeUndefined();
    const merged = withRetrievalScores(
      atlas,
      report.heads.map((h) => h.retrieval),
      { counted: report.counted, tests: report.tests.length },
    );
    expect(merged.table[4]!.scores['retrieval']).toBe(score(1, 0));
    expect(merged.findings.filter((f) => f.kind === 'retrieval')).toEqual([
      { kind: 'retrieval', layer: 1, head: 0, score: score(1, 0), threshold: 0.1, evidence: { counted_tests: 3, tests: 3 } },
    ]);
    expect(withRetrievalScores(atlas, new Float64Array(8), { counted: 0, tests: 3 })).toBe(atlas);
  }, 400_000);
});
