import { type LoadedModel, loadModel } from '@headscope/models';
import { NodeDirSource } from '@headscope/models/node';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLANTED_PROMPTS, type PlantedModel, plantedModel, writePlantedModel } from '../../models/test/helpers/planted-heads.js';
import { type AtlasResult, atlasModelOf, runAtlas, SCORES } from '../src/index.js';

// Detectors on a model whose heads are built by hand (see planted-heads.ts): each planted head must rank
// first for its detector with a score ≥ 0.9, and no other head may score above 0.3.
describe('head atlas on planted heads', () => {
  let ctx: GpuContext;
  let model: LoadedModel;
  let planted: PlantedModel;
  let fast: AtlasResult;
  let reference: AtlasResult;
  const progress: number[] = [];

  beforeAll(async () => {
    planted = plantedModel();
    ctx = await createNodeContext();
    model = await loadModel(ctx, new NodeDirSource(writePlantedModel(planted)));
    const m = atlasModelOf(model);
    // τ = 0.1 suits long prompts; on these ~27-token ones uniform attention alone gives imp[1] ≈ 0.11.
    const settings = { tau: 0.3 };
    fast = await runAtlas(m, PLANTED_PROMPTS, settings, { onProgress: (p) => progress.push(p.done) });
    reference = await runAtlas(m, PLANTED_PROMPTS, settings, { path: 'reference' });
  }, 900_000);
  afterAll(() => {
    model?.dispose();
    ctx?.destroy();
  });

  const cases = [
    ['first_token_sink', 'first-token-sink'],
    ['hidden_sink', 'attend-token'],
    ['previous_token', 'previous-token'],
    ['induction', 'induction'],
  ] as const;
  for (const [key, kind] of cases) {
    it(`${key}: the planted ${kind} head ranks first with ≥ 0.9, every other head ≤ 0.3`, () => {
      const [l, h] = planted.find(kind);
      const ranked = [...fast.table].sort((a, b) => b.scores[key]! - a.scores[key]!);
      expect([ranked[0]!.layer, ranked[0]!.head]).toEqual([l, h]);
      expect(ranked[0]!.scores[key]).toBeGreaterThanOrEqual(0.9);
      expect(ranked[1]!.scores[key]).toBeLessThanOrEqual(0.3);
    });
  }

  it('no head is a duplicate-token head (none was planted)', () => {
    expect(Math.max(...fast.table.map((r) => r.scores['duplicate_token']!))).toBeLessThanOrEqual(0.3);
  });

  it('the GPU reductions equal the reference scores within 1e-5, and read back far less than was captured', () => {
    // Decode scores (retrieval) come from the retrieval lab, not from the atlas run.
    for (const spec of SCORES.filter((x) => x.source !== 'decode')) {
      const tol = spec.key === 'attention_distance' ? 1e-4 : 1e-5; // a distance in tokens, not a probability
      for (let i = 0; i < fast.table.length; i++)
        expect(Math.abs(fast.table[i]!.scores[spec.key]! - reference.table[i]!.scores[spec.key]!)).toBeLessThanOrEqual(tol);
    }
    expect(fast.sinkRate).toEqual(reference.sinkRate);
    expect(fast.bytes.readBack * 4).toBeLessThan(fast.bytes.captured);
    expect(reference.bytes.readBack).toBe(reference.bytes.captured);
  });

  it('findings: the sink, the "." hidden sink and the probe heads, with evidence; sink rate = 1 head of 8', () => {
    const flagged = (kind: string) => fast.findings.filter((f) => f.kind === kind).map((f) => [f.layer, f.head]);
    expect(flagged('first-token-sink')).toEqual([planted.find('first-token-sink')]);
    expect(flagged('previous-token')).toEqual([planted.find('previous-token')]);
    expect(flagged('induction')).toEqual([planted.find('induction')]);
    expect(flagged('hidden-sink')).toEqual([planted.find('attend-token')]);
    const dot = fast.findings.find((f) => f.kind === 'hidden-sink')!;
    expect((dot.evidence!['tokens'] as { token: string }[])[0]!.token).toBe('.');
    expect(fast.hiddenSinkTokens[0]).toMatchObject({ token: '.' });
    // Only the planted sink head has imp[0] > 0.3 on every prompt: 4 of 4·8.
    expect(fast.sinkRate).toMatchObject({ count: PLANTED_PROMPTS.length, total: PLANTED_PROMPTS.length * 8 });
    expect(fast.sinkRate.perLayer).toEqual([25, 0]);
    expect(progress).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
