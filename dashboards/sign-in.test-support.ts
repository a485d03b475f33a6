import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Opens the dashboards at `url` and signs in with the API key `key`, waiting until the page shows the role. */
export async function signInWithKey(page: Page, url: string, key: string): Promise<void> {
  await page.goto(url);
  await page.fill('#api-key', key);
  await page.click('button[type=submit]');
  await page.waitForSelector('#who-role');
}

/** Debian's Chromium, which the browser tests drive (they are skipped without it). */
export const CHROMIUM = '/usr/bin/chromium';

/** Chromium headless with the probe's flags and a fresh user-data directory (delete `userDataDir` after). */
export async function launchTestChromium(): Promise<{ context: BrowserContext; userDataDir: string }> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'sesflow-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic'],
  });
  return { context, userDataDir };
}
