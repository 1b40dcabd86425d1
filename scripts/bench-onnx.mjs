#!/usr/bin/env node
// Bundles bench/onnx.ts for the GPU machine (bare `webgpu` import, as scripts/bench.mjs does; onnxruntime-web
// is never loaded by it): `node scripts/bench-onnx.mjs OUTFILE`.
import { build } from 'esbuild';

const outfile = process.argv[2] ?? 'bench/dist/onnx.mjs';
await build({
  entryPoints: ['bench/onnx.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  logLevel: 'warning',
  external: ['webgpu', 'onnxruntime-web'],
  minify: true,
  outfile,
});
