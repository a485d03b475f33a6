import type { BrowserContext, Page } from 'playwright-core';

/** Opens the dashboards at `url` and signs in with the API key `key`, waiting until the page shows the role. */
export async function signInWithKey(page: Page, url: string, key: string): Promise<void> {
  await page.goto(url);
  await page.fill('#api-key', key);
  await page.click('button[type=submit]');
  await page.waitForSelector('#who-role');
}

/**
 * A new page of `context` signed in to the dashboards at `url` with the API key `key`, shown once `waitFor` is on
 * it, after moving to the route `at` (a hash such as `#/tenants/acme`; none: where sign-in lands).
 */
export async function openSignedIn(
  context: BrowserContext,
  url: string,
  key: string,
  waitFor: string,
  at?: string,
): Promise<Page> {
  const page = await context.newPage();
  await signInWithKey(page, url, key);
  if (at) await page.goto(`${url}/${at}`);
  await page.waitForSelector(waitFor);
  return page;
}
