/** The set-up the e2e suites share: the app built and served, Chromium launched, pages that report errors. */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { inject } from 'vitest';
import { type AppServerOptions, serveApp } from './app-server.js';
import { launchChromium } from './chromium.js';
import { type BuiltApp, buildApp, SCREENSHOTS } from './e2e-app.js';
import { watchErrors } from './e2e-page.js';

export interface E2eHarness {
  app: BuiltApp;
  server: Awaited<ReturnType<typeof serveApp>>;
  browser: Browser;
  /** A fresh context (downloads accepted) and page whose console and page errors go into `problems`. */
  newPage(problems: string[], height?: number): Promise<{ context: BrowserContext; page: Page }>;
  /** Closes the browser (and its contexts) and the server, and removes the built app. */
  close(): Promise<void>;
}

/** Where a suite's screenshot of this name goes (test-results/e2e/). */
export const shot = (name: string): string => join(SCREENSHOTS, name);

/** Builds and serves the app (after `prepare` may add files to it) and launches Chromium. */
export async function startHarness(options: { prepare?: (app: BuiltApp) => void; serve?: AppServerOptions } = {}): Promise<E2eHarness> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const app = buildApp(inject('e2eBuild'));
  let server: E2eHarness['server'] | undefined;
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    await server?.close();
    rmSync(app.dir, { recursive: true, force: true });
  };
  try {
    options.prepare?.(app);
    server = await serveApp(app.dir, options.serve);
    browser = await launchChromium();
  } catch (e) {
    await close();
    throw e;
  }
  const launched = browser;
  return {
    app,
    server,
    browser: launched,
    close,
    async newPage(problems, height = 1200) {
      const context = await launched.newContext({ viewport: { width: 1440, height }, acceptDownloads: true });
      const page = await context.newPage();
      watchErrors(page, problems);
      return { context, page };
    },
  };
}
