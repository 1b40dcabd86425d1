/**
 * The retrieval lab end to end on the bundled model: bad input gets its typed message; a small needle grid
 * runs in the worker with progress, its cells are viewed by keyboard and mouse, the grid is exported as
 * CSV, JSON and PNG (the numbers and colours equal those drawn); a longer grid is cancelled.
 * Screenshots: test-results/e2e/retrieval-*.png.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { niahCellCentre } from '../../apps/web/src/lib/retrieval-draw.js';
import type { BuiltApp } from '../support/e2e-app.js';
import { type E2eHarness, shot, startHarness } from '../support/e2e-harness.js';
import { downloadOf, waitReady, waitRun } from '../support/e2e-page.js';

const lab = (page: Page) => page.getByRole('region', { name: 'Retrieval lab' });

interface DrawnCell {
  length: number;
  depth: number;
  tests: number;
  retrieved: number;
  percent: string;
  text: string;
  background: string;
}

const drawnCells = (page: Page): Promise<DrawnCell[]> =>
  lab(page)
    .getByRole('grid', { name: 'NIAH accuracy' })
    .getByRole('gridcell')
    .evaluateAll((cells) =>
      cells.map((c) => {
        const d = (c as HTMLElement).dataset;
        return {
          length: Number(d['length']),
          depth: Number(d['depth']),
          tests: Number(d['tests']),
          retrieved: Number(d['retrieved']),
          percent: d['percent'] ?? '',
          text: c.textContent ?? '',
          background: getComputedStyle(c).backgroundColor,
        };
      }),
    );

describe('retrieval lab in Chromium', () => {
  let harness: E2eHarness;
  let app: BuiltApp;
  let page: Page;
  const problems: string[] = [];
  let dir: string;

  beforeAll(async () => {
    harness = await startHarness();
    app = harness.app;
    dir = app.dir;
    ({ page } = await harness.newPage(problems, 1800));
    await page.goto(`${harness.server.url}/${app.query}`);
    await waitReady(page, app.modelId);
    // The example prompt's views settle first, so the lab below them stops moving.
    await waitRun(page);
  });
  afterAll(() => harness?.close());

  it('bad input: an answer not in its needle, an empty haystack, a length beyond the context — each a clear message', async () => {
    const l = lab(page);
    const bad = join(dir, 'bad-needles.jsonl');
    writeFileSync(bad, '{"needle": " The boat is called Merrow.", "question": " The boat is called", "answer": " Selkie"}\n');
    await l.getByLabel('Upload needles (JSONL)').setInputFiles(bad);
    await l
      .getByRole('alert')
      .filter({ hasText: /line 1: the answer " Selkie" does not occur in the needle.*verbatim/ })
      .waitFor();
    await l.getByText('Needles: 3 built-in').waitFor();
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '  \n\n');
    await l.getByLabel('Upload haystack (text)').setInputFiles(empty);
    await l
      .getByRole('alert')
      .filter({ hasText: /The haystack text is empty\. Give a text file/ })
      .waitFor();
    await l.getByLabel('Context lengths (tokens)').fill('64,100000');
    await l.getByRole('button', { name: 'Run needle tests' }).click();
    await l
      .getByRole('alert')
      .filter({ hasText: /Context length 100000 does not fit: the model's context is \d+ tokens/ })
      .waitFor();
    await expect(l.getByRole('alert').textContent()).resolves.toMatch(/Choose lengths up to \d+/);
    await l.getByLabel('Context lengths (tokens)').fill('1.5');
    await l.getByRole('button', { name: 'Run needle tests' }).click();
    await l
      .getByRole('alert')
      .filter({ hasText: /not an integer/ })
      .waitFor();
  }, 120_000);

  it('runs a small grid with progress, views a test, exports CSV/JSON/PNG equal to what is drawn', async () => {
    const l = lab(page);
    const needles = join(dir, 'needles.jsonl');
    writeFileSync(
      needles,
      `${JSON.stringify({ needle: ' The keeper of the blue lighthouse is named Orvald Penhallow.', question: ' The keeper of the blue lighthouse is named', answer: ' Orvald Penhallow' })}\n`,
    );
    await l.getByLabel('Upload needles (JSONL)').setInputFiles(needles);
    await l.getByText('needles.jsonl (1 needle)').waitFor();
    await l.getByLabel('Context lengths (tokens)').fill('40');
    await l.getByLabel('Depths (%)').fill('0,100');
    await l.getByLabel('Answer budget (tokens)').fill('4');
    await l.getByRole('button', { name: 'Run needle tests' }).click();
    const progress = l.getByRole('progressbar', { name: 'Retrieval progress' });
    await progress.waitFor();
    // Results stream in: the grid shows while tests are still running.
    await l.getByRole('grid', { name: 'NIAH accuracy' }).waitFor({ timeout: 120_000 });
    await l.getByText(/^2 \/ 2 tests · done in/).waitFor({ timeout: 240_000 });
    await expect(progress.getAttribute('value')).resolves.toBe('2');
    await expect(progress.getAttribute('max')).resolves.toBe('2');

    const drawn = await drawnCells(page);
    expect(drawn.map((c) => [c.depth, c.length])).toEqual([
      [0, 40],
      [100, 40],
    ]);
    for (const c of drawn) {
      expect(c.tests).toBe(1);
      expect(c.text).toBe(`${c.percent}%`);
      expect(Number(c.percent)).toBe(Math.round((100 * c.retrieved) / c.tests));
    }
    // Per-head scores, or the plain "no test counted" notice (the masking check is proven on the planted model: retrieval-lab.test.ts).
    const counted = drawn.reduce((a, c) => a + c.retrieved, 0);
    if (counted > 0) await l.getByRole('table', { name: 'Retrieval heads' }).waitFor();
    else await l.getByText(/No test counted: the model never retrieved the answer/).waitFor();

    // Keyboard: into the grid, one cell down (the right edge holds), Enter views that test.
    await l.getByRole('gridcell', { name: /^length 40, depth 0%/ }).focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await expect(page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).resolves.toMatch(/^length 40, depth 100%/);
    await page.keyboard.press('Enter');
    const test = l.getByRole('region', { name: 'Needle test' });
    await test.getByRole('heading', { name: 'Test: length 40, depth 100%' }).waitFor();
    const strip = test.getByRole('img', { name: /^Attention of L\d+H\d+ over the \d+ keys at step \d+; needle at tokens \d+–\d+, answer at \d+–\d+$/ });
    await strip.waitFor({ timeout: 120_000 });
    await l.screenshot({ path: shot('retrieval-test-view.png') });
    // Clicking another cell views that test.
    await l.getByRole('gridcell', { name: /^length 40, depth 0%/ }).click();
    await test.getByRole('heading', { name: 'Test: length 40, depth 0%' }).waitFor();
    await l.screenshot({ path: shot('retrieval-lab.png') });

    // Exports carry the drawn numbers.
    const csv = (await downloadOf(page, l.getByRole('button', { name: 'Grid CSV' }))).bytes.toString('utf8').trim().split('\n');
    expect(csv[0]).toBe('length,depth,tests,retrieved,accuracy,accuracy_percent');
    const rows = csv.slice(1).map((line) => line.split(','));
    expect(rows.map((r) => [Number(r[0]), Number(r[1]), Number(r[2]), Number(r[3]), r[5]])).toEqual(
      drawn.map((c) => [c.length, c.depth, c.tests, c.retrieved, c.percent]),
    );
    const json = JSON.parse((await downloadOf(page, l.getByRole('button', { name: 'Grid JSON' }))).bytes.toString('utf8'));
    expect(json.lengths).toEqual([40]);
    expect(json.depths).toEqual([0, 100]);
    expect(json.counted).toBe(counted);
    expect(json.cells.map((c: { accuracy_percent: number }) => String(c.accuracy_percent))).toEqual(drawn.map((c) => c.percent));
    const png = await downloadOf(page, l.getByRole('button', { name: 'Heatmap PNG' }));
    expect(png.name).toMatch(/niah\.png$/);
    writeFileSync(shot('retrieval-heatmap-export.png'), png.bytes);
    // The PNG's cell colours (read back in the page) are the on-screen cells' colours.
    const centres = drawn.map((_, i) => niahCellCentre(i, 0));
    const colours = await page.evaluate(
      async ({ b64, centres }) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const cv = document.createElement('canvas');
        cv.width = img.width;
        cv.height = img.height;
        const g = cv.getContext('2d')!;
        g.drawImage(img, 0, 0);
        // Sample a corner of each cell, away from its centred text.
        return centres.map(({ x, y }) => {
          const p = g.getImageData(Math.round(x - 24), Math.round(y - 10), 1, 1).data;
          return `rgb(${p[0]}, ${p[1]}, ${p[2]})`;
        });
      },
      { b64: png.bytes.toString('base64'), centres },
    );
    expect(colours).toEqual(drawn.map((c) => c.background));
  }, 400_000);

  it('a longer grid can be cancelled; the page stays responsive and the done tests stay', async () => {
    const l = lab(page);
    await l.getByLabel('Context lengths (tokens)').fill('40,48');
    await l.getByLabel('Depths (%)').fill('');
    await l.getByRole('button', { name: 'Run needle tests' }).click();
    await l.getByText(/^[1-9]\d* \/ 22 tests · \d+:\d\d left$/).waitFor({ timeout: 120_000 });
    // Responsive while it runs: the settings and buttons answer at once.
    const t0 = Date.now();
    await l.getByRole('button', { name: 'Cancel' }).focus();
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Cancel');
    expect(Date.now() - t0).toBeLessThan(2000);
    await page.keyboard.press('Enter');
    await l.getByText(/· cancelled after \d+ tests?$/).waitFor({ timeout: 30_000 });
    const text = (await l.getByText(/· cancelled after/).textContent()) ?? '';
    const done = Number(/cancelled after (\d+)/.exec(text)![1]);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(22);
    const drawn = await drawnCells(page);
    expect(drawn).toHaveLength(22);
    expect(drawn.filter((c) => c.tests > 0)).toHaveLength(done);
    expect(drawn.filter((c) => c.tests === 0).every((c) => c.text === '…')).toBe(true);
    await l.getByRole('button', { name: 'Run needle tests' }).waitFor();
    await expect(l.getByRole('button', { name: 'Run needle tests' }).isEnabled()).resolves.toBe(true);
    await l.screenshot({ path: shot('retrieval-cancelled.png') });
    expect(problems).toEqual([]);
  }, 200_000);
});
