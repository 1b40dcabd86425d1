/**
 * The README's main command: `npm start` builds the app and serves it (vite preview). Run here without
 * its install step (scripts/start.mjs); the page opens with the bundled default model ready and draws
 * the first heatmap, and the time that takes in headless Chromium is recorded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { REPO_ROOT, SCREENSHOTS } from '../support/e2e-app.js';
import { waitReady, waitRun, watchErrors } from '../support/e2e-page.js';

const DEFAULT_MODEL = join(REPO_ROOT, 'public', 'models', 'headscope-tiny', 'model.safetensors');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

describe('npm start', () => {
  let child: ChildProcess;
  let url: string;
  let browser: Browser;
  let output = '';

  beforeAll(async () => {
    const port = await freePort();
    child = spawn(process.execPath, ['scripts/start.mjs'], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(port) },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    url = `http://127.0.0.1:${port}/`;
    const t0 = Date.now();
    // Ready when the preview server answers.
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}):\n${output}`);
      const ok = await fetch(url).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() - t0 > 90_000) throw new Error(`npm start did not serve ${url} within 90 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    // The start script and the preview server it spawned: one process group, started here.
    if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
  });

  it('serves the app with the default model ready and measures the first heatmap', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    const errors: string[] = [];
    watchErrors(page, errors);
    // A missing model file must be a 404 (no single-page-app fallback serving index.html in its place).
    expect((await fetch(`${url}models/no-such-model/config.json`)).status).toBe(404);
    const t0 = Date.now();
    await page.goto(url);
    if (!existsSync(DEFAULT_MODEL)) {
      // A checkout without the trained default model: the page says so and how to fix it.
      await page.getByRole('alert').filter({ hasText: 'The bundled model "headscope-tiny" is not part of this build' }).waitFor();
      expect(errors).toEqual([]);
      return;
    }
    await waitReady(page, 'headscope-tiny', 180_000);
    await waitRun(page, undefined, 180_000);
    await page.waitForFunction(() => performance.getEntriesByName('headscope:first-heatmap').length > 0);
    const mark = await page.evaluate(() => performance.getEntriesByName('headscope:first-heatmap')[0]!.startTime);
    const run = await page.getByRole('status', { name: 'Run' }).textContent();
    mkdirSync(SCREENSHOTS, { recursive: true });
    writeFileSync(
      join(SCREENSHOTS, 'npm-start-first-heatmap.json'),
      JSON.stringify({ firstHeatmapMs: Math.round(mark), wallMs: Date.now() - t0, run }, null, 2),
    );
    console.log(`npm start: first heatmap of headscope-tiny ${Math.round(mark)} ms after navigation start; ${run}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'npm-start.png') });
    expect(errors).toEqual([]);
  });
});
