/** Page helpers for the workbench e2e tests (playwright-core). */
import { readFileSync } from 'node:fs';
import type { Download, Locator, Page } from 'playwright-core';
import { parseCsv } from '../../apps/web/src/lib/prompt-sets.js';

/** Collects console errors and uncaught page errors of a page into `into`. */
export function watchErrors(page: Page, into: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error') into.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => into.push(`pageerror: ${e.message}`));
  page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && into.push(`worker console: ${m.text()}`)));
}

/** Waits until `name` is the ready model. */
export async function waitReady(page: Page, name: string, timeout = 120_000): Promise<void> {
  await page
    .getByRole('status', { name: 'Active model' })
    .filter({ hasText: `Ready: ${name}` })
    .waitFor({ timeout });
}

/** Waits for a run of `tokens` tokens to be shown and its heatmap drawn. */
export async function waitRun(page: Page, tokens?: number, timeout = 120_000): Promise<void> {
  const bar = page.getByRole('status', { name: 'Run' });
  if (tokens === undefined) await bar.waitFor({ timeout });
  else await bar.filter({ hasText: new RegExp(`^${tokens} tokens`) }).waitFor({ timeout });
  await page
    .getByRole('img', { name: /^Attention heatmap L\d+H\d+$/ })
    .and(page.locator('[data-view]'))
    .waitFor({ timeout });
}

/** Types `text` as the prompt, runs it and waits for the run bar and the heatmap. */
export async function runPrompt(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Prompt' }).fill(text);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page
    .getByRole('status', { name: 'Run' })
    .filter({ hasText: /^\d+ tokens/ })
    .waitFor({ timeout: 120_000 });
  await waitRun(page);
}

/** The tokens count shown in the run bar. */
export async function runTokens(page: Page): Promise<number> {
  const text = (await page.getByRole('status', { name: 'Run' }).textContent()) ?? '';
  return Number(/^(\d+) tokens/.exec(text)?.[1]);
}

/** Moves the mouse over heatmap cell (query q, key k), using the geometry the canvas publishes. */
export async function hoverCell(page: Page, q: number, k: number): Promise<void> {
  const canvas = page.getByRole('img', { name: /^Attention heatmap/ });
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  const plot = (await canvas.getAttribute('data-plot'))!.split(',').map(Number) as [number, number, number, number];
  const view = (await canvas.getAttribute('data-view'))!.split(',').map(Number) as [number, number, number, number];
  // A folded first-token column is a strip left of the plot.
  const strip = (await canvas.getAttribute('data-strip'))?.split(',').map(Number);
  const x = k < view[0] && strip?.length === 2 ? (strip[0]! + strip[1]!) / 2 : plot[0] + ((k + 0.5 - view[0]) / (view[1] - view[0])) * (plot[2] - plot[0]);
  const y = plot[1] + ((q + 0.5 - view[2]) / (view[3] - view[2])) * (plot[3] - plot[1]);
  await page.mouse.move(box!.x + x, box!.y + y);
}

/** The value string of the heatmap readout ("Query … → key …: 0.123"), once it shows one. */
export async function readoutValue(page: Page): Promise<{ q: number; k: number; value: string }> {
  const out = page.getByRole('status', { name: 'Heatmap readout' }).or(page.locator('#heatmap-readout'));
  // Wait for the query part: the zoomed-out hint alone ("zoomed out: each cell …") also has a colon.
  await out
    .filter({ hasText: /Query \d+ .*→ key \d+ .*: \S+/ })
    .first()
    .waitFor();
  const text = (await out.first().textContent()) ?? '';
  const m = /^Query (\d+) .*→ key (\d+) .*: (\S+?)(?: \(|$)/.exec(text.trim());
  if (!m) throw new Error(`unexpected readout: ${text}`);
  return { q: Number(m[1]), k: Number(m[2]), value: m[3]! };
}

/** Clicks a control and returns the download it starts, with its bytes. */
export async function downloadOf(page: Page, control: Locator): Promise<{ name: string; bytes: Buffer; download: Download }> {
  const [download] = await Promise.all([page.waitForEvent('download'), control.click()]);
  const path = await download.path();
  return { name: download.suggestedFilename(), bytes: readFileSync(path), download };
}

/** Presses Tab until the focused element's accessible name (aria-label, label or text) matches; returns the presses. */
export async function tabTo(page: Page, name: RegExp, max = 80): Promise<number> {
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el) return '';
      const labels = (el as HTMLInputElement).labels;
      return el.getAttribute('aria-label') ?? (labels?.[0]?.textContent || el.textContent || '');
    });
    if (name.test(focused.trim())) return i;
  }
  throw new Error(`no focusable element named ${name} within ${max} Tab presses`);
}

/** Parses a CSV written by the app's matrix export (token texts may be quoted), with the app's RFC 4180 reader. */
export function parseMatrixCsv(text: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = parseCsv(text);
  return { header: header ?? [], rows };
}

/** The tensors of a safetensors file: name → { dtype, shape, bytes }. */
export function readSafetensorsBytes(bytes: Buffer): Map<string, { dtype: string; shape: number[]; data: Buffer }> {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { dtype: string; shape: number[]; data: Buffer }>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    out.set(name, { dtype: t.dtype, shape: t.shape, data: bytes.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]) });
  }
  return out;
}
