/**
 * Runs one prompt through both attention paths — every map kept (materialising kernel) and the capture
 * budget (one layer's maps head by head, online softmax elsewhere) — and writes ids, logits and that layer's
 * maps as raw float32 into OUT for qwen_f64.py, which compares each with a float64 reference and prints how
 * far apart the two paths are from each other.
 * usage (repo root): npx tsx bench/accuracy/dump-paths.ts MODEL_DIR OUT [TOKENS=512] [LAYER=2]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CaptureSpec, loadModel } from '../../packages/models/src/index.js';
import { NodeDirSource } from '../../packages/models/src/node.js';
import { createNodeContext } from '../../packages/wgpu-kernels/src/node.js';

const [dir, out, tokens = '512', layer = '2'] = process.argv.slice(2);
if (!dir || !out) throw new Error('usage: dump-paths.ts MODEL_DIR OUT [TOKENS] [LAYER]');
const T = Number(tokens);
const keep = Number(layer);
mkdirSync(out, { recursive: true });
const ctx = await createNodeContext();
const model = await loadModel(ctx, new NodeDirSource(dir));
const ids = Array.from({ length: T }, (_, i) => (i * 7919 + 13) % model.config.vocabSize);
writeFileSync(join(out, 'ids.i32'), Buffer.from(Int32Array.from(ids).buffer));
const heads = Array.from({ length: model.config.nHeads }, (_, h) => h);
const paths: [string, CaptureSpec | undefined][] = [
  ['dense', undefined],
  ['lean', { layers: [keep], heads, stats: 'all' }],
];
const results: Float32Array[][] = [];
for (const [name, capture] of paths) {
  const r = model.run(ids, capture ? { capture } : {});
  const logits = await ctx.readF32(r.logits);
  const maps = await r.attention.layer(keep);
  writeFileSync(join(out, `${name}-logits.f32`), Buffer.from(logits.buffer));
  writeFileSync(join(out, `${name}-maps.f32`), Buffer.from(maps.buffer));
  results.push([logits, maps]);
  ctx.release(r.logits);
  r.attention.release();
}
const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
console.log(
  JSON.stringify({ tokens: T, layer: keep, logitsMaxAbs: maxAbs(results[0]![0]!, results[1]![0]!), mapsMaxAbs: maxAbs(results[0]![1]!, results[1]![1]!) }),
);
model.dispose();
ctx.destroy();
