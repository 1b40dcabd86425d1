#!/usr/bin/env node
// Runs every check: lint, typecheck, then all vitest projects (unit, GPU kernels on Dawn, e2e in
// Chromium). Ends with one line "N passed, N failed" summed over all of them, which CI reads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gpuEnv } from './gpu-env.js';

const args = process.argv.slice(2);
const bin = (name) => join('node_modules', '.bin', name);
let passed = 0;
let failed = 0;

function step(name, cmd, cmdArgs) {
  console.log(`\n== ${name}`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', env: gpuEnv() });
  if (r.status === 0) passed++;
  else {
    failed++;
    console.log(`== ${name}: FAILED`);
  }
}

if (!args.includes('--unit')) {
  spawnSync(process.execPath, ['scripts/setup.mjs', '--browser'], { stdio: 'inherit' });
}
step('lint (biome)', bin('biome'), ['check', '.']);
step('typecheck (tsc)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);

const report = join(mkdtempSync(join(tmpdir(), 'headscope-test-')), 'vitest.json');
console.log('\n== vitest');
const vitestArgs = ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args.filter((a) => a !== '--unit')];
const r = spawnSync(bin('vitest'), vitestArgs, { stdio: 'inherit', env: gpuEnv() });
try {
  const j = JSON.parse(readFileSync(report, 'utf8'));
  passed += j.numPassedTests;
  failed += j.numFailedTests;
  // A suite that failed to load has no tests to count: count it as one failure so it cannot hide.
  for (const s of j.testResults ?? []) if (s.status === 'failed' && (s.assertionResults ?? []).length === 0) failed++;
} catch {
  failed++;
  console.log('vitest produced no report');
}
if (r.status !== 0 && failed === 0) failed++;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
