// Scratch: dump layer maps and logits of the materialising and the online-softmax paths for a float64 comparison.
import { writeFileSync } from 'node:fs';
import { loadModel } from '../packages/models/src/index.js';
import { NodeDirSource } from '../packages/models/src/node.js';
import { createNodeContext } from '../packages/wgpu-kernels/src/node.js';

const dir = process.argv[2]!;
const T = Number(process.argv[3] ?? 512);
const keep = Number(process.argv[4] ?? 2);
const ctx = await createNodeContext();
const model = await loadModel(ctx, new NodeDirSource(dir));
const V = model.config.vocabSize;
const ids = Array.from({ length: T }, (_, i) => (i * 7919 + 13) % V);
writeFileSync('/tmp/i14/ids.i32', Buffer.from(Int32Array.from(ids).buffer));
const heads = Array.from({ length: model.config.nHeads }, (_, h) => h);
for (const [name, opts] of [
  ['dense', {}],
  ['lean', { capture: { layers: [keep], heads, stats: 'all' } }],
] as const) {
  const r = model.run(ids, opts as never);
  const logits = await ctx.readF32(r.logits);
  const maps = await r.attention.layer(keep);
  writeFileSync(`/tmp/i14/${name}-logits.f32`, Buffer.from(logits.buffer));
  writeFileSync(`/tmp/i14/${name}-maps.f32`, Buffer.from(maps.buffer));
  console.log(name, logits.length, maps.length);
}
process.exit(0);
