import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTableInput } from '../lib/table-design';
import { createLocalClients, type LocalClients } from '../local/stack/clients';
import { startDynamoDbLocal } from '../local/stack/dynamodb-local';
import type { RunningStandIn } from '../local/stack/stand-in';
import { STANDARD_POLICY, STRICT_POLICY } from '../tenants/policy';
import { DynamoDbTenantStore, MemoryTenantStore } from '../tenants/tenant-service';
import type { TenantStatus } from './api/ports';
import { DEFAULT_THRESHOLDS } from './api/risk';
import { hasChromium, launchChromiumContext } from './chromium.test-support';
import { type RunningDashboardServer, startDashboardServer } from './server';
import { openSignedIn } from './sign-in.test-support';
import { buildTestLake, type TestLake, XSS_SUBJECT } from './test-lake';

const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'screenshots');

const KEYS = {
  'e2e-compliance-key': { keyId: 'k-officer', role: 'compliance', tenantId: null },
  'e2e-acme-key': { keyId: 'k-acme', role: 'client', tenantId: 'acme' },
} as const;

/** What the reputation engine would have recorded for the bad sender. */
function seededStatuses(now: number): TenantStatus[] {
  const iso = (ms: number) => new Date(ms).toISOString();
  const plain = (tenantId: string, awsVerdict: string | null = 'HEALTHY'): TenantStatus => ({
    tenantId,
    state: 'active',
    since: null,
    evidence: null,
    awsVerdict,
  });
  return [
    plain('acme'),
    plain('globex'),
    { ...plain('initech', null), policy: 'strict' },
    plain('hooli'),
    {
      tenantId: 'umbrella',
      state: 'warning',
      since: iso(now - 2 * 3_600_000),
      awsVerdict: 'HEALTHY',
      evidence: {
        decidedAt: iso(now - 2 * 3_600_000),
        window: { from: iso(now - 26 * 3_600_000), to: iso(now - 2 * 3_600_000) },
        counts: { sent: 310, delivered: 281, hardBounces: 25, complaints: 0 },
        rates: { bounce: 25 / 310, complaint: 0 },
        lowerBounds: { bounce: 0.0553, complaint: 0 },
        thresholds: DEFAULT_THRESHOLDS,
        kind: 'automatic',
        topDomains: [
          { name: 'gmail.com', count: 9 },
          { name: 'yahoo.com', count: 6 },
        ],
        topCampaigns: [{ name: 'weekly-digest', count: 11 }],
        topDiagnosticCodes: [{ name: 'smtp; 550 5.1.1 user unknown', count: 14 }],
        summary: 'Hard bounce rate 8.06 % (lower bound 5.53 %) over 310 sends, above the 5.00 % pause line',
      },
    },
  ];
}

/** A rate as the UI writes it. */
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

/** DynamoDB Local needs Java; without it the tenant state lives in memory (and the test name says so). */
const hasJava = !spawnSync('java', ['-version'], { stdio: 'ignore' }).error;
const STORE = hasJava ? 'DynamoDB Local' : 'the in-memory store (no Java for DynamoDB Local)';
let ddb: RunningStandIn | undefined;
let clients: LocalClients | undefined;
let lake: TestLake;
let server: RunningDashboardServer;
let context: BrowserContext;

beforeAll(async () => {
  if (!hasChromium) return;
  // DynamoDB Local boots (a Java process) while the lake is built.
  const ddbStarting = hasJava ? startDynamoDbLocal() : null;
  lake = buildTestLake({ messages: 1500, start: new Date(Date.now() - 30 * 3_600_000) });
  const statuses = seededStatuses(Date.now());
  let tenants: MemoryTenantStore | DynamoDbTenantStore = new MemoryTenantStore(statuses);
  if (ddbStarting) {
    ddb = await ddbStarting;
    clients = createLocalClients({ dynamodb: ddb.endpoint });
    await clients.dynamodb!.send(new CreateTableCommand(createTableInput('sesflow-e2e')));
    const store = new DynamoDbTenantStore(clients.documentClient!, 'sesflow-e2e');
    for (const st of statuses) await store.putStatus(st);
    tenants = store;
  }
  server = await startDashboardServer({
    port: 0,
    lakeDir: lake.dir,
    apiKeys: KEYS,
    tenants,
    // A failed request fails the file (the contract check refuses an undocumented 500): say which and why.
    log: (e) => {
      if (e.status >= 500) process.stderr.write(`dashboard request failed: ${JSON.stringify(e)}\n`);
    },
  });
  context = await launchChromiumContext({
    viewport: { width: 1360, height: 900 },
    acceptDownloads: true,
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  clients?.destroy();
  await ddb?.stop();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('web UI in Chromium', () => {
  it('compliance view: tenants ranked by risk with real figures, the tenant page with charts, evidence and audit', async () => {
    const page = await openSignedIn(context, server.url, 'e2e-compliance-key', '#tenant-table tbody tr');
    const ids = await page.$$eval('#tenant-table tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-tenant')));
    expect(ids[0]).toBe('umbrella');
    expect([...ids].sort()).toEqual(['acme', 'globex', 'hooli', 'initech', 'umbrella']);
    const first = await page.$$eval('#tenant-table tbody tr:first-child td', (tds) => tds.map((td) => td.textContent));
    expect(first[1]).toBe('warning');
    expect(Number(first[4]?.replaceAll(',', ''))).toBeGreaterThan(100);
    // The pause line is the engine's (the standard policy's Wilson lower bound threshold), not a copy.
    expect(first[5]).toMatch(new RegExp(`^\\d+\\.\\d{2} %/ ${pct(STANDARD_POLICY.bounce.pauseLowerBound)}$`));
    expect(await page.$$eval('#tenant-table svg polyline', (p) => p.length)).toBe(5);
    await page.screenshot({ path: join(SCREENSHOTS, 'compliance-tenants.png'), fullPage: true });

    await page.click('#tenant-table tbody tr[data-tenant="umbrella"] a');
    await page.waitForSelector('#evidence');
    expect(await page.textContent('#evidence')).toContain('smtp; 550 5.1.1 user unknown');
    // Two charts, each with its rate line and two threshold lines (warning and pause).
    expect(await page.$$eval('svg.chart', (s) => s.length)).toBe(2);
    expect(await page.$$eval('svg.chart line[stroke-dasharray]', (l) => l.length)).toBe(4);
    expect(await page.$$eval('svg.chart polyline', (p) => p.length)).toBe(2);
    await page.screenshot({ path: join(SCREENSHOTS, 'compliance-tenant.png'), fullPage: true });
    await page.close();
  });

  it(`pause and resume from the UI need a reason, change the state and are audited (tenant state in ${STORE})`, async () => {
    const page = await openSignedIn(context, server.url, 'e2e-compliance-key', '#state-form', '#/tenants/globex');
    expect(await page.textContent('#state-action')).toBe('Pause sending');
    // An empty reason is refused before any request: the state stays.
    await page.click('#state-action');
    expect(await page.getAttribute('#tenant-title .badge', 'data-state')).toBe('active');

    await page.fill('#reason', 'Spam trap hits reported by Spamhaus');
    await page.click('#state-action');
    await page.waitForSelector('#tenant-title .badge[data-state="paused"]');
    expect(await page.textContent('#audit-table')).toContain('Spam trap hits reported by Spamhaus');
    const api = await page.evaluate(async (key) => {
      const r = await fetch('/v1/tenants/globex', { headers: { 'x-api-key': key } });
      return ((await r.json()) as { state: string }).state;
    }, 'e2e-compliance-key');
    expect(api).toBe('paused');

    expect(await page.textContent('#state-action')).toBe('Resume sending');
    await page.fill('#reason', 'List cleaned, double opt-in enabled');
    await page.click('#state-action');
    await page.waitForSelector('#tenant-title .badge[data-state="active"]');
    const audit = await page.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
    expect(audit).toHaveLength(2);
    expect(audit[0]).toContain('resume');
    expect(audit[0]).toContain('k-officer');
    await page.close();
  });

  it('compliance view shows the thresholds the engine applies, for a standard and a strict tenant', async () => {
    const page = await openSignedIn(context, server.url, 'e2e-compliance-key', '#tenant-table tbody tr');
    const cells = async (tenant: string) =>
      page.$$eval(`#tenant-table tbody tr[data-tenant="${tenant}"] td`, (tds) => tds.map((td) => td.textContent));
    const standard = await cells('acme');
    const strict = await cells('initech');
    expect(standard[5]).toContain(`/ ${pct(STANDARD_POLICY.bounce.pauseLowerBound)}`);
    expect(standard[6]).toContain(`/ ${pct(STANDARD_POLICY.complaint.pauseLowerBound)}`);
    expect(strict[5]).toContain(`/ ${pct(STRICT_POLICY.bounce.pauseLowerBound)}`);
    expect(strict[6]).toContain(`/ ${pct(STRICT_POLICY.complaint.pauseLowerBound)}`);

    await page.goto(`${server.url}/#/tenants/initech`);
    await page.waitForSelector('#tenant-policy');
    const policy = await page.textContent('#tenant-policy');
    expect(policy).toContain('strict');
    expect(policy).toContain(`bounce ${pct(STRICT_POLICY.bounce.pauseLowerBound)}`);
    expect(policy).toContain(`complaint ${pct(STRICT_POLICY.complaint.pauseLowerBound)}`);
    const legends = await page.$$eval('.legend', (ls) => ls.map((l) => l.textContent));
    expect(legends[0]).toContain(`pause ${pct(STRICT_POLICY.bounce.pauseLowerBound)}`);
    expect(legends[0]).toContain(`warning ${pct(STRICT_POLICY.bounce.warningRate)}`);
    expect(legends[1]).toContain(`pause ${pct(STRICT_POLICY.complaint.pauseLowerBound)}`);
    await page.close();
  });

  it(`a manual pause keeps the engine's evidence and adds its own; the internal note stays internal (${STORE})`, async () => {
    const page = await openSignedIn(context, server.url, 'e2e-compliance-key', '#state-form', '#/tenants/umbrella');
    await page.fill('#reason', 'Internal: legal asked us to hold this sender');
    await page.click('#state-action');
    await page.waitForSelector('#tenant-title .badge[data-state="paused"]');
    await page.waitForSelector('#evidence-earlier');
    expect(await page.textContent('#evidence h2')).toBe('Evidence of the manual pause');
    expect(await page.textContent('#evidence')).toContain('paused by hand by k-officer');
    // The engine's decision is still there, with its figures.
    expect(await page.textContent('#evidence-earlier')).toContain('smtp; 550 5.1.1 user unknown');
    expect(await page.textContent('#audit-table')).toContain('Internal: legal asked us to hold this sender');
    // The tenant-visible side never carries the note.
    const seen = await page.evaluate(async () => {
      const r = await fetch('/v1/tenants/umbrella/audit', { headers: { 'x-api-key': 'e2e-compliance-key' } });
      return ((await r.json()) as { audit: { reason: string; note?: string }[] }).audit[0];
    });
    expect(seen?.note).toBe('Internal: legal asked us to hold this sender');
    expect(seen?.reason).not.toContain('legal');
    await page.close();
  });

  it('client view: its own report by day, campaign and domain, bounced addresses, and a subject with <script> shown as text', async () => {
    const page = await openSignedIn(context, server.url, 'e2e-acme-key', '#report-campaign-report table');
    expect(await page.textContent('#report-title')).toBe('acme · email report');
    expect(Number((await page.textContent('#summary .kpi .value'))?.replaceAll(',', ''))).toBeGreaterThan(100);
    expect(await page.$$eval('#report-daily-timeseries tbody tr', (r) => r.length)).toBeGreaterThan(0);
    expect(await page.$$eval('#report-domain-deliverability tbody tr', (r) => r.length)).toBeGreaterThan(0);
    expect(await page.$$eval('#report-bounced-recipients tbody tr', (r) => r.length)).toBeGreaterThan(0);

    const subjects = await page.$$eval('#report-campaign-report tbody td:nth-child(2)', (tds) =>
      tds.map((t) => t.textContent),
    );
    expect(subjects).toContain(XSS_SUBJECT);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.$$eval('#app script, #app img', (n) => n.length)).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'client-report.png'), fullPage: true });

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#report-bounced-recipients button.csv'),
    ]);
    expect(download.suggestedFilename()).toMatch(/^bounced-recipients_acme_.*\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe(
      'event_time,tenant_id,event_type,recipient,bounce_type,bounce_subtype,reason,campaign_id,message_id',
    );
    expect(csv).not.toMatch(/globex|umbrella/);
    await page.close();
  });

  it('a client key cannot see another tenant, in the UI or through the API', async () => {
    const page = await openSignedIn(context, server.url, 'e2e-acme-key', '#report-title', '#/tenants/globex');
    expect(await page.textContent('#report-title')).toBe('acme · email report');
    expect(await page.textContent('body')).not.toMatch(/globex|umbrella/);
    const statuses = await page.evaluate(async (key) => {
      const paths = ['/v1/tenants/globex', '/v1/reports/tenant-summary?tenant=globex', '/v1/tenants/globex/audit'];
      return Promise.all(paths.map(async (p) => (await fetch(p, { headers: { 'x-api-key': key } })).status));
    }, 'e2e-acme-key');
    expect(statuses).toEqual([403, 403, 403]);
    const list = await page.evaluate(async (key) => {
      const r = await fetch('/v1/tenants', { headers: { 'x-api-key': key } });
      return ((await r.json()) as { tenants: { tenantId: string }[] }).tenants.map((t) => t.tenantId);
    }, 'e2e-acme-key');
    expect(list).toEqual(['acme']);
    await page.close();
  });
});
