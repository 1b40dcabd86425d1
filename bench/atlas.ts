/**
 * Head-atlas benchmark: time per prompt of the whole atlas (forward pass + GPU reductions + read-back of
 * the per-head numbers) over a prompt set, against the forward pass plus reading every captured map back
 * (what the GPU reductions avoid), and the bytes read back per prompt against the bytes captured.
 *
 *   node scripts/bench.mjs --atlas [--dir public/models/headscope-tiny] [--prompts 64] [--tokens 64] [--reps 3]
 *
 * Prompts are random token ids (no tokenizer needed): prompt i is the id list i of a seeded set.
 */
import { parseArgs } from 'node:util';
import { type AtlasModel, atlasModelOf, runAtlas } from '../packages/analysis/src/index.js';
import { loadModel } from '../packages/models/src/index.js';
import { NodeDirSource } from '../packages/models/src/node.js';
import { createNodeContext } from '../packages/wgpu-kernels/src/node.js';
import { median } from './timing.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: 'public/models/headscope-tiny' },
    prompts: { type: 'string', default: '64' },
    tokens: { type: 'string', default: '64' },
    reps: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '4' },
    out: { type: 'string' },
  },
});
const P = Number(values.prompts);
const T = Number(values.tokens);
const reps = Number(values.reps);

const ctx = await createNodeContext();
const model = await loadModel(ctx, new NodeDirSource(values.dir!));
const c = model.config;
const base = atlasModelOf(model);
let s = 12345;
const rand = () => {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  return s / 2 ** 32;
};
const ids = Array.from({ length: P }, () => Array.from({ length: T }, () => Math.floor(rand() * c.vocabSize)));
// Prompt "i" encodes to ids[i]: the atlas needs no tokenizer here.
const bench: AtlasModel = { ...base, encode: (text) => ids[Number(text)]!.slice(), tokenText: (id) => `#${id}` };
const texts = (n: number) => Array.from({ length: n }, (_, i) => String(i % P));
const settings = { max_tokens: T, probe_n: Math.min(50, Math.floor(T / 2)) };

async function timeAtlas(n: number) {
  const t0 = performance.now();
  const r = await runAtlas(bench, texts(n), settings);
  return { ms: performance.now() - t0, r };
}
async function timeReadAll(n: number) {
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const { attention, done } = await bench.forward(ids[i % P]!);
    for (let l = 0; l < c.nLayers; l++) bytes += (await attention.layer(l)).byteLength;
    done();
  }
  return { ms: performance.now() - t0, bytes };
}

// Warm-up: compile every pipeline and bring the GPU to its loaded clocks.
const w0 = performance.now();
while (performance.now() - w0 < 3000) await timeAtlas(Number(values.warmup));
await timeReadAll(2);

const atlasMs: number[] = [];
const readMs: number[] = [];
let last: Awaited<ReturnType<typeof timeAtlas>>['r'] | undefined;
let readBytes = 0;
for (let k = 0; k < reps; k++) {
  const a = await timeAtlas(P);
  atlasMs.push(a.ms / (P + 1)); // P prompts + the probe
  last = a.r;
  const b = await timeReadAll(P);
  readMs.push(b.ms / P);
  readBytes = b.bytes / P;
}
const r = last!;
const result = {
  model: values.dir,
  adapter: [ctx.adapter.vendor, ctx.adapter.architecture, ctx.adapter.description].filter(Boolean).join(' '),
  shape: { layers: c.nLayers, heads: c.nHeads, d_model: c.dModel, vocab: c.vocabSize },
  prompts: P,
  tokens: T,
  reps,
  atlas_ms_per_sequence_median: median(atlasMs),
  forward_plus_read_all_maps_ms_per_prompt_median: median(readMs),
  ratio_read_all_over_atlas: median(readMs) / median(atlasMs),
  bytes_captured_per_sequence: r.bytes.captured / r.bytes.sequences,
  bytes_read_back_per_sequence: r.bytes.readBack / r.bytes.sequences,
  bytes_read_back_without_reductions_per_prompt: readBytes,
  samples_ms: { atlas: atlasMs, read_all: readMs },
};
console.log(JSON.stringify(result, null, 2));
if (values.out) (await import('node:fs')).writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
model.dispose();
ctx.destroy();
