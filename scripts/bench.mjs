#!/usr/bin/env node
// `npm run bench [-- --full --variants …]`: bundles bench/kernels.ts and runs it here with the Dawn/Vulkan
// environment (SwiftShader without a GPU); `npm run bench -- --model --dir DIR …` runs the model-level
// benchmark (bench/model.ts) instead, `--atlas` the head-atlas benchmark (bench/atlas.ts). Default shapes are small (SwiftShader does ~1 GFLOP/s); `--full`
// selects the H100 shapes. Each entry gets two bundles: bench/dist/<entry>.mjs imports the bare `webgpu`
// (for the GPU machine, where .gpu/enter.sh puts it in ./node_modules), and bench/dist/<entry>.local.mjs
// imports it by path (pnpm keeps it under packages/wgpu-kernels here).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { gpuEnv } from './gpu-env.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Each benchmark is bench/<entry>.ts; `npm run bench -- --<entry> …` runs one here (default: kernels).
const entries = ['kernels', 'model', 'retrieval', 'atlas', 'calibration', 'successor', 'onnx', 'long-prompt'];
const common = { bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' };
for (const e of entries) {
  await build({ ...common, entryPoints: [join(root, `bench/${e}.ts`)], external: ['webgpu'], outfile: join(root, `bench/dist/${e}.mjs`) });
}
if (process.argv.includes('--bundle-only')) process.exit(0);

const webgpu = createRequire(join(root, 'packages/wgpu-kernels/package.json')).resolve('webgpu');
const resolveWebgpu = {
  name: 'webgpu-by-path',
  setup(b) {
    b.onResolve({ filter: /^webgpu$/ }, () => ({ path: pathToFileURL(webgpu).href, external: true }));
  },
};
const entry = entries.find((e) => process.argv.includes(`--${e}`)) ?? 'kernels';
const local = join(root, `bench/dist/${entry}.local.mjs`);
await build({ ...common, entryPoints: [join(root, `bench/${entry}.ts`)], plugins: [resolveWebgpu], outfile: local });
const args = process.argv.slice(2).filter((a) => a !== `--${entry}`);
const r = spawnSync(process.execPath, [local, ...args], { stdio: 'inherit', env: gpuEnv(), cwd: root });
process.exit(r.status ?? 1);
