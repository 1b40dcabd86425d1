import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.HEADSCOPE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless Debian chromium with WebGPU on SwiftShader (../shared/testing.md). Playwright gives every
 * launch a fresh temporary profile; background networking is off (this machine's network is closed).
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run "npm test" (it installs Debian's chromium) or set HEADSCOPE_CHROMIUM.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
