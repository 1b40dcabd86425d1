#!/usr/bin/env node
// One-time (idempotent) set-up on a fresh machine with Node >= 20: pnpm via npx (no global install),
// workspace dependencies, and — for tests — Debian's chromium (SwiftShader WebGPU) when it is missing.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const PNPM = 'pnpm@10.34.9';
const wantBrowser = process.argv.includes('--browser');

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  console.error(`Headscope needs Node >= 20 (this is ${process.version}). Install a newer Node and run again.`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`setup: "${cmd} ${args.join(' ')}" failed (exit ${r.status}).`);
    process.exit(r.status ?? 1);
  }
}

run('npx', ['--yes', PNPM, 'install', '--frozen-lockfile', '--reporter=silent'], { env: { ...process.env, npm_config_yes: 'true' } });

if (wantBrowser && !existsSync('/usr/bin/chromium')) {
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (hasApt) {
    console.log('setup: installing Debian chromium (for WebGPU on SwiftShader in browser tests)…');
    const sudo = isRoot ? '' : 'sudo ';
    execSync(`${sudo}apt-get update -qq && DEBIAN_FRONTEND=noninteractive ${sudo}apt-get install -y -qq chromium`, { stdio: 'inherit' });
  } else {
    console.warn('setup: /usr/bin/chromium is missing and apt-get is not available; browser tests need Chromium with WebGPU.');
  }
}
