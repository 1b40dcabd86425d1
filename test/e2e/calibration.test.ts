/**
 * The calibration panel end to end on the bundled model: ACT on the heads with hidden sinks and ZeroTuning
 * on every head, applied live; before/after heatmaps and changed predictions; the session shared and reopened
 * in a fresh browser context with the same settings and the same calibrated predictions.
 * Screenshot: test-results/e2e/calibration.png.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltApp } from '../support/e2e-app.js';
import { type E2eHarness, shot, startHarness } from '../support/e2e-harness.js';
import { runPrompt, waitReady, waitRun, watchErrors } from '../support/e2e-page.js';

const PROMPT = 'Tom walked to the garden in the morning. When';

const panel = (page: Page) => page.getByRole('region', { name: 'Calibration' });

/** The token and probability of each row of the "before" predictions (the rank-after column moves with the calibration). */
const beforeRows = (page: Page): Promise<string[]> =>
  panel(page)
    .getByRole('table', { name: /, before$/ })
    .locator('tbody tr')
    .evaluateAll((rows) =>
      rows.map((r) =>
        Array.from(r.querySelectorAll('td'))
          .slice(1, 3)
          .map((c) => c.textContent)
          .join(' '),
      ),
    );

/** Waits until the panel shows a finished calibrated pass with `n` interventions; returns the after-predictions text. */
async function settled(page: Page, n: number): Promise<string> {
  const status = panel(page).getByText(new RegExp(`^${n} interventions · calibrated pass`));
  await status.waitFor({ timeout: 120_000 });
  return (
    (await panel(page)
      .getByRole('table', { name: /, after$/ })
      .textContent()) ?? ''
  );
}

describe('calibration panel in Chromium', () => {
  let harness: E2eHarness;
  let app: BuiltApp;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    harness = await startHarness();
    app = harness.app;
    ({ page } = await harness.newPage(problems, 1800));
  });
  afterAll(() => harness?.close());

  it('ACT and ZeroTuning live, before/after, changed predictions, shared and reopened with the same values', async () => {
    await page.goto(`${harness.server.url}/${app.query}`);
    await waitReady(page, app.modelId);
    await waitRun(page);
    await runPrompt(page, PROMPT);
    await page.getByRole('gridcell', { name: 'L3H2' }).click();
    const p = panel(page);
    await p.getByText('Calibration', { exact: true }).click(); // opens the panel (closed, it costs nothing)
    const plain = await settled(page, 0);
    const before = await beforeRows(page);
    expect(before).toHaveLength(5);

    // ACT on every head with a hidden sink (found on this prompt), then a stronger β.
    const sinks = p.getByRole('button', { name: 'All heads with hidden sinks' });
    await expect.poll(() => sinks.isEnabled()).toBe(true);
    await sinks.click();
    const heads = await p.getByRole('textbox', { name: 'ACT heads' }).inputValue();
    expect(heads).toMatch(/^\d+\.\d+(,\d+\.\d+)*$/);
    const nAct = heads.split(',').length;
    await p.getByRole('slider', { name: 'ACT β' }).fill('0.2');
    const afterAct = await settled(page, nAct);
    await p.getByRole('img', { name: 'Attention heatmap L3H2 before' }).waitFor();
    await p.getByRole('img', { name: 'Attention heatmap L3H2 after' }).waitFor();
    expect(afterAct).not.toBe(plain);

    // ZeroTuning on every head at γ = 3 on top.
    await p.getByRole('checkbox', { name: 'apply ZeroTuning' }).check();
    await p.getByRole('textbox', { name: 'ZeroTuning heads' }).fill('all');
    await p.getByRole('slider', { name: 'ZeroTuning γ' }).fill('3');
    const info = await page.evaluate(() => document.querySelector('.change-grid')?.querySelectorAll('button').length ?? 0);
    const both = await settled(page, nAct + info);
    expect(both).not.toBe(afterAct);
    expect(await beforeRows(page)).toEqual(before);
    await p.screenshot({ path: shot('calibration.png') });

    // Share, reopen in a fresh context: same settings, same calibrated predictions.
    await page.getByRole('button', { name: 'Share' }).click();
    const link = await page.getByRole('textbox', { name: 'Share link' }).inputValue();
    await page.keyboard.press('Escape');
    const fresh = await harness.browser.newContext({ viewport: { width: 1440, height: 1800 } });
    try {
      const other = await fresh.newPage();
      const otherProblems: string[] = [];
      watchErrors(other, otherProblems);
      await other.goto(link);
      await waitReady(other, app.modelId);
      await waitRun(other);
      const q = panel(other);
      await expect(q.getByRole('textbox', { name: 'ACT heads' }).inputValue()).resolves.toBe(heads);
      await expect(q.getByRole('textbox', { name: 'ZeroTuning heads' }).inputValue()).resolves.toBe('all');
      await expect(q.getByRole('slider', { name: 'ACT β' }).inputValue()).resolves.toBe('0.2');
      await expect(q.getByRole('slider', { name: 'ZeroTuning γ' }).inputValue()).resolves.toBe('3');
      await expect(q.getByRole('checkbox', { name: 'apply ACT' }).isChecked()).resolves.toBe(true);
      await expect(settled(other, nAct + info)).resolves.toBe(both);
      expect(otherProblems).toEqual([]);
    } finally {
      await fresh.close();
    }
    expect(problems).toEqual([]);
  }, 600_000);
});
