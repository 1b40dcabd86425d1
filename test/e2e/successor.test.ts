/**
 * The successor panel end to end on the bundled model: open it, select the top successor head, pick
 * " Monday", read its predicted successors, move the pick with the keyboard, see the behavioural check, and
 * export JSON/CSV/PNG whose numbers equal the drawn ones.
 * Screenshots: test-results/e2e/successor.png, successor-keyboard.png.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltApp } from '../support/e2e-app.js';
import { type E2eHarness, shot, startHarness } from '../support/e2e-harness.js';
import { downloadOf, parseMatrixCsv, waitReady, waitRun } from '../support/e2e-page.js';

const panel = (page: Page) => page.getByRole('region', { name: 'Successor heads' });

/** The top-5 table's rows as [token, logit] strings, as drawn. */
const topRows = (page: Page, token: string): Promise<string[][]> =>
  panel(page)
    .getByRole('table', { name: `Predicted successors of “${token}”` })
    .locator('tbody tr')
    .evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll('td'), (c) => c.textContent ?? '').slice(1)));

describe('successor panel in Chromium', () => {
  let harness: E2eHarness;
  let app: BuiltApp;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    harness = await startHarness();
    app = harness.app;
    ({ page } = await harness.newPage(problems, 2000));
  });
  afterAll(() => harness?.close());

  it('top head, pick " Monday", its predicted successors, the behavioural check, exports equal to what is drawn', async () => {
    const t0 = Date.now();
    const lap = (what: string) => console.log(`successor e2e: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await page.goto(`${harness.server.url}/${app.query}`);
    await waitReady(page, app.modelId);
    await waitRun(page);
    lap('model ready, prompt run');
    const p = panel(page);
    await p.getByText('Successor heads', { exact: true }).click(); // opens the panel (closed, it asks nothing)
    const top = p.getByText(/^Top head:/);
    await top.waitFor({ timeout: 120_000 });
    lap('every head scored');
    const topName = /L\d+H\d+/.exec((await top.textContent()) ?? '')![0];
    await expect(p.getByText(/^Tasks in this tokenizer: numbers: 200 of 200 single tokens/).count()).resolves.toBe(1);
    await p.getByRole('button', { name: 'Select the top head' }).click();
    await p.getByRole('heading', { name: new RegExp(`^${topName}: succession score`) }).waitFor({ timeout: 120_000 });
    await expect(
      p
        .getByRole('list', { name: `Success per task of ${topName}` })
        .locator('li')
        .count(),
    ).resolves.toBeGreaterThanOrEqual(5);

    lap('top head shown');
    await p.getByRole('combobox', { name: /^Task/ }).selectOption({ label: 'days (7 of 7)' });
    await p.getByRole('combobox', { name: /^Token/ }).selectOption({ label: 'Monday' });
    const rows = await topRows(page, ' Monday');
    expect(rows).toHaveLength(5);
    for (const [token, logit] of rows) {
      expect(token).toMatch(/^“ (Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)”$/);
      expect(Number.isFinite(Number(logit))).toBe(true);
    }
    await p.getByRole('img', { name: new RegExp(`^OV logits of ${topName} on days: 7 × 7`) }).waitFor();
    // JSON: the picked token, its top 5 and the score as drawn; the matrix row holds the same logits.
    const json = JSON.parse((await downloadOf(page, p.getByRole('button', { name: 'Export JSON' }))).bytes.toString('utf8'));
    expect(json.layer).toBe(Number(topName.slice(1, topName.indexOf('H'))));
    expect(json.picked.text).toBe(' Monday');
    expect(json.picked.top.map((t: { text: string; logit: number }) => [`“${t.text}”`, String(t.logit)])).toEqual(rows);
    const monday = json.task.tokens.findIndex((t: { text: string }) => t.text === ' Monday');
    for (const t of json.picked.top) expect(json.task.values[monday]).toContain(t.logit);

    // CSV: the drawn matrix, the same strings as the JSON.
    const csv = parseMatrixCsv((await downloadOf(page, p.getByRole('button', { name: 'Export CSV' }))).bytes.toString('utf8'));
    expect(csv.header).toEqual(['token', ...json.task.tokens.map((t: { text: string }) => t.text)]);
    expect(csv.rows[monday]).toEqual([' Monday', ...json.task.values[monday].map(String)]);
    const png = (await downloadOf(page, p.getByRole('button', { name: 'Export PNG' }))).bytes;
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');

    // Keyboard: on the focused matrix ↓ moves the pick to " Tuesday".
    const canvas = p.getByRole('img', { name: new RegExp(`^OV logits of ${topName} on days`) });
    await canvas.focus();
    await page.keyboard.press('ArrowDown');
    await expect(topRows(page, ' Tuesday')).resolves.toHaveLength(5);
    await expect(p.getByRole('combobox', { name: /^Token/ }).inputValue()).resolves.toBe('1');
    await p.locator('.successor-matrix-row').screenshot({ path: shot('successor-keyboard.png') });
    lap('exports checked');

    // The behavioural check (one pass per prompt for every head): drawn and exported alike. One prompt per task keeps CI short.
    // It shows progress and can be cancelled; then it runs with one prompt per task.
    await p.getByRole('button', { name: 'Run the behavioural check' }).click();
    await p.getByText(/^Running the behavioural check: \d+ of \d+ prompts…$/).waitFor({ timeout: 120_000 });
    await p.getByRole('button', { name: 'Cancel the behavioural check' }).click();
    await p.getByRole('button', { name: 'Run the behavioural check' }).waitFor();
    await expect(p.getByRole('table', { name: /^Behavioural check prompts/ }).count()).resolves.toBe(0);
    await p.getByRole('combobox', { name: /^Prompts per task/ }).selectOption('1');
    await p.getByRole('button', { name: 'Run the behavioural check' }).click();
    const behaviour = p.getByRole('table', { name: `Behavioural check prompts of ${topName}` });
    await behaviour.waitFor({ timeout: 120_000 });
    lap('behavioural check shown');
    const first = behaviour.locator('tbody tr').first();
    await expect(first.locator('td').first().textContent()).resolves.toBe('“ 1, 2, 3,”');
    const again = JSON.parse((await downloadOf(page, p.getByRole('button', { name: 'Export JSON' }))).bytes.toString('utf8'));
    const row0 = again.behaviour.prompts[0];
    expect(again.behaviour.prompts.filter((x: { task: string }) => x.task === 'days')).toHaveLength(2); // one ordinal, one control
    expect(row0.text).toBe(' 1, 2, 3,');
    await expect(first.locator('td').nth(3).textContent()).resolves.toBe(`${row0.successor} “${row0.successorText}”`);
    expect(again.behaviour.prompts.some((x: { text: string }) => x.text === ' Monday, Tuesday, Wednesday,')).toBe(true);
    const verdict = (await p.getByText(/^(Holds|Does not hold): attention/).textContent()) ?? '';
    expect(verdict.startsWith(again.behaviour.holds ? 'Holds' : 'Does not hold')).toBe(true);
    await p.screenshot({ path: shot('successor.png') });
    expect(problems).toEqual([]);
  }, 300_000);
});
