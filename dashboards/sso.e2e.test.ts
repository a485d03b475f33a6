import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningOidcProvider, signInWithCode, startOidcProvider } from '../local/oidc-provider';
import { findFreePort } from '../local/stack/ports';
import { MemoryTenantStore } from '../tenants/tenant-service';
import { createCognitoAuthenticator, createIdTokenVerifier } from './adapters/cognito-authenticator';
import { hasChromium, launchChromium } from './chromium.test-support';
import { type RunningDashboardServer, startDashboardServer } from './server';
import { buildTestLake, type TestLake } from './test-lake';

/**
 * A real single sign-on in Chromium: the web app in Cognito mode against the local OpenID Connect provider
 * (oidc-provider), authorization code with PKCE, Cognito-shaped ID tokens verified by the Reports API through the
 * same authenticator as in AWS (issuer and JWKS URL only). ID tokens live 5 s here, so refresh and expiry show.
 */
const CLIENT_ID = 'sesflow-dashboard';
const USERS = {
  officer: { username: 'officer@example.test', password: 'Officer-pass-123', groups: ['compliance'] },
  acme: { username: 'acme@example.test', password: 'Acme-pass-12345', groups: ['client'], tenant: 'acme' },
  nobody: { username: 'nobody@example.test', password: 'Nobody-pass-123' },
  orphan: { username: 'orphan@example.test', password: 'Orphan-pass-123', groups: ['client'] },
};
const TOKEN_LIFE_S = 5;

let lake: TestLake;
let op: RunningOidcProvider;
let server: RunningDashboardServer;
let browser: Browser;

beforeAll(async () => {
  if (!hasChromium) return;
  lake = buildTestLake({ messages: 800, start: new Date(Date.now() - 30 * 3_600_000) });
  const port = await findFreePort();
  const appUrl = `http://127.0.0.1:${port}/`;
  op = await startOidcProvider({
    users: Object.values(USERS),
    webClients: [{ clientId: CLIENT_ID, redirectUris: [appUrl] }],
    ttl: { idToken: TOKEN_LIFE_S, accessToken: TOKEN_LIFE_S },
  });
  const verifier = createIdTokenVerifier({ issuer: op.issuer, jwksUri: op.jwksUri, audience: CLIENT_ID });
  server = await startDashboardServer({
    port,
    lakeDir: lake.dir,
    auth: createCognitoAuthenticator(verifier),
    credential: 'Authorization: Bearer <ID token>',
    tenants: new MemoryTenantStore(),
    webConfig: { mode: 'cognito', domain: op.url, clientId: CLIENT_ID },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await op?.close();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

async function newPage(): Promise<Page> {
  return (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
}

/** From the app's sign-in page through the provider's form and back, signed in. */
async function signIn(page: Page, user: { username: string; password: string }): Promise<void> {
  await page.goto(server.url);
  await page.click('#sign-in');
  await page.waitForSelector('#username');
  expect(new URL(page.url()).origin).toBe(op.url);
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#who-role');
  expect(new URL(page.url()).search).toBe('');
}

/** The page's sessionStorage, as typed here (this project's type-check has no DOM library). */
type PageStorage = { getItem(k: string): string | null; setItem(k: string, v: string): void };

const storedTokens = (page: Page) =>
  page.evaluate(() =>
    JSON.parse(
      (globalThis as unknown as { sessionStorage: PageStorage }).sessionStorage.getItem('sesflow.tokens') ?? 'null',
    ),
  ) as Promise<{
    idToken: string;
    refreshToken: string | null;
  } | null>;

/** Status codes of API calls made from the page with `token` as the bearer. */
const statusesWith = (page: Page, token: string, paths: string[]) =>
  page.evaluate(
    ({ token, paths }) =>
      Promise.all(paths.map(async (p) => (await fetch(p, { headers: { authorization: `Bearer ${token}` } })).status)),
    { token, paths },
  );

describe.skipIf(!hasChromium)('single sign-on in Chromium (local OpenID Connect provider)', () => {
  it('a compliance officer signs in and sees every tenant ranked by risk', async () => {
    const page = await newPage();
    await signIn(page, USERS.officer);
    expect(await page.textContent('#who-role')).toBe('compliance');
    await page.waitForSelector('#tenant-table tbody tr');
    const ids = await page.$$eval('#tenant-table tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-tenant')));
    expect([...ids].sort()).toEqual(['acme', 'globex', 'hooli', 'initech', 'umbrella']);
    await page.context().close();
  });

  it('a client user signs in to its own report and cannot reach another tenant, in the UI or the API', async () => {
    const page = await newPage();
    await signIn(page, USERS.acme);
    expect(await page.textContent('#who-role')).toBe('acme · client');
    await page.waitForSelector('#report-campaign-report table');
    expect(await page.textContent('#report-title')).toBe('acme · email report');
    await page.goto(`${server.url}/#/tenants/globex`);
    await page.waitForSelector('#report-title');
    expect(await page.textContent('#report-title')).toBe('acme · email report');
    expect(await page.textContent('body')).not.toMatch(/globex|umbrella/);
    const tokens = await storedTokens(page);
    const paths = ['/v1/tenants/globex', '/v1/reports/tenant-summary?tenant=globex', '/v1/tenants/globex/audit'];
    expect(await statusesWith(page, tokens?.idToken ?? '', paths)).toEqual([403, 403, 403]);
    await page.context().close();
  });

  it('a token whose tenant claim was changed (so its signature no longer matches) gets 401', async () => {
    const page = await newPage();
    await signIn(page, USERS.acme);
    const token = (await storedTokens(page))?.idToken ?? '';
    const [head, body, sig] = token.split('.');
    const claims = JSON.parse(Buffer.from(body ?? '', 'base64url').toString('utf8'));
    expect(claims['custom:tenant']).toBe('acme');
    const forgedBody = Buffer.from(JSON.stringify({ ...claims, 'custom:tenant': 'globex' })).toString('base64url');
    const forged = `${head}.${forgedBody}.${sig}`;
    expect(await statusesWith(page, forged, ['/v1/tenants/globex', '/v1/me'])).toEqual([401, 401]);
    // The genuine token still works: the refusal was the forgery's.
    expect(await statusesWith(page, token, ['/v1/me'])).toEqual([200]);
    await page.context().close();
  });

  it('a signed-in user with no role, or a client user with no tenant, gets 403', async () => {
    const page = await newPage();
    await page.goto(server.url);
    for (const user of [USERS.nobody, USERS.orphan]) {
      const tokens = await signInWithCode(op, { clientId: CLIENT_ID, redirectUri: `${server.url}/`, ...user });
      expect(await statusesWith(page, tokens.id_token, ['/v1/me'])).toEqual([403]);
    }
    await page.context().close();
  });

  it('refreshes silently while the refresh token lasts; an expired token with no refresh leads back to sign-in', async () => {
    const page = await newPage();
    await signIn(page, USERS.officer);
    const first = await storedTokens(page);
    await page.waitForTimeout((TOKEN_LIFE_S + 1) * 1000);
    // The first ID token has expired: the API refuses it, while the app refreshes and carries on.
    expect(await statusesWith(page, first?.idToken ?? '', ['/v1/me'])).toEqual([401]);
    await page.goto(`${server.url}/#/tenants/acme`);
    await page.waitForSelector('#tenant-title');
    const second = await storedTokens(page);
    expect(second?.idToken).not.toBe(first?.idToken);

    // Without a refresh token (lapsed or revoked), an expired session returns to the sign-in page.
    await page.evaluate(() => {
      const t = JSON.parse(
        (globalThis as unknown as { sessionStorage: PageStorage }).sessionStorage.getItem('sesflow.tokens') ?? '{}',
      );
      (globalThis as unknown as { sessionStorage: PageStorage }).sessionStorage.setItem(
        'sesflow.tokens',
        JSON.stringify({ ...t, refreshToken: null }),
      );
    });
    await page.waitForTimeout((TOKEN_LIFE_S + 1) * 1000);
    await page.goto(`${server.url}/#/tenants/globex`);
    await page.waitForSelector('#sign-in');
    expect(await page.textContent('[role=alert]')).toBe('Your session has expired. Sign in again.');
    expect(await storedTokens(page)).toBeNull();
    await page.context().close();
  });

  it('signs out here and at the provider: back on the sign-in page, and the next sign-in asks for the password', async () => {
    const page = await newPage();
    await signIn(page, USERS.officer);
    await page.click('#sign-out');
    await page.waitForURL(`${server.url}/`);
    await page.waitForSelector('#sign-in');
    expect(await storedTokens(page)).toBeNull();
    await page.click('#sign-in');
    await page.waitForSelector('#username');
    expect(new URL(page.url()).origin).toBe(op.url);
    await page.context().close();
  });
});
