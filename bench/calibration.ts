/**
 * Calibration benchmark (Node, Dawn): the time of one slider step — the calibrated forward pass with every
 * map captured, read back as the calibration panel does (all maps for the per-head change, one logits row) —
 * against the same pass uncalibrated, on the bundled model and on a GPT-2-small-shaped checkpoint; then the
 * ACT head search and the ZeroTuning search on the bundled model's built-in task sets (time per head, and
 * accuracy before/after on the held-out split).
 *
 *   node calibration.mjs --bundled DIR [--gpt2 DIR] [--T 64,128,512] [--reps 10] [--search] [--json out.json]
 */
import { writeFileSync } from 'node:fs';
import { actHeadSearch, CALIBRATION_TASK_SETS, encodeTasks, scoringModel, splitExamples, zeroTuningSearch } from '../packages/analysis/src/index.js';
import { Transformer as Engine } from '../packages/models/src/engine/forward.js';
import { act, type Intervention, zeroTuning } from '../packages/models/src/engine/interventions.js';
import { engineConfigOf, uploadWeights } from '../packages/models/src/engine/upload.js';
import { inspectModel } from '../packages/models/src/loading/inspect.js';
import { canonicalTensors } from '../packages/models/src/loading/load-model.js';
import { NodeDirSource } from '../packages/models/src/loading/node-dir-source.js';
import { loadModel } from '../packages/models/src/model.js';
import { createNodeContext } from '../packages/wgpu-kernels/src/node.js';
import type { GpuContext } from '../packages/wgpu-kernels/src/runtime/context.js';
import { warmGpu } from './model-run.js';
import { median } from './timing.js';

const argv = process.argv.slice(2);
const arg = (f: string): string | undefined => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : undefined);
const REPS = Number(arg('--reps') ?? 10);
const LENGTHS = (arg('--T') ?? '64,128').split(',').map(Number);

/** ACT (defaults) on every head of the layers the search may use, ZeroTuning γ = 2 on every head. */
function sliderInterventions(L: number, H: number): Intervention[] {
  const heads = Array.from({ length: L * H }, (_, i) => ({ layer: Math.floor(i / H), head: i % H }));
  return [...act(heads.filter((h) => h.layer > 1 && h.layer < L - 1)), ...zeroTuning(heads, 2)];
}

async function step(ctx: GpuContext, model: Engine, ids: number[], interventions: Intervention[], readAll: boolean): Promise<number> {
  const t0 = performance.now();
  const r = model.forward(ids, { interventions, capture: { layers: 'all' }, logits: 'all' });
  const V = model.config.vocabSize;
  const reads: Promise<Float32Array>[] = [ctx.readF32(r.logits, (ids.length - 1) * V, V)];
  if (readAll) for (let l = 0; l < model.config.nLayers; l++) reads.push(r.attention.layer(l));
  else reads.push(r.attention.head(0, 0));
  await Promise.all(reads);
  const ms = performance.now() - t0;
  r.attention.release();
  ctx.release(r.logits);
  return ms;
}

async function sliderRows(ctx: GpuContext, name: string, model: Engine) {
  const rows = [];
  const { nLayers: L, nHeads: H, vocabSize: V } = model.config;
  for (const T of LENGTHS.filter((t) => t <= model.config.nCtx)) {
    const ids = Array.from({ length: T }, (_, i) => (i * 7919 + 13) % V);
    const cal = sliderInterventions(L, H);
    for (const readAll of [false, true]) {
      const times = { plain: [] as number[], calibrated: [] as number[] };
      for (let i = 0; i < 2; i++) {
        await step(ctx, model, ids, [], readAll);
        await step(ctx, model, ids, cal, readAll);
      }
      for (let i = 0; i < REPS; i++) {
        times.plain.push(await step(ctx, model, ids, [], readAll));
        times.calibrated.push(await step(ctx, model, ids, cal, readAll));
      }
      const row = {
        model: name,
        T,
        readBack: readAll ? 'all maps + logits row' : 'one head + logits row',
        interventions: cal.length,
        plainMs: median(times.plain),
        calibratedMs: median(times.calibrated),
        ratio: median(times.calibrated) / median(times.plain),
      };
      console.log(
        `${name} T=${T} ${row.readBack}: uncalibrated ${row.plainMs.toFixed(2)} ms, calibrated (${row.interventions} interventions) ${row.calibratedMs.toFixed(2)} ms, ×${row.ratio.toFixed(2)}`,
      );
      rows.push(row);
    }
  }
  return rows;
}

/** A checkpoint without a tokenizer (the GPT-2-small shape written by bench/model_torch.py) onto the GPU. */
async function loadTransformer(ctx: GpuContext, dir: string): Promise<Engine> {
  const source = new NodeDirSource(dir);
  const inspection = await inspectModel(source, { maxBufferBytes: Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize) });
  const tied = inspection.config.tiedEmbeddings && !inspection.config.unembedBias;
  const weights = await uploadWeights(ctx, inspection.config, canonicalTensors(source, inspection, { skip: (n) => n === 'unembed.W_U' && tied }));
  return new Engine(ctx, engineConfigOf(inspection.config), weights);
}

const ctx = await createNodeContext();
const out: Record<string, unknown> = { adapter: ctx.adapter };
const bundledDir = arg('--bundled');
if (!bundledDir) throw new Error('--bundled DIR is required');
const bundled = await loadModel(ctx, new NodeDirSource(bundledDir));
await warmGpu(ctx, Number(arg('--warm-ms') ?? 0));
const slider = await sliderRows(ctx, 'headscope-tiny', bundled.transformer);
const gpt2Dir = arg('--gpt2');
if (gpt2Dir) {
  const gpt2 = await loadTransformer(ctx, gpt2Dir);
  slider.push(...(await sliderRows(ctx, 'gpt2-small', gpt2)));
}
out['slider'] = slider;
if (argv.includes('--search')) {
  const searches = [];
  const sm = scoringModel(bundled);
  for (const set of CALIBRATION_TASK_SETS) {
    const { examples } = encodeTasks({ examples: set.examples, problems: [] }, (t, o) => bundled.encode(t, o), { bos: bundled.config.addBos });
    const split = splitExamples(examples, 0.5);
    for (const method of ['act', 'zerotuning'] as const) {
      const r = method === 'act' ? await actHeadSearch(sm, split) : await zeroTuningSearch(sm, split);
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      const summary = {
        task: set.id,
        method,
        choose: split.choose.length,
        heldOut: split.heldOut.length,
        before: { choose: r.before.choose.accuracy, heldOut: r.before.heldOut.accuracy, validHeldOut: r.before.heldOut.validFormat },
        after: { choose: r.after.choose.accuracy, heldOut: r.after.heldOut.accuracy, validHeldOut: r.after.heldOut.validFormat },
        heads: r.method === 'act' ? r.kept.map((h) => `${h.layer}.${h.head}`).join(',') : r.heads.join(','),
        ...(r.method === 'zerotuning' ? { gamma: r.gamma } : {}),
        seconds: r.seconds,
        secondsPerHead: r.secondsPerHead,
      };
      console.log(
        `${set.id} ${method}: choose ${pct(summary.before.choose)} → ${pct(summary.after.choose)}, held-out ${pct(summary.before.heldOut)} → ${pct(summary.after.heldOut)} ` +
          `(valid ${pct(summary.before.validHeldOut)} → ${pct(summary.after.validHeldOut)}), heads ${summary.heads || '(none)'}${'gamma' in summary ? ` γ=${summary.gamma}` : ''}, ${summary.seconds.toFixed(1)} s, ${summary.secondsPerHead.toFixed(3)} s/head`,
      );
      searches.push(summary);
    }
  }
  out['searches'] = searches;
}
const json = arg('--json');
if (json) writeFileSync(json, `${JSON.stringify(out, null, 2)}\n`);
bundled.dispose();
ctx.destroy();
