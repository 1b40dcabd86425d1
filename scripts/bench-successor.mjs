#!/usr/bin/env node
// Bundles bench/successor.ts for the GPU machine (bare `webgpu` import, as scripts/bench.mjs does):
// `node scripts/bench-successor.mjs OUTFILE`.
import { build } from 'esbuild';

const outfile = process.argv[2] ?? 'bench/dist/successor.mjs';
await build({ entryPoints: ['bench/successor.ts'], bundle: true, platform: 'node', format: 'esm', logLevel: 'warning', external: ['webgpu'], outfile });
