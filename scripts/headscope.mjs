#!/usr/bin/env node
// The `headscope` bin (npx headscope …, npm run headscope -- …): installs the workspace's dependencies on
// first use (pnpm through npx, so any or no global pnpm works), then runs the CLI with the Dawn environment.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpuEnv } from './gpu-env.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'tsx.cmd' : 'tsx');
if (!existsSync(tsx)) {
  process.stderr.write('headscope: installing dependencies (first run)…\n');
  const setup = spawnSync(process.execPath, [join(root, 'scripts', 'setup.mjs')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (setup.status !== 0) process.exit(setup.status ?? 1);
}
const r = spawnSync(tsx, [join(root, 'apps', 'cli', 'src', 'main.ts'), ...process.argv.slice(2)], { stdio: 'inherit', env: gpuEnv() });
process.exit(r.status ?? 1);
