import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { serveStatic } from '../support/static-server.js';

describe('kernels in headless Chromium (WebGPU on SwiftShader)', () => {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serveStatic>>;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'headscope-smoke-'));
    await build({ entryPoints: [join(__dirname, 'kernel-smoke.ts')], bundle: true, format: 'esm', platform: 'browser', outfile: join(dir, 'smoke.js') });
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><meta charset="utf-8"><title>kernel smoke</title><link rel="icon" href="data:,"><script type="module" src="smoke.js"></script>',
    );
    server = await serveStatic(dir);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the WebGPU kernels load, run and match their CPU references', async () => {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => window.__smoke !== undefined, undefined, { timeout: 60_000 });
    const result = await page.evaluate(() => window.__smoke);
    expect(result, JSON.stringify(result)).toMatchObject({ ok: true });
    if (!result?.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual(
      ['attention', 'attentionCapture', 'layerNorm', 'matmul', 'rotary', 'softmax', 'topKIndices', 'topKValues'].sort(),
    );
    for (const [kernel, err] of Object.entries(result.errors)) expect(err, kernel).toBeLessThanOrEqual(1e-4);
    expect(consoleErrors).toEqual([]);
  });
});
