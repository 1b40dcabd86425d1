/**
 * The workbench end to end: the built app in headless Chromium (WebGPU on SwiftShader), the bundled model
 * (or the fixture standing in for it), a prompt, the views, their numbers against the engine run in Node,
 * keyboard navigation, prompt sets and every export. Screenshots go to test-results/e2e/.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSize } from '../../packages/models/src/index.js';
import { BufferPool } from '../../packages/wgpu-kernels/src/index.js';
import { type BuiltApp, SCREENSHOTS } from '../support/e2e-app.js';
import { type E2eHarness, shot, startHarness } from '../support/e2e-harness.js';
import { downloadOf, hoverCell, parseMatrixCsv, readoutValue, readSafetensorsBytes, waitReady, waitRun } from '../support/e2e-page.js';
import { type ReferenceRun, referenceRun, tokenCount } from '../support/engine-reference.js';

const PROMPT = 'The cat sat on the mat. The cat sat on the';

describe('the workbench in Chromium (WebGPU on SwiftShader)', () => {
  let harness: E2eHarness;
  let app: BuiltApp;
  let server: E2eHarness['server'];
  let page: Page;
  let reference: ReferenceRun;
  const problems: string[] = [];

  beforeAll(async () => {
    harness = await startHarness();
    ({ app, server } = harness);
    ({ page } = await harness.newPage(problems));
    reference = await referenceRun(app.modelDir, PROMPT);
  });

  afterAll(() => harness?.close());

  it('opens with the bundled model ready and draws the first heatmap', async () => {
    const t0 = Date.now();
    await page.goto(`${server.url}/${app.query}`);
    await waitReady(page, app.modelId);
    await waitRun(page);
    await page.waitForFunction(() => performance.getEntriesByName('headscope:first-heatmap').length > 0);
    const mark = await page.evaluate(() => performance.getEntriesByName('headscope:first-heatmap')[0]!.startTime);
    const wall = Date.now() - t0;
    const runText = await page.getByRole('status', { name: 'Run' }).textContent();
    writeFileSync(
      join(SCREENSHOTS, 'first-heatmap.json'),
      JSON.stringify({ model: app.modelId, firstHeatmapMs: Math.round(mark), wallMs: wall, run: runText }, null, 2),
    );
    console.log(`first heatmap (${app.modelId}): ${Math.round(mark)} ms after navigation start (${wall} ms wall); ${runText}`);
    const grid = page.getByRole('grid', { name: 'Attention heads' });
    await expect(grid.getByRole('gridcell').count()).resolves.toBe(reference.nLayers * reference.nHeads);
    await expect(page.getByRole('gridcell', { name: 'L0H0' }).getAttribute('aria-selected')).resolves.toBe('true');
    await page.screenshot({ path: shot('workbench.png'), fullPage: true });
  });

  it('runs a typed prompt; the hover readout and the CSV export equal the engine', async () => {
    await page.getByRole('textbox', { name: 'Prompt' }).fill(PROMPT);
    // The chips show the tokens with their ids before the run.
    const chips = page.getByRole('list', { name: 'Tokens' }).getByRole('listitem');
    await expect.poll(() => chips.count()).toBe(reference.ids.length);
    // The BOS switch adds or removes exactly the BOS token; back to the model's default for the run.
    const bos = page.getByRole('switch', { name: 'Prepend BOS' });
    await bos.click();
    await expect.poll(() => chips.count()).toBe(reference.ids.length + ((await bos.isChecked()) ? 1 : -1));
    await bos.click();
    await expect.poll(() => chips.count()).toBe(reference.ids.length);
    await expect(chips.first().textContent()).resolves.toContain(String(reference.ids[0]));
    // Before the run, the editor says what it will cost: the engine's estimate, every layer's [H, T, T] maps
    // in their pool size class.
    const T0 = reference.ids.length;
    const maps = reference.nLayers * BufferPool.sizeClass(reference.nHeads * T0 * T0 * 4);
    const note = page.getByRole('note', { name: 'Run cost' });
    await expect.poll(() => note.textContent()).toContain(`maps ${formatSize(maps)} (${reference.nLayers} layers)`);
    await page.getByRole('region', { name: 'Prompt editor' }).screenshot({ path: shot('prompt-run-cost.png') });
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await waitRun(page, reference.ids.length);
    const L = reference.nLayers - 1;
    const H = reference.nHeads - 1;
    await page.getByRole('gridcell', { name: `L${L}H${H}` }).click();
    await page.getByRole('img', { name: `Attention heatmap L${L}H${H}` }).waitFor();
    const T = reference.ids.length;
    const ref = reference.heads.get(`${L}:${H}`)!;
    const cells: [number, number][] = [
      [T - 1, 0],
      [T - 1, T - 2],
      [Math.floor(T / 2), 1],
    ];
    const csv = parseMatrixCsv((await downloadOf(page, page.getByRole('button', { name: 'Matrix CSV' }))).bytes.toString('utf8'));
    expect(csv.header.slice(0, 3)).toEqual(['query', 'token', '0']);
    expect(csv.rows.length).toBe(T);
    for (const [q, k] of cells) {
      await hoverCell(page, q, k);
      const r = await readoutValue(page);
      expect([r.q, r.k]).toEqual([q, k]);
      // The readout and the export are the same string; both within float tolerance of the Node engine.
      expect(r.value).toBe(csv.rows[q]![2 + k]);
      expect(Math.abs(Number(r.value) - ref[q * T + k]!)).toBeLessThan(2e-6);
    }
    let maxDiff = 0;
    for (let q = 0; q < T; q++) for (let k = 0; k < T; k++) maxDiff = Math.max(maxDiff, Math.abs(Number(csv.rows[q]![2 + k]) - ref[q * T + k]!));
    expect(maxDiff).toBeLessThan(2e-6);
    const heatmap = page.getByRole('region', { name: 'Heatmap' });
    await heatmap.scrollIntoViewIfNeeded();
    await hoverCell(page, T - 1, 0);
    await readoutValue(page);
    await heatmap.screenshot({ path: shot('heatmap.png') });
    await page.getByRole('region', { name: 'Head grid' }).screenshot({ path: shot('head-grid.png') });
  });

  it('arrow keys move the head selection, and the views follow', async () => {
    await page.getByRole('gridcell', { name: 'L0H0' }).click();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByRole('gridcell', { name: 'L0H1' }).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.getByRole('gridcell', { name: 'L1H1' }).getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('L1H1');
    await page.getByRole('img', { name: 'Attention heatmap L1H1' }).waitFor();
    await page.keyboard.press('End');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`L1H${reference.nHeads - 1}`);
    await page.keyboard.press('PageDown');
    await page.keyboard.press('Home');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`L${reference.nLayers - 1}H0`);
    await page.keyboard.press('ArrowLeft'); // at the edge: stays
    await expect.poll(() => page.getByRole('gridcell', { name: `L${reference.nLayers - 1}H0` }).getAttribute('aria-selected')).toBe('true');
    // Hover previews another head without moving the lock.
    await page.getByRole('gridcell', { name: 'L0H1' }).hover();
    await page.getByRole('img', { name: 'Attention heatmap L0H1' }).waitFor();
    await page.mouse.move(5, 5);
    await page.getByRole('img', { name: `Attention heatmap L${reference.nLayers - 1}H0` }).waitFor();
  });

  it('shows the token view and the next-token predictions at the selected position', async () => {
    await page.getByRole('gridcell', { name: 'L1H0' }).click();
    await page.getByRole('button', { name: 'Pin L1H0' }).click();
    await page.getByRole('gridcell', { name: 'L1H1' }).click();
    const tokenView = page.getByRole('region', { name: 'Token view' });
    await tokenView.getByRole('list', { name: 'Heads in the token view' }).filter({ hasText: 'L1H0' }).filter({ hasText: 'L1H1' }).waitFor();
    await expect.poll(() => tokenView.locator('line').count()).toBeGreaterThan(0);
    await expect.poll(() => tokenView.locator('svg.bars rect').count()).toBeGreaterThan(0);
    const predictions = page.getByRole('region', { name: 'Next-token predictions' });
    await expect.poll(() => predictions.getByRole('row').count()).toBe(11);
    const probs = await predictions.locator('tbody tr td:last-child').allTextContents();
    const values = probs.map((p) => Number.parseFloat(p));
    expect([...values].sort((a, b) => b - a)).toEqual(values);
    await tokenView.screenshot({ path: shot('token-view.png') });
    await predictions.screenshot({ path: shot('predictions.png') });
    // Clicking a heatmap row selects that query for the token view and predictions.
    await hoverCell(page, 3, 1);
    await page.mouse.down();
    await page.mouse.up();
    await predictions.getByRole('heading', { name: /^Next token after 3 / }).waitFor();
  });

  it('an uploaded .jsonl prompt set appears and runs (and .txt/.csv sets too)', async () => {
    const prompts = ['The dog sat on the log.', 'A cat and a dog sat on the mat', 'The mat'];
    const input = page.getByLabel('Upload prompt sets (.txt, .jsonl, .csv)');
    await input.setInputFiles([
      { name: 'probes.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(prompts.map((p, i) => JSON.stringify({ id: i, prompt: p })).join('\n')) },
      { name: 'more.csv', mimeType: 'text/csv', buffer: Buffer.from('id,prompt\n1,"The cat, the dog"\n') },
      { name: 'lines.txt', mimeType: 'text/plain', buffer: Buffer.from('one line\nanother line\n') },
    ]);
    const list = page.getByRole('list', { name: 'Prompts from probes.jsonl' });
    await expect.poll(() => list.getByRole('button').allTextContents()).toEqual(prompts);
    await expect.poll(() => page.getByRole('list', { name: 'Prompts from more.csv' }).getByRole('button').allTextContents()).toEqual(['The cat, the dog']);
    await expect.poll(() => page.getByRole('list', { name: 'Prompts from lines.txt' }).getByRole('button').count()).toBe(2);
    await list.getByRole('button', { name: prompts[1] }).click();
    const n = await tokenCount(app.modelDir, prompts[1]!);
    await waitRun(page, n);
    await expect(page.getByRole('textbox', { name: 'Prompt' }).inputValue()).resolves.toBe(prompts[1]);
    await page.getByRole('region', { name: 'Prompt sets' }).screenshot({ path: shot('prompt-sets.png') });
    // A broken file is reported, not fatal.
    await input.setInputFiles([{ name: 'bad.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from('{"text": "no prompt field"}') }]);
    await page.getByRole('alert').filter({ hasText: 'bad.jsonl: line 1 has no string "prompt" field' }).waitFor();
  });

  it('exports PNG (chosen scale), SVG, CSV, JSON and safetensors with the drawn numbers', async () => {
    await page.getByRole('textbox', { name: 'Prompt' }).fill(PROMPT);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await waitRun(page, reference.ids.length);
    await page.getByRole('gridcell', { name: 'L1H2' }).click();
    await page.getByRole('img', { name: 'Attention heatmap L1H2' }).waitFor();
    await page.getByLabel('PNG scale').selectOption('3');
    const canvas = page.getByRole('img', { name: 'Attention heatmap L1H2' });
    const cssWidth = (await canvas.boundingBox())!.width;
    const png = await downloadOf(page, page.getByRole('button', { name: 'Heatmap PNG' }));
    expect(png.name).toMatch(/_L1H2@3x\.png$/);
    expect(png.bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(png.bytes.readUInt32BE(16)).toBe(Math.round(cssWidth * 3));
    const svg = await downloadOf(page, page.getByRole('button', { name: 'Heatmap SVG' }));
    expect(svg.name).toMatch(/_L1H2\.svg$/);
    expect(svg.bytes.toString()).toContain('<title>Attention heatmap L1H2</title>');
    const gridPng = await downloadOf(page, page.getByRole('button', { name: 'Grid PNG' }));
    expect(gridPng.bytes.subarray(1, 4).toString()).toBe('PNG');
    const gridSvg = await downloadOf(page, page.getByRole('button', { name: 'Grid SVG' }));
    expect(gridSvg.bytes.toString()).toMatch(/^<svg[^>]*>\n<title>Attention heads/);
    const csv = parseMatrixCsv((await downloadOf(page, page.getByRole('button', { name: 'Matrix CSV' }))).bytes.toString('utf8'));
    const json = JSON.parse((await downloadOf(page, page.getByRole('button', { name: 'Matrix JSON' }))).bytes.toString('utf8')) as {
      layer: number;
      head: number;
      tokens: { id: number; text: string }[];
      values: number[][];
    };
    expect([json.layer, json.head]).toEqual([1, 2]);
    expect(json.tokens.map((t) => t.id)).toEqual(reference.ids);
    const T = reference.ids.length;
    for (let q = 0; q < T; q++) for (let k = 0; k < T; k++) expect(json.values[q]![k]).toBe(Number(csv.rows[q]![2 + k]));
    const st = await downloadOf(page, page.getByRole('button', { name: 'All maps (safetensors)' }));
    expect(st.name).toMatch(/\.safetensors$/);
    const tensors = readSafetensorsBytes(st.bytes);
    expect(tensors.get('input_ids')).toMatchObject({ dtype: 'I32', shape: [T] });
    expect([...new Int32Array(new Uint8Array(tensors.get('input_ids')!.data).buffer)]).toEqual(reference.ids);
    expect(tensors.get('logits')?.dtype).toBe('F32');
    expect(tensors.get('logits')?.shape[0]).toBe(T);
    for (let l = 0; l < reference.nLayers; l++) expect(tensors.get(`attn.${l}`)).toMatchObject({ dtype: 'F32', shape: [reference.nHeads, T, T] });
    const attn = new Float32Array(new Uint8Array(tensors.get('attn.1')!.data).buffer);
    // Head 2 of layer 1 in the safetensors file is, float for float, the CSV the heatmap exported.
    for (let q = 0; q < T; q++) for (let k = 0; k < T; k++) expect(attn[2 * T * T + q * T + k]).toBe(Math.fround(Number(csv.rows[q]![2 + k])));
    // Colour scales and the folded first column keep working (and look right: see the screenshot).
    await page.getByLabel('Colour scale').selectOption('log');
    await page.getByLabel('Fold first token').check();
    await page.getByLabel('Colours').selectOption('cividis');
    await hoverCell(page, T - 1, 0);
    const folded = await readoutValue(page);
    expect(folded.k).toBe(0);
    expect(folded.value).toBe(csv.rows[T - 1]![2]);
    await hoverCell(page, T - 1, T - 2);
    await readoutValue(page);
    await page.getByRole('region', { name: 'Heatmap' }).screenshot({ path: shot('heatmap-log-folded.png') });
  });

  it('logged no console errors', () => {
    expect(problems).toEqual([]);
  });
});
