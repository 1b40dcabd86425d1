/**
 * Sessions end to end: a shared link opens the same session in a fresh browser, autosave survives a reload,
 * hostile links are refused without touching the current session, and a prompt with markup stays text.
 * Screenshots go to test-results/e2e/ (session-share.png, session-list.png, session-error.png).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_VERSION } from '../../apps/web/src/session/schema.js';
import type { BuiltApp } from '../support/e2e-app.js';
import { type E2eHarness, shot, startHarness } from '../support/e2e-harness.js';
import { downloadOf, hoverCell, readoutValue, runPrompt, runTokens, waitReady, waitRun, watchErrors } from '../support/e2e-page.js';

const PROMPT = 'The dog sat on the log. The dog sat on the';
const HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script>';

/** A `#s=` hash holding any JSON value (deflate-raw, base64url), like the app writes. */
const hashOf = (value: unknown) => `#s=${deflateRawSync(Buffer.from(JSON.stringify(value))).toString('base64url')}`;

/** The sessions in the page's IndexedDB (the autosave's store). */
function storedSessions(page: Page): Promise<unknown[]> {
  return page.evaluate(
    () =>
      new Promise<unknown[]>((resolve, reject) => {
        const req = indexedDB.open('headscope-sessions');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains('sessions')) return resolve([]);
          const get = db.transaction('sessions', 'readonly').objectStore('sessions').getAll();
          get.onsuccess = () => {
            resolve(get.result as unknown[]);
            db.close();
          };
          get.onerror = () => reject(get.error);
        };
      }),
  );
}

interface Saved {
  prompts: string[];
  selection: { layer: number; head: number };
}

async function selectedHead(page: Page): Promise<string | null> {
  return page.getByRole('grid', { name: 'Attention heads' }).locator('[aria-selected="true"]').getAttribute('aria-label');
}

describe('sessions in Chromium: links, autosave, hostile input', () => {
  let harness: E2eHarness;
  let app: BuiltApp;
  let server: E2eHarness['server'];
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const dialogs: string[] = [];
  const session = (over: Record<string, unknown> = {}) => ({
    version: 2,
    name: 'Shared session',
    created: 1_700_000_000_000,
    updated: 1_700_000_000_000,
    model: { kind: 'bundled', id: app.modelId },
    prompts: [PROMPT],
    promptIndex: 0,
    bos: null,
    selection: { layer: 0, head: 1, query: null, compare: [] },
    view: { active: 'heatmap', metric: 'firstMass', heatmap: { scale: 'linear', scheme: 'viridis', foldFirst: false, zoom: null } },
    ...over,
  });

  beforeAll(async () => {
    harness = await startHarness();
    ({ app, server, browser } = harness);
    ({ context, page } = await harness.newPage(problems));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });

  afterAll(() => harness?.close());

  it('a shared link opens the same prompt, head and heatmap value in a fresh browser context', async () => {
    await page.goto(`${server.url}/${app.query}`);
    await waitReady(page, app.modelId);
    await waitRun(page);
    await runPrompt(page, PROMPT);
    await page.getByRole('gridcell', { name: 'L1H2' }).click();
    await page.getByRole('img', { name: 'Attention heatmap L1H2' }).and(page.locator('[data-view]')).waitFor();
    await waitRun(page);
    const T = await runTokens(page);
    await hoverCell(page, T - 1, 1);
    const before = await readoutValue(page);
    // Zoom in: the zoom window travels with the session too.
    await page.getByRole('img', { name: 'Attention heatmap L1H2' }).and(page.locator('[data-view]')).focus();
    await page.keyboard.press('+');
    await expect.poll(() => page.getByRole('button', { name: 'Reset zoom' }).isEnabled()).toBe(true);

    const share = page.getByRole('button', { name: 'Share' });
    await share.focus();
    await page.keyboard.press('Enter');
    const linkBox = page.getByRole('textbox', { name: 'Share link' });
    await linkBox.waitFor();
    const link = await linkBox.inputValue();
    expect(link).toMatch(/#s=[A-Za-z0-9_-]+$/);
    expect(link.startsWith(`${server.url}/`)).toBe(true);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Share link');
    await page.getByRole('dialog').screenshot({ path: shot('session-share.png') });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('dialog').getByText('Copied the link.').waitFor();
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(link);
    await page.keyboard.press('Escape');

    const fresh = await browser.newContext({ viewport: { width: 1440, height: 1200 } });
    try {
      const other = await fresh.newPage();
      const otherProblems: string[] = [];
      watchErrors(other, otherProblems);
      await other.goto(link);
      await waitReady(other, app.modelId);
      await waitRun(other, T);
      await expect(other.getByRole('textbox', { name: 'Prompt' }).inputValue()).resolves.toBe(PROMPT);
      await expect.poll(() => selectedHead(other)).toBe('L1H2');
      await other.getByRole('img', { name: 'Attention heatmap L1H2' }).and(other.locator('[data-view]')).waitFor();
      await expect.poll(() => other.getByRole('button', { name: 'Reset zoom' }).isEnabled()).toBe(true);
      await other.getByRole('button', { name: 'Reset zoom' }).click();
      await hoverCell(other, T - 1, 1);
      await expect(readoutValue(other)).resolves.toEqual(before);
      // The hash is cleared and the session saved under its own id.
      expect(new URL(other.url()).hash).toBe('');
      await expect.poll(async () => ((await storedSessions(other)) as Saved[]).some((s) => s.prompts[0] === PROMPT)).toBe(true);
      expect(otherProblems).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it('a reload mid-session restores the prompt and the selected head (autosave)', async () => {
    await page.getByRole('gridcell', { name: 'L0H0' }).click();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => selectedHead(page)).toBe('L1H1');
    await expect
      .poll(async () => ((await storedSessions(page)) as Saved[]).some((s) => s.prompts[0] === PROMPT && s.selection.layer === 1 && s.selection.head === 1))
      .toBe(true);
    await page.reload();
    await waitReady(page, app.modelId);
    await waitRun(page);
    await expect(page.getByRole('textbox', { name: 'Prompt' }).inputValue()).resolves.toBe(PROMPT);
    await expect.poll(() => selectedHead(page)).toBe('L1H1');
    await page.getByRole('img', { name: 'Attention heatmap L1H1' }).waitFor();
    await expect(page.getByRole('status', { name: 'Session' }).textContent()).resolves.toContain('Saved');
  });

  it('hostile links leave the current session untouched and say why', async () => {
    const zeros = (n: number) => `#s=${deflateRawSync(Buffer.alloc(n)).toString('base64url')}`;
    const cases: [string, string, RegExp][] = [
      ['a hash of several MB', `#s=${'A'.repeat(3_000_000)}`, /This link is 2\.9 MiB long; Headscope links are at most/],
      ['a 50 MB zip bomb', zeros(50 << 20), /links are at most|would expand past/],
      ['a 5 MB zip bomb under the link limit', zeros(5 << 20), /would expand past/],
      ['valid compression, invalid schema', hashOf({ version: 2, name: 'x', prompts: 'not a list' }), /not a valid Headscope session/],
      ['a future version', hashOf(session({ version: 99 })), /newer Headscope/],
    ];
    const stored = JSON.stringify(await storedSessions(page));
    const alert = page.getByRole('alert', { name: 'Session error' });
    for (const [what, hash, message] of cases) {
      await page.evaluate((h) => {
        location.hash = h;
      }, hash);
      await alert.filter({ hasText: message }).waitFor({ timeout: 20_000 });
      expect(await page.getByRole('textbox', { name: 'Prompt' }).inputValue(), what).toBe(PROMPT);
      expect(await selectedHead(page), what).toBe('L1H1');
      expect(JSON.stringify(await storedSessions(page)), what).toBe(stored);
      expect(new URL(page.url()).hash, what).toBe('');
      if (what === 'a future version') await page.screenshot({ path: shot('session-error.png') });
      await alert.getByRole('button', { name: 'Dismiss' }).click();
      await alert.waitFor({ state: 'detached' });
    }
  });

  it('markup in a shared prompt and name is shown as text, never run', async () => {
    const hash = hashOf(session({ name: HOSTILE, prompts: [HOSTILE] }));
    await page.evaluate((h) => {
      location.hash = h;
    }, hash);
    await expect.poll(() => page.getByRole('textbox', { name: 'Prompt' }).inputValue()).toBe(HOSTILE);
    await waitRun(page);
    await expect.poll(() => selectedHead(page)).toBe('L0H1');
    const list = page.getByRole('region', { name: 'Sessions' });
    await list.getByText(HOSTILE, { exact: false }).first().waitFor();
    await expect(page.getByRole('status', { name: 'Session' }).textContent()).resolves.toContain(HOSTILE);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    const scripts = await page.locator('script').evaluateAll((els) => els.map((e) => e.textContent ?? '').filter((t) => t.includes('alert')));
    expect(scripts).toEqual([]);
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    await list.screenshot({ path: shot('session-list.png') });
  });

  it('the session list opens, renames, duplicates and deletes sessions', async () => {
    const list = page.getByRole('region', { name: 'Sessions' });
    const items = list.getByRole('listitem');
    const n = await items.count();
    expect(n).toBeGreaterThanOrEqual(2);
    // Open the earlier session (the dog prompt at L1H1).
    await list.getByRole('button', { name: 'Open Untitled session' }).first().click();
    await expect.poll(() => page.getByRole('textbox', { name: 'Prompt' }).inputValue()).toBe(PROMPT);
    await expect.poll(() => selectedHead(page)).toBe('L1H1');
    await list.getByRole('button', { name: 'Rename Untitled session' }).first().click();
    await list.getByRole('textbox', { name: 'New name' }).fill('Dog prompt');
    await list.getByRole('button', { name: 'Save name' }).click();
    await list.getByText('Dog prompt (open)').waitFor();
    await expect(page.getByRole('status', { name: 'Session' }).textContent()).resolves.toContain('Dog prompt');
    await list.getByRole('button', { name: 'Duplicate Dog prompt' }).click();
    await list.getByText('Dog prompt (copy)').waitFor();
    await expect.poll(() => items.count()).toBe(n + 1);
    await list.getByRole('button', { name: 'Delete Dog prompt (copy)' }).click();
    await expect.poll(() => items.count()).toBe(n);
  });

  it('a session too large for a link is offered as a .headscope.json file, which opens again (input and drop)', async () => {
    const big = session({
      name: 'Big session',
      prompts: [PROMPT, randomBytes(7000).toString('base64')],
      selection: { layer: 1, head: 0, query: null, compare: [] },
    });
    const file = (value: unknown) => Buffer.from(JSON.stringify({ format: 'headscope-session', session: value }));
    await page.getByRole('button', { name: 'Share' }).click();
    await page.getByLabel('Open session file').setInputFiles([{ name: 'big.headscope.json', mimeType: 'application/json', buffer: file(big) }]);
    await expect.poll(() => page.getByRole('status', { name: 'Session' }).textContent()).toContain('Big session');
    await expect.poll(() => selectedHead(page)).toBe('L1H0');
    await expect(page.getByRole('textbox', { name: 'Prompt' }).inputValue()).resolves.toBe(PROMPT);
    await waitRun(page);
    await page.getByRole('button', { name: 'Share' }).click();
    const saved = await downloadOf(page, page.getByRole('button', { name: /^Download .*\.headscope\.json$/ }));
    expect(saved.name).toBe('Big-session.headscope.json');
    const parsed = JSON.parse(saved.bytes.toString('utf8')) as { format: string; session: Saved };
    expect(parsed.format).toBe('headscope-session');
    expect(parsed.session.prompts).toEqual(big.prompts);
    await page.keyboard.press('Escape');
    // Dropping files on the page: a broken one is refused with its reason, a session file opens.
    const drop = (name: string, text: string) =>
      page.evaluate(
        ([n, t]) => {
          const dt = new DataTransfer();
          dt.items.add(new File([t], n, { type: 'application/json' }));
          document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        },
        [name, text] as const,
      );
    await drop('broken.headscope.json', '{"format": "headscope-session", "session": ');
    const alert = page.getByRole('alert', { name: 'Session error' });
    await alert.filter({ hasText: 'not valid JSON' }).waitFor();
    expect(await selectedHead(page)).toBe('L1H0');
    await alert.getByRole('button', { name: 'Dismiss' }).click();
    await drop('dropped.headscope.json', file({ ...parsed.session, name: 'Dropped', selection: { layer: 0, head: 2, query: null, compare: [] } }).toString());
    await expect.poll(() => page.getByRole('status', { name: 'Session' }).textContent()).toContain('Dropped');
    await expect.poll(() => selectedHead(page)).toBe('L0H2');
  });

  it('a local-model session asks for its files and checks them before loading', async () => {
    const names = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
    const files = names.map((name) => ({ name, buffer: readFileSync(join(app.fixtureDir, name)) }));
    const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
    const manifest = files.map((f) => `${f.name}\t${f.buffer.length}\t${sha(f.buffer)}\n`).join('');
    const model = { kind: 'local', name: 'my-llama', sha256: sha(manifest), files: files.map((f) => ({ name: f.name, size: f.buffer.length })) };
    await page.evaluate(
      (h) => {
        location.hash = h;
      },
      hashOf(session({ name: 'Local session', model, selection: { layer: 1, head: 1, query: null, compare: [] } })),
    );
    const panel = page.getByRole('region', { name: 'Session model files' });
    await panel.getByText('my-llama').waitFor();
    const input = panel.getByLabel("Choose the model's files");
    const upload = (list: typeof files) => input.setInputFiles(list.map((f) => ({ name: f.name, mimeType: 'application/octet-stream', buffer: f.buffer })));
    await upload(files.slice(1));
    await panel.getByRole('alert').filter({ hasText: 'config.json is missing' }).waitFor();
    const changed = Buffer.from(files[0]!.buffer);
    changed[changed.length - 2] = changed[changed.length - 2] === 32 ? 10 : 32;
    await upload([{ name: 'config.json', buffer: changed }, ...files.slice(1)]);
    await panel.getByRole('alert').filter({ hasText: 'different contents' }).waitFor();
    await upload(files);
    await waitReady(page, 'my-llama');
    await waitRun(page);
    await expect(page.getByRole('textbox', { name: 'Prompt' }).inputValue()).resolves.toBe(PROMPT);
    await expect.poll(() => selectedHead(page)).toBe('L1H1');
    await panel.waitFor({ state: 'detached' });
  });

  it('a failing save is shown and the work stays in the page', async () => {
    const broken = await browser.newContext({ viewport: { width: 1440, height: 1200 } });
    try {
      await broken.addInitScript(() => {
        IDBObjectStore.prototype.put = () => {
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        };
      });
      const p = await broken.newPage();
      await p.goto(`${server.url}/${app.query}`);
      await waitReady(p, app.modelId);
      await p.getByRole('textbox', { name: 'Prompt' }).fill(PROMPT);
      await p.getByRole('alert', { name: 'Save error' }).filter({ hasText: 'storage for this site is full' }).waitFor();
      await expect(p.getByRole('textbox', { name: 'Prompt' }).inputValue()).resolves.toBe(PROMPT);
      await expect(p.getByRole('status', { name: 'Session' }).textContent()).resolves.toContain('Not saved');
    } finally {
      await broken.close();
    }
  });

  it('a hub-model session fills the hub field and waits for a click before any download', async () => {
    const before = server.requests.length;
    await page.evaluate(
      (h) => {
        location.hash = h;
      },
      hashOf(session({ name: 'Hub session', model: { kind: 'hub', repo: 'someone/some-model', revision: 'v2' } })),
    );
    await expect.poll(() => page.getByRole('status', { name: 'Session' }).textContent()).toContain('Hub session');
    await expect.poll(() => page.getByRole('radio', { name: 'Hugging Face hub' }).isChecked()).toBe(true);
    await expect(page.getByLabel('Hub repository id').inputValue()).resolves.toBe('someone/some-model@v2');
    await expect(page.getByRole('textbox', { name: 'Prompt' }).inputValue()).resolves.toBe(PROMPT);
    expect(server.requests.slice(before).filter((r) => r.includes('some-model'))).toEqual([]);
  });

  it('a damaged saved session is listed with its error and can be deleted', async () => {
    await page.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const req = indexedDB.open('headscope-sessions');
          req.onsuccess = () => {
            const tx = req.result.transaction('sessions', 'readwrite');
            tx.objectStore('sessions').put({ version: 99, name: 'from the future' }, 'damaged-1');
            tx.oncomplete = () => resolve();
            tx.onerror = () => reject(tx.error);
          };
        }),
    );
    await page.reload();
    const list = page.getByRole('region', { name: 'Sessions' });
    const damaged = list.getByRole('listitem').filter({ hasText: 'Damaged session' });
    await damaged.filter({ hasText: 'newer Headscope' }).waitFor();
    await damaged.getByRole('button', { name: 'Delete' }).click();
    await damaged.waitFor({ state: 'detached' });
    expect(((await storedSessions(page)) as { version: number }[]).every((s) => s.version === SESSION_VERSION)).toBe(true);
  });

  it('logged no console errors', () => {
    expect(problems).toEqual([]);
  });
});
