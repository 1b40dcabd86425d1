#!/usr/bin/env node
// Builds the web app and serves the production build (PORT, default 5173).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const vite = join(process.cwd(), 'node_modules', '.bin', 'vite');
const webDir = join('apps', 'web');
const viteBin = join(process.cwd(), webDir, 'node_modules', '.bin', 'vite');
const bin = spawnSync('sh', ['-c', `test -x ${viteBin}`]).status === 0 ? viteBin : vite;
const build = spawnSync(bin, ['build'], { cwd: webDir, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const port = process.env.PORT ?? '5173';
console.log(`Headscope: http://127.0.0.1:${port}/`);
const serve = spawnSync(bin, ['preview', '--port', port, '--strictPort'], { cwd: webDir, stdio: 'inherit' });
process.exit(serve.status ?? 0);
