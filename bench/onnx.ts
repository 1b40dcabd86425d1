/**
 * ONNX path vs the WebGPU engine on one model folder (config.json, model.safetensors, tokenizer.json and
 * the ONNX export of the same weights in onnx/model.onnx + external data): every forward computes all
 * attention maps. The engine is timed here (Dawn); the ONNX graph is rewritten here by Headscope's graph
 * code (attention Softmax outputs appended) and written to onnx/model.headscope.onnx, which
 * tools/reference/onnx_bench.py runs with onnxruntime and times. Writes engine.json with the medians.
 *
 *   node bench/dist/onnx.mjs --model DIR [--tokens 128,1024] [--runs 10] [--out engine.json] [--ort-web]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyseGraph, loadModel, loadOnnxModel, parseOnnx, withAttentionOutputs } from '../packages/models/src/index.js';
import { NodeDirSource } from '../packages/models/src/node.js';
import { createNodeContext } from '../packages/wgpu-kernels/src/node.js';
import { median } from './timing.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const dir = arg('model');
if (!dir) throw new Error('--model DIR is required');
const lengths = (arg('tokens') ?? '128,1024').split(',').map(Number);
const runs = Number(arg('runs') ?? 10);
const out = arg('out') ?? 'engine.json';

// The rewrite, timed: parse, find every layer's attention Softmax, append the outputs.
const t0 = performance.now();
const graphBytes = readFileSync(join(dir, 'onnx', 'model.onnx'));
const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { n_layer: number; n_head: number; vocab_size: number };
const report = analyseGraph(parseOnnx(graphBytes), { nLayers: config.n_layer, nHeads: config.n_head });
const rewritten = withAttentionOutputs(graphBytes, report);
writeFileSync(join(dir, 'onnx', 'model.headscope.onnx'), rewritten);
const rewriteMs = performance.now() - t0;
console.log(
  `rewrite: ${report.softmax.length} attention Softmax (${report.otherSoftmax} other), ${(rewriteMs).toFixed(0)} ms; outputs ${report.softmax.map((s) => s.output).join(', ')}`,
);
writeFileSync(join(dir, 'onnx', 'attention-outputs.json'), JSON.stringify(report.softmax));

const ctx = await createNodeContext({ profile: false });
const model = await loadModel(ctx, new NodeDirSource(dir));
const V = model.config.vocabSize;
const results: Record<string, unknown>[] = [];
for (const T of lengths) {
  const ids = Array.from({ length: T }, (_, i) => (i * 7919 + 13) % V);
  const once = async (readBack: boolean): Promise<number> => {
    const s = performance.now();
    const { logits, attention } = model.run(ids);
    if (readBack) {
      await ctx.readF32(logits);
      for (let l = 0; l < model.config.nLayers; l++) await attention.layer(l);
    } else {
      await ctx.sync();
    }
    const ms = performance.now() - s;
    ctx.release(logits);
    attention.release();
    return ms;
  };
  // Warm-up: compile, then keep the GPU busy ~3 s so it runs at loaded clocks.
  const warmStart = performance.now();
  while (performance.now() - warmStart < 3000) await once(false);
  const onGpu: number[] = [];
  const toHost: number[] = [];
  for (let i = 0; i < runs; i++) onGpu.push(await once(false));
  for (let i = 0; i < runs; i++) toHost.push(await once(true));
  const r = { T, maps_on_gpu_ms: median(onGpu), maps_to_host_ms: median(toHost), runs };
  console.log(JSON.stringify(r));
  results.push(r);
  writeFileSync(join(dir, `ids-${T}.json`), JSON.stringify(ids));
}
model.dispose();
ctx.destroy();

// Headscope's own ONNX path (`--ort-web`): loadOnnxModel, onnxruntime-web's WASM backend as in Node and in
// browsers without a hardware WebGPU adapter; every attention map comes back with the logits.
const ortWeb: Record<string, unknown>[] = [];
if (process.argv.includes('--ort-web')) {
  const onnx = await loadOnnxModel(new NodeDirSource(dir));
  for (const T of lengths) {
    const ids = Array.from({ length: T }, (_, i) => (i * 7919 + 13) % V);
    const once = async (): Promise<number> => {
      const s = performance.now();
      const { attention } = await onnx.run(ids);
      const ms = performance.now() - s;
      attention.release();
      return ms;
    };
    await once();
    const times: number[] = [];
    for (let i = 0; i < Math.min(runs, 5); i++) times.push(await once());
    const engine = results.find((r) => r['T'] === T)!;
    const r = { T, ort_web_wasm_all_maps_ms: median(times), ratio_over_engine_to_host: median(times) / (engine['maps_to_host_ms'] as number) };
    console.log(JSON.stringify(r));
    ortWeb.push(r);
  }
  await onnx.dispose();
}
writeFileSync(out, JSON.stringify({ model: model.config, rewrite_ms: rewriteMs, engine: results, ort_web: ortWeb }, null, 2));
