import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (installed by .ci/run when missing); neither tests nor scripts download a browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * Headless Chromium for the UI tests and scripts/dashboard-paint.ts. Background networking and
 * component updates are off: this machine has no network beyond loopback, a test must notice any
 * request that leaves it, and a timing must not include the browser's own traffic.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}
