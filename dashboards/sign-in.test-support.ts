import type { BrowserContext, Page } from 'playwright-core';

/** Opens the dashboards at `url` and signs in with the API key `key`, waiting until the page shows the role. */
export async function signInWithKey(page: Page, url: string, key: string): Promise<void> {
  await page.goto(url);
  await page.fill('#api-key', key);
  await page.click('button[type=submit]');
  await page.waitForSelector('#who-role');
}

/**
 * A new page of `context` signed in to the dashboards at `url` with the API key `key`, moved to the route `at` (a
 * hash such as `#/tenants/acme`; none: where sign-in lands) and shown once `waitFor` is on it.
 */
export async function openSignedIn(
  context: BrowserContext,
  url: string,
  page: { key: string; at?: string; waitFor: string },
): Promise<Page> {
  const p = await context.newPage();
  await signInWithKey(p, url, page.key);
  if (page.at) await p.goto(`${url}/${page.at}`);
  await p.waitForSelector(page.waitFor);
  return p;
}
