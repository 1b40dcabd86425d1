/**
 * ACT and ZeroTuning through whole models against the PyTorch reference (transformers 5.17, eager attention
 * patched between softmax and A·V: tools/reference/calibration_reference.py on the GPU machine), for the
 * llama_gqa (grouped-query) and gpt2 fixtures and a gpt2 whose head L0H1 has a hidden sink by construction.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { act, type LoadedModel, loadModel } from '../../src/index.js';
import { NodeDirSource } from '../../src/node.js';
import { HIDDEN_SINK, writeHiddenSinkGpt2 } from '../helpers/hidden-sink-model.js';
import { maxAbsDiff } from '../helpers/reference.js';

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
