import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeDirSource } from '../../packages/models/src/node.js';
import { loadTokenizer } from '../../packages/models/src/tokenizer/tokenizer.js';
import { CHROMIUM_PATH } from '../support/chromium.js';
import { type BuiltApp, FIXTURE, makeLongModel } from '../support/e2e-app.js';
import { type E2eHarness, shot, startHarness } from '../support/e2e-harness.js';
import { hoverCell, readoutValue, runTokens, tabTo, waitReady, waitRun, watchErrors } from '../support/e2e-page.js';

const HUB = '/hub';
const REPO = 'test/tiny@main';

describe('models, keyboard use and long prompts in Chromium', () => {
  let harness: E2eHarness;
  let app: BuiltApp;
  let server: E2eHarness['server'];
  const problems: string[] = [];

  beforeAll(async () => {
    harness = await startHarness({
      prepare: (built) => makeLongModel(join(built.dir, 'models', 'long-test')),
      serve: {
        mounts: {
          [`${HUB}/test/tiny/resolve/main/`]: { dir: FIXTURE },
          [`${HUB}/test/slow/resolve/main/`]: { dir: FIXTURE, rate: 150_000 },
        },
      },
    });
    ({ app, server } = harness);
  });

  afterAll(() => harness?.close());

  async function open(query: string) {
    const { context, page } = await harness.newPage(problems, 1100);
    await page.goto(`${server.url}/${query}`);
    return { context, page };
  }

  it('checks a hub model before downloading, shows progress, cancels, caches and removes it', async () => {
    const { context, page } = await open(`${app.fixtureQuery}&hubEndpoint=${HUB}`);
    await waitReady(page, 'dev-fixture');
    await page.getByRole('radio', { name: 'Hugging Face hub' }).check();
    await page.getByLabel('Hub repository id').fill('test/slow@main');
    await page.getByRole('button', { name: 'Check model' }).click();
    const facts = page.getByRole('region', { name: 'Model' }).locator('dl.facts').first();
    await facts.filter({ hasText: 'can run it' }).waitFor();
    const text = (await facts.textContent()) ?? '';
    expect(text).toMatch(/Parameters\s*\d/);
    expect(text).toMatch(/Download\s*59\d(\.\d)? KB/);
    expect(text).toContain('GPU memory');
    await page.getByRole('button', { name: 'Download and load' }).click();
    const progress = page.getByRole('progressbar', { name: 'Model download' });
    await progress.waitFor();
    await page.getByText(/ of 59\d(\.\d)? KB · .*\/s/).waitFor();
    await page.getByRole('region', { name: 'Model' }).screenshot({ path: shot('model-hub-progress.png') });
    await page.getByRole('region', { name: 'Model' }).getByRole('button', { name: 'Cancel' }).click();
    await progress.waitFor({ state: 'detached' });
    await waitReady(page, 'dev-fixture');
    // A cancelled download is not cached.
    await page.getByText('No downloaded models are cached in this browser.').waitFor();
    await page.getByLabel('Hub repository id').fill(REPO);
    await page.getByRole('button', { name: 'Check model' }).click();
    await page.getByRole('button', { name: 'Download and load' }).click();
    await waitReady(page, REPO);
    await waitRun(page);
    const cached = page.getByRole('list', { name: 'Cached models' });
    await cached
      .getByRole('listitem')
      .filter({ hasText: /test\/tiny@main · 59\d(\.\d)? KB in \d files?/ })
      .waitFor();
    await page.getByRole('region', { name: 'Model' }).screenshot({ path: shot('model-hub-cached.png') });
    await page.getByRole('button', { name: `Remove hub/${REPO} from the cache` }).click();
    await page.getByText('No downloaded models are cached in this browser.').waitFor();
    await context.close();
  });

  it('works from the keyboard alone: model choice, running, head navigation, heatmap cursor', async () => {
    const { context, page } = await open(`${app.fixtureQuery}&hubEndpoint=${HUB}`);
    await waitReady(page, 'dev-fixture');
    await tabTo(page, /Bundled/);
    await page.keyboard.press('ArrowDown'); // radio group: to "Hugging Face hub"
    await expect(page.getByRole('radio', { name: 'Hugging Face hub' }).isChecked()).resolves.toBe(true);
    await tabTo(page, /Hub repository id/);
    await page.keyboard.type(REPO);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Download and load' }).waitFor();
    await tabTo(page, /Download and load/);
    await page.keyboard.press('Enter');
    await waitReady(page, REPO);
    await tabTo(page, /^Prompt$/);
    await page.keyboard.press('Control+A');
    await page.keyboard.type('The dog sat on the log.');
    await page.keyboard.press('Control+Enter');
    await page
      .getByRole('status', { name: 'Run' })
      .filter({ hasText: /^\d+ tokens/ })
      .waitFor();
    await expect.poll(() => page.getByRole('textbox', { name: 'Prompt' }).inputValue()).toBe('The dog sat on the log.');
    await waitRun(page, await page.getByRole('list', { name: 'Tokens' }).getByRole('listitem').count());
    await tabTo(page, /^L0H0$/);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('L1H1');
    await page.getByRole('img', { name: 'Attention heatmap L1H1' }).waitFor();
    await tabTo(page, /^Attention heatmap L1H1$/);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    const r = await readoutValue(page);
    expect(r.k).toBeGreaterThanOrEqual(0);
    await page.keyboard.press('Enter'); // selects the cursor's query for the token view and predictions
    await page
      .getByRole('region', { name: 'Next-token predictions' })
      .getByRole('heading', { name: new RegExp(`^Next token after ${r.q} `) })
      .waitFor();
    await context.close();
  });

  it('loads a model from local files: the file picker (a Gemma 3 with sliding windows), and a drop of the files', async () => {
    const { context, page } = await open(app.fixtureQuery);
    await waitReady(page, 'dev-fixture');
    await page.getByRole('radio', { name: 'Files on this computer' }).check();
    const gemma = join(FIXTURE, '../gemma3_text');
    const files = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => join(gemma, f));
    await page.getByLabel('Choose model files').setInputFiles(files);
    await page.getByText('the selected files: 5 files').waitFor();
    await page.locator('.local dl.facts').filter({ hasText: 'can run it' }).waitFor();
    await page.getByRole('button', { name: 'Load these files' }).click();
    await waitReady(page, 'the selected files');
    await waitRun(page);
    // Layer 0 slides a window of 4 keys: a key 4 behind the last query is masked (said so), the one 3 behind is not.
    await page.getByRole('gridcell', { name: 'L0H1' }).click();
    const T = await runTokens(page);
    expect(T).toBeGreaterThan(5);
    await hoverCell(page, T - 1, T - 5);
    await page.getByText(`outside the sliding window of 4`).waitFor();
    expect((await readoutValue(page)).value).toBe('0');
    await hoverCell(page, T - 1, T - 4);
    await expect.poll(async () => (await readoutValue(page)).k).toBe(T - 4);
    expect(Number((await readoutValue(page)).value)).toBeGreaterThan(0);
    await page.getByRole('region', { name: 'Heatmap' }).screenshot({ path: shot('heatmap-sliding-window.png') });
    // Dropping the same files (a DataTransfer built in the page from the served fixture).
    await page.evaluate(async () => {
      const dt = new DataTransfer();
      for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
        const blob = await (await fetch(`/models/dev-fixture/${f}`)).blob();
        dt.items.add(new File([blob], f));
      }
      const zone = document.querySelector('.dropzone')!;
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.getByText('the selected files: 4 files').waitFor();
    await page.locator('.local dl.facts').filter({ hasText: 'can run it' }).waitFor();
    await page.getByRole('region', { name: 'Model' }).screenshot({ path: shot('model-local-files.png') });
    await context.close();
  });

  it('without WebGPU says why and runs the model on the CPU path, with every view', async () => {
    const plain = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--headless=new', '--no-sandbox', '--disable-background-networking'],
    });
    try {
      const page = await plain.newPage({ viewport: { width: 1440, height: 1100 } });
      const errors: string[] = [];
      watchErrors(page, errors);
      await page.goto(`${server.url}/${app.fixtureQuery}`);
      const banner = page.getByRole('status', { name: 'Backend' });
      await banner.filter({ hasText: 'Running on the CPU' }).waitFor();
      const text = (await banner.textContent()) ?? '';
      expect(text).toMatch(/Running on the CPU \(no WebGPU: .+\)/);
      expect(text).toContain('Use a browser with WebGPU enabled');
      await expect(page.getByRole('radio', { name: /Bundled/ }).isDisabled()).resolves.toBe(false);
      await waitReady(page, 'dev-fixture');
      await waitRun(page);
      // The views read the host arrays: the grid, a heatmap readout and the predictions.
      await page.getByRole('gridcell', { name: 'L1H1' }).click();
      await page.getByRole('img', { name: 'Attention heatmap L1H1' }).waitFor();
      await hoverCell(page, 2, 1);
      const cell = await readoutValue(page);
      expect([cell.q, cell.k]).toEqual([2, 1]);
      await page.getByRole('region', { name: 'Next-token predictions' }).getByRole('cell', { name: /%$/ }).first().waitFor();
      await page.screenshot({ path: shot('no-webgpu-cpu.png'), fullPage: true });
      // The default bundled model (under 30M parameters) runs there too. (Named in the URL: a reload would
      // otherwise restore the autosaved session, and its model.)
      await page.goto(`${server.url}/?model=bundled:${app.modelId}`);
      await waitReady(page, app.modelId);
      await waitRun(page);
      expect(errors).toEqual([]);
    } finally {
      await plain.close();
    }
  });

  it('a 1,024-token prompt on a 6-layer model runs without freezing the page', async () => {
    const dir = join(app.dir, 'models', 'long-test');
    const tok = await loadTokenizer(new NodeDirSource(dir), { nCtx: 1024 });
    const words = 'the cat sat on the mat and the dog sat on the log while a bird sang in the tree'.split(' ');
    const count = (t: string) => tok.encode(t, { checkContext: false }).length;
    let text = '';
    for (let i = 0; count(`${text} ${words[i % words.length]}`) <= 1024; i++) text = `${text} ${words[i % words.length]}`.trim();
    while (count(`${text}a`) <= 1024) text += 'a';
    const n = count(text);
    expect(n).toBeGreaterThan(1000);
    const { context, page } = await open('?model=bundled:long-test');
    await waitReady(page, 'long-test');
    await waitRun(page);
    await page.getByRole('textbox', { name: 'Prompt' }).fill(text);
    await expect.poll(() => page.getByRole('list', { name: 'Tokens' }).getByRole('listitem').count(), { timeout: 30_000 }).toBe(n);
    await page.evaluate(() => {
      const w = window as unknown as { __long: number[]; __gap: number; __stop: boolean };
      w.__long = [];
      w.__gap = 0;
      w.__stop = false;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__long.push(e.duration);
      }).observe({ entryTypes: ['longtask'] });
      let last = performance.now();
      const tick = (t: number) => {
        w.__gap = Math.max(w.__gap, t - last);
        last = t;
        if (!w.__stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await waitRun(page, n, 300_000);
    const runMs = Date.now() - t0;
    // While it ran, the page answered: the prompt box takes input at once.
    const stats = await page.evaluate(() => {
      const w = window as unknown as { __long: number[]; __gap: number; __stop: boolean };
      w.__stop = true;
      return { longTasks: w.__long, maxFrameGap: w.__gap };
    });
    console.log(
      `1,024-token prompt (${n} tokens, 6 layers): ${runMs} ms to the heatmap (${await page.getByRole('status', { name: 'Run' }).textContent()}); long tasks ${JSON.stringify(stats.longTasks.map(Math.round))}, max frame gap ${Math.round(stats.maxFrameGap)} ms`,
    );
    expect(await runTokens(page)).toBe(n);
    expect(Math.max(0, ...stats.longTasks)).toBeLessThan(500);
    // Zoomed out, cells are pooled; the readout still gives the exact value (read from the worker).
    await page.getByText(/zoomed out: each cell shows the max of 4×4 values/).waitFor();
    await hoverCell(page, 1000, 3);
    const far = await readoutValue(page);
    expect([far.q, far.k]).toEqual([1000, 3]);
    await page.getByRole('region', { name: 'Heatmap' }).screenshot({ path: shot('heatmap-1024.png') });
    const canvas = page.getByRole('img', { name: /^Attention heatmap/ });
    await canvas.focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('+');
    await expect.poll(() => page.getByText(/zoomed out/).count()).toBe(0);
    await page.getByRole('region', { name: 'Heatmap' }).screenshot({ path: shot('heatmap-1024-zoomed.png') });
    await context.close();
  });

  it('logged no console errors', () => {
    expect(problems).toEqual([]);
  });
});
