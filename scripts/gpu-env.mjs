#!/usr/bin/env node
// Runs a command with the Dawn/Vulkan environment of gpu-env.js: node scripts/gpu-env.mjs CMD ARGS…
import { spawnSync } from 'node:child_process';
import { gpuEnv } from './gpu-env.js';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: node scripts/gpu-env.mjs COMMAND [ARGS…]');
  process.exit(2);
}
const r = spawnSync(cmd, args, { stdio: 'inherit', env: gpuEnv() });
process.exit(r.status ?? 1);
