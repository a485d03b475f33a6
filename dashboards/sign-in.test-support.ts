import type { Page } from 'playwright-core';

/** Opens the dashboards at `url` and signs in with the API key `key`, waiting until the page shows the role. */
export async function signInWithKey(page: Page, url: string, key: string): Promise<void> {
  await page.goto(url);
  await page.fill('#api-key', key);
  await page.click('button[type=submit]');
  await page.waitForSelector('#who-role');
}
