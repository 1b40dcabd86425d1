/**
 * ACT and ZeroTuning through whole models against the PyTorch reference (transformers 5.17, eager attention
 * patched between softmax and A·V: tools/reference/calibration_reference.py on the GPU machine), for the
 * llama_gqa (grouped-query) and gpt2 fixtures and a gpt2 whose head L0H1 has a hidden sink by construction.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { act, type Intervention, type LoadedModel, loadModel } from '../../src/index.js';
import { NodeDirSource } from '../../src/node.js';
import { FIXTURES, HIDDEN_SINK, writeHiddenSinkGpt2 } from '../helpers/hidden-sink-model.js';
import { maxAbsDiff, readTensors } from '../helpers/reference.js';

const REFERENCE = join(FIXTURES, '../calibration');

interface ReferenceCase {
  /** Engine interventions as JSON: a mask is written "mask". */
  interventions: (Omit<Intervention, 'value'> & { value?: number | 'mask' })[];
  logits_change: number;
  decode_ids?: number[];
}
interface Reference {
  versions: Record<string, string>;
  models: Record<string, { input_ids: number[]; cases: Record<string, ReferenceCase> }>;
}

const engineForm = (ivs: ReferenceCase['interventions']): Intervention[] =>
  ivs.map((iv) => (iv.value === 'mask' ? { ...iv, value: Number.NEGATIVE_INFINITY } : iv) as Intervention);

let ctx: GpuContext;
let sinkDir: string;
beforeAll(async () => {
  ctx = await createNodeContext();
  sinkDir = await writeHiddenSinkGpt2(mkdtempSync(join(tmpdir(), 'headscope-hidden-sink-')));
});
afterAll(() => ctx?.destroy());

describe('a head with a hidden sink by construction', () => {
  let model: LoadedModel;
  beforeAll(async () => {
    model = await loadModel(ctx, new NodeDirSource(sinkDir));
  });
  afterAll(() => model?.dispose());

  it('L0H1 pours its attention into " the"; ACT (defaults) on it moves that mass and changes the logits', async () => {
    const ids = model.encode('The old keeper watched the small boats come home before the storm.');
    const sinks = ids.flatMap((t, j) => (t === HIDDEN_SINK.token ? [j] : []));
    expect(sinks).toEqual([5, 11]);
    const base = model.run(ids, { capture: { layers: [0] } });
    const stats = await base.attention.stats(HIDDEN_SINK.layer, HIDDEN_SINK.head);
    for (const j of sinks) expect(stats.colMean[j]).toBeGreaterThan(0.4);
    const r = model.run(ids, { interventions: act([HIDDEN_SINK]), capture: { layers: [0], pre: true } });
    const post = await r.attention.head(0, HIDDEN_SINK.head);
    const T = ids.length;
    // Row 12 sees both sinks: each keeps β = 0.4 of its mass.
    const pre = await r.attention.head(0, HIDDEN_SINK.head, { pre: true });
    for (const j of sinks) expect(post[12 * T + j]).toBeCloseTo(0.4 * pre[12 * T + j]!, 5);
    expect(maxAbsDiff(await ctx.readF32(r.logits), await ctx.readF32(base.logits))).toBeGreaterThan(0.05);
    for (const x of [base, r]) {
      x.attention.release();
      ctx.release(x.logits);
    }
  });
});

describe('conformance with the PyTorch reference (transformers, softmax patched)', () => {
  const meta = JSON.parse(readFileSync(join(REFERENCE, 'calibration_reference.json'), 'utf8')) as Reference;
  let ref: Awaited<ReturnType<typeof readTensors>>;
  beforeAll(async () => {
    ref = await readTensors(REFERENCE, 'calibration_reference.safetensors');
  });
  const tensor = (name: string) => {
    const t = ref.get(name);
    if (!t) throw new Error(`reference tensor ${name} is missing`);
    return t.data;
  };

  for (const [name, m] of Object.entries(meta.models)) {
    it(`${name}: ${Object.keys(m.cases).length} cases, logits ≤ 1e-4, calibrated and pre-rewrite attention ≤ 1e-5, ZeroTuning decode steps`, async () => {
      const model = await loadModel(ctx, new NodeDirSource(name === 'gpt2_hidden_sink' ? sinkDir : join(FIXTURES, name)));
      const L = model.config.nLayers;
      const ids = m.input_ids;
      const errs = { logits: 0, attn: 0, pre: 0, steps: 0, stepAttn: 0 };
      try {
        for (const [key, c] of Object.entries(m.cases)) {
          const interventions = engineForm(c.interventions);
          const r = model.run(ids, { interventions, capture: { layers: 'all', pre: true } });
          errs.logits = Math.max(errs.logits, maxAbsDiff(await ctx.readF32(r.logits), tensor(`${name}.${key}.logits`)));
          for (let l = 0; l < L; l++) {
            errs.attn = Math.max(errs.attn, maxAbsDiff(await r.attention.layer(l), tensor(`${name}.${key}.attn.${l}`)));
            errs.pre = Math.max(errs.pre, maxAbsDiff(await r.attention.layer(l, { pre: true }), tensor(`${name}.${key}.attn_pre.${l}`)));
          }
          r.attention.release();
          ctx.release(r.logits);
          // The case is not a no-op: calibrated logits differ from the uncalibrated reference.
          expect(maxAbsDiff(tensor(`${name}.${key}.logits`), tensor(`${name}.base.logits`)), key).toBeGreaterThan(0.1);
          if (!c.decode_ids) continue;
          const cache = model.transformer.createCache(ids.length + c.decode_ids.length);
          const first = model.run(ids, { cache, interventions, capture: { layers: 'none' } });
          ctx.release(first.logits);
          for (const [s, id] of c.decode_ids.entries()) {
            const step = model.run([id], { cache, interventions, logits: 'last' });
            errs.steps = Math.max(errs.steps, maxAbsDiff(await ctx.readF32(step.logits), tensor(`${name}.${key}.step${s}.logits`)));
            for (let l = 0; l < L; l++)
              errs.stepAttn = Math.max(errs.stepAttn, maxAbsDiff(await step.attention.layer(l), tensor(`${name}.${key}.step${s}.attn.${l}`)));
            step.attention.release();
            ctx.release(step.logits);
          }
          model.transformer.releaseCache(cache);
        }
      } finally {
        model.dispose();
      }
      console.info(`${name} calibration conformance, max |error|:`, errs);
      expect(errs.logits).toBeLessThanOrEqual(1e-4);
      expect(errs.steps).toBeLessThanOrEqual(1e-4);
      expect(errs.attn).toBeLessThanOrEqual(1e-5);
      expect(errs.pre).toBeLessThanOrEqual(1e-5);
      expect(errs.stepAttn).toBeLessThanOrEqual(1e-5);
    });
  }
});
