/**
 * The Head atlas end to end in Chromium (WebGPU on SwiftShader), on the small llama_gqa fixture (3 layers ×
 * 4 query heads, 2 KV heads; the bundled model's atlas is checked against its model card in Node,
 * packages/analysis/test/atlas-bundled.test.ts): upload a prompt set, run the atlas with progress, cancel and restart, colour the
 * map by induction, open the top induction head's heatmap from the findings table, export the findings
 * CSV and compare it with the table. Screenshots of the atlas, the scatter and a head card go to
 * test-results/e2e/. Kept cheap: five short prompts cut to 16 tokens, a 12-token probe.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../apps/web/src/lib/prompt-sets.js';
import { type E2eHarness, shot, startHarness } from '../support/e2e-harness.js';
import { downloadOf, waitReady, waitRun } from '../support/e2e-page.js';

const PROMPTS = [
  'The cat sat on the mat. The cat sat on the mat.',
  'Once upon a time there was a little girl. She lived near the forest.',
  'Tom and Harry went down to the river. Tom carried the rods.',
  'She opened the letter slowly. It was short, only a few lines.',
  'The ship had been at sea for forty days. The water was low.',
];

const atlas = (page: Page) => page.getByRole('region', { name: 'Head atlas' });
const status = (page: Page) => atlas(page).getByRole('status', { name: 'Atlas status' });

/** Every map cell's name and value, as drawn. */
async function mapValues(page: Page): Promise<{ name: string; value: number }[]> {
  return atlas(page)
    .getByRole('grid', { name: 'Head atlas map' })
    .getByRole('gridcell')
    .evaluateAll((cells) => cells.map((c) => ({ name: c.getAttribute('aria-label') ?? '', value: Number(c.getAttribute('data-value')) })));
}

describe('the head atlas in Chromium', { timeout: 300_000 }, () => {
  let harness: E2eHarness;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    harness = await startHarness();
    ({ page } = await harness.newPage(problems, 1800));
  });
  afterAll(() => harness?.close());

  it('runs over an uploaded prompt set with progress; cancel, then restart to the end', async () => {
    await page.goto(`${harness.server.url}/${harness.app.fixtureQuery}`);
    await waitReady(page, 'dev-fixture');
    await waitRun(page);
    await page
      .getByLabel('Upload prompt sets (.txt, .jsonl, .csv)')
      .setInputFiles([{ name: 'atlas.txt', mimeType: 'text/plain', buffer: Buffer.from(PROMPTS.join('\n')) }]);
    const a = atlas(page);
    await expect.poll(() => a.getByRole('combobox', { name: 'Prompts' }).inputValue()).toBe('atlas.txt');
    await a.getByText('Detector settings').click();
    // Out of range: named with the allowed range, and the run is blocked until it is fixed.
    await a.getByRole('spinbutton', { name: 'Sink ε' }).fill('2');
    await a.getByRole('alert').filter({ hasText: 'Setting "Sink ε" (epsilon) cannot be 2. Use a number from 0 to 1' }).waitFor();
    await expect(a.getByRole('button', { name: 'Run atlas' }).isDisabled()).resolves.toBe(true);
    await a.getByRole('spinbutton', { name: 'Sink ε' }).fill('0.3');
    await a.getByRole('spinbutton', { name: 'Cut prompts to (tokens)' }).fill('16');
    await a.getByRole('spinbutton', { name: 'Probe length n' }).fill('12');
    // Every head with a positive induction score is a finding (the fixture's weights are random).
    await a.getByRole('spinbutton', { name: 'Induction threshold' }).fill('0');
    await a.getByText('Detector settings').click();

    await a.getByRole('button', { name: 'Run atlas' }).click();
    const bar = a.getByRole('progressbar', { name: 'Atlas progress' });
    await bar.waitFor();
    await status(page)
      .filter({ hasText: /^\d of 6 sequences \(5 prompts \+ the probe\) · .* elapsed · about .* left$/ })
      .waitFor({ timeout: 120_000 });
    await expect(bar.getAttribute('max')).resolves.toBe('6');
    // The page stays responsive while the worker runs: a round trip to the page is quick.
    const t0 = Date.now();
    await page.evaluate(() => document.title);
    expect(Date.now() - t0).toBeLessThan(1000);
    await a.getByRole('button', { name: 'Cancel' }).click();
    await status(page).filter({ hasText: 'Cancelled. Run atlas to start again.' }).waitFor();
    await expect(bar.isHidden()).resolves.toBe(true);
    await expect(a.getByRole('grid', { name: 'Head atlas map' }).count()).resolves.toBe(0);

    const restart = Date.now();
    await a.getByRole('button', { name: 'Run atlas' }).click();
    await status(page)
      .filter({ hasText: /of 6 sequences/ })
      .waitFor();
    await status(page)
      .filter({ hasText: /^Done: 5 prompts .*and the probe\. Cached/ })
      .waitFor({ timeout: 240_000 });
    console.log(`atlas in Chromium: 5 prompts + probe in ${Date.now() - restart} ms`);
    const cells = await mapValues(page);
    expect(cells.length).toBeGreaterThanOrEqual(4);
    expect(cells.every((c) => Number.isFinite(c.value) && c.value >= 0 && c.value <= 1)).toBe(true);
  });

  it('colours by induction; the scatter and the head card follow the head; screenshots', async () => {
    const a = atlas(page);
    await a.getByRole('combobox', { name: 'Colour heads by' }).selectOption({ label: 'Induction (probe)' });
    await a.getByRole('img', { name: /^Legend: Induction \(probe\), .*threshold/ }).waitFor();
    const cells = await mapValues(page);
    const top = cells.reduce((x, y) => (y.value > x.value ? y : x));
    await a.getByRole('gridcell', { name: top.name }).click();
    await expect(a.getByRole('gridcell', { name: top.name }).getAttribute('aria-selected')).resolves.toBe('true');
    const card = a.getByRole('region', { name: 'Head card' });
    await card.getByRole('heading', { name: new RegExp(`^Head ${top.name}`) }).waitFor();
    const inductionRow = card.getByRole('row', { name: /^Induction \(probe\)/ });
    expect(Number((await inductionRow.getByRole('cell').first().textContent())!)).toBeCloseTo(top.value, 5);
    // The keyboard moves the locked head on the map.
    await a.getByRole('gridcell', { name: top.name }).focus();
    await page.keyboard.press('Home');
    const first = top.name.replace(/H\d+$/, 'H0');
    await expect.poll(() => a.getByRole('gridcell', { name: first }).getAttribute('aria-selected')).toBe('true');
    await a.getByRole('gridcell', { name: top.name }).click();
    await a.getByRole('combobox', { name: 'Horizontal' }).selectOption({ label: 'Previous token (probe)' });
    await a.getByRole('combobox', { name: 'Vertical' }).selectOption({ label: 'Induction (probe)' });
    const scatter = a.getByRole('application', { name: /^Scatter of Previous token \(probe\) against Induction \(probe\) over \d+ heads; shown / });
    await expect(scatter.locator('circle').count()).resolves.toBe(cells.length);
    // The keyboard walks the scatter: Down previews the head with the next lower induction score, Enter locks it.
    await scatter.focus();
    await page.keyboard.press('ArrowDown');
    const below = cells.filter((c) => c.name !== top.name).reduce((x, y) => (y.value >= x.value ? y : x));
    await card.getByRole('heading', { name: new RegExp(`^Head ${below.name}`) }).waitFor();
    expect(Number((await inductionRow.getByRole('cell').first().textContent())!)).toBeCloseTo(below.value, 5);
    await page.keyboard.press('Enter');
    await expect.poll(() => a.getByRole('gridcell', { name: below.name }).getAttribute('aria-selected')).toBe('true');
    await scatter.screenshot({ path: shot('atlas-scatter-keyboard.png') });
    await a.getByRole('gridcell', { name: top.name }).click();
    await a.getByRole('grid', { name: 'Head atlas map' }).screenshot({ path: shot('atlas-map.png') });
    await a.screenshot({ path: shot('atlas.png') });
    await scatter.screenshot({ path: shot('atlas-scatter.png') });
    await card.screenshot({ path: shot('atlas-head-card.png') });
  });

  it('opens the top induction head from the findings table; the findings CSV equals the table', async () => {
    const a = atlas(page);
    await a.getByRole('combobox', { name: /^Show/ }).selectOption('induction');
    const table = a.getByRole('table', { name: 'Findings' });
    const rows = async () =>
      table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')));
    let shown = await rows();
    const cells = await mapValues(page);
    const top = cells.reduce((x, y) => (y.value > x.value ? y : x));
    // The table's strongest induction finding is the map's brightest head, with the drawn value.
    expect(shown.every((r) => r[0] === 'induction')).toBe(true);
    expect(shown[0]![1]).toBe(top.name);
    expect(Number(shown[0]![2])).toBeCloseTo(top.value, 5);
    // Sorting by head and back by score reorders the rows.
    await table.getByRole('button', { name: /^Head/ }).click();
    await expect(table.getByRole('columnheader', { name: /^Head/ }).getAttribute('aria-sort')).resolves.toBe('ascending');
    await table.getByRole('button', { name: /^Score/ }).click();
    await expect(table.getByRole('columnheader', { name: /^Score/ }).getAttribute('aria-sort')).resolves.toBe('descending');
    shown = await rows();
    expect(shown.length).toBeGreaterThan(0);
    const scores = shown.map((r) => Number(r[2]));
    expect(scores).toEqual([...scores].sort((x, y) => y - x));

    const csv = parseCsv((await downloadOf(page, a.getByRole('button', { name: 'Findings CSV' }))).bytes.toString('utf8'));
    expect(csv[0]).toEqual(['kind', 'head', 'score', 'threshold', 'evidence']);
    expect(csv.slice(1)).toEqual(shown);

    // Open the first row's head: the workbench locks it and shows its heatmap.
    const head = shown[0]![1]!;
    await table.locator('tbody tr').first().click();
    await page.getByRole('img', { name: `Attention heatmap ${head}` }).waitFor();
    await waitRun(page);
    await expect(page.getByRole('grid', { name: 'Attention heads' }).getByRole('gridcell', { name: head }).getAttribute('aria-selected')).resolves.toBe('true');
    expect(problems).toEqual([]);
  });
});
