import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

/** The Debian Chromium the browser tests drive (playwright-core brings no browser of its own). */
export const CHROMIUM = '/usr/bin/chromium';
/** Whether it is installed: without it the browser tests are skipped, and their names say so. */
export const hasChromium = existsSync(CHROMIUM);
/** Headless and without a sandbox; no background traffic, updates, sync or QUIC to disturb a test. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Chromium itself, for tests that open contexts of their own. */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });

/** A Chromium context on a fresh temporary profile directory, which is deleted when the context closes. */
export async function launchChromiumContext(
  options: { viewport?: { width: number; height: number }; acceptDownloads?: boolean } = {},
): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'sesflow-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_FLAGS,
    ...options,
  });
  context.on('close', () => {
    // Chromium may still be writing its profile as the context closes: retried, and left to the OS if it stays busy.
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch {
      // a temporary directory
    }
  });
  return context;
}
