import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryTenantStore } from '../tenants/tenant-service';
import { type RunningDashboardServer, startDashboardServer } from './server';
import { buildTestLake, type TestLake } from './test-lake';

const KEYS = {
  'sec-compliance-key': { keyId: 'k-comp', role: 'compliance', tenantId: null },
  'sec-acme-key': { keyId: 'k-acme', role: 'client', tenantId: 'acme' },
  'sec-globex-key': { keyId: 'k-globex', role: 'client', tenantId: 'globex' },
} as const;

const REPORTS = [
  'tenant-summary',
  'daily-timeseries',
  'campaign-report',
  'domain-deliverability',
  'bounce-breakdown',
  'complaint-breakdown',
  'bounced-recipients',
] as const;

/** Classic injection payloads, sent in every parameter. */
const PAYLOADS = [
  "' OR '1'='1",
  "acme' OR tenant_id <> 'acme' --",
  "acme'; DROP TABLE events; --",
  '1; DELETE FROM events',
  "x' UNION SELECT * FROM events_raw --",
  "2026-01-01' OR 1=1 --",
  '%27%20OR%201%3D1',
  '../../etc/passwd',
];

let lake: TestLake;
let server: RunningDashboardServer;
let limited: RunningDashboardServer;
const from = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
const to = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

async function get(base: string, path: string, key: string | null, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, { headers: { ...(key ? { 'x-api-key': key } : {}), ...headers } });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function summary(key: string) {
  const r = await get(server.url, `/v1/reports/tenant-summary?from=${from}&to=${to}`, key);
  expect(r.status).toBe(200);
  return r.text.replace(/"from":"[^"]*","to":"[^"]*",/, '');
}

beforeAll(async () => {
  lake = buildTestLake({ messages: 1500, start: new Date(Date.now() - 30 * 3_600_000) });
  const tenants = new MemoryTenantStore(
    ['acme', 'globex', 'initech', 'umbrella', 'hooli'].map((tenantId) => ({
      tenantId,
      state: 'active' as const,
      since: null,
      evidence: null,
      awsVerdict: null,
    })),
  );
  server = await startDashboardServer({
    port: 0,
    lakeDir: lake.dir,
    apiKeys: KEYS,
    tenants,
    rateLimit: { capacity: 10_000, refillPerSecond: 1_000 },
  });
  limited = await startDashboardServer({
    port: 0,
    lakeDir: lake.dir,
    apiKeys: KEYS,
    rateLimit: { capacity: 5, refillPerSecond: 0.01 },
  });
});

afterAll(async () => {
  await server?.close();
  await limited?.close();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

describe('authentication and tenant isolation over HTTP', () => {
  it('answers 401 to a missing or wrong key on every API route, with a one-line JSON reason', async () => {
    for (const path of [
      '/v1/tenants',
      '/v1/tenants/acme',
      '/v1/tenants/acme/audit',
      '/v1/reports/tenant-summary',
      '/v1/me',
    ]) {
      for (const key of [null, 'wrong-key', "' OR '1'='1"]) {
        const r = await get(server.url, path, key);
        expect(r.status).toBe(401);
        expect(JSON.parse(r.text)).toEqual({ error: 'missing or invalid credentials (x-api-key)' });
      }
    }
    const post = await fetch(`${server.url}/v1/tenants/acme/pause`, { method: 'POST', body: '{"reason":"x"}' });
    expect(post.status).toBe(401);
  });

  it("answers 403 when a client key asks for another tenant's report, page or audit trail", async () => {
    for (const path of [
      `/v1/reports/tenant-summary?tenant=globex`,
      `/v1/reports/bounced-recipients?tenant=globex&format=csv`,
      '/v1/tenants/globex',
      '/v1/tenants/globex/audit',
    ]) {
      const r = await get(server.url, path, 'sec-acme-key');
      expect(r.status).toBe(403);
      expect(r.text).not.toContain('globex-example');
    }
  });

  it("gives a client key only its own tenant's rows in every report, JSON and CSV", async () => {
    for (const name of REPORTS) {
      const r = await get(server.url, `/v1/reports/${name}?from=${from}&to=${to}`, 'sec-acme-key');
      expect(r.status).toBe(200);
      const body = JSON.parse(r.text);
      expect(body.tenant).toBe('acme');
      for (const row of body.rows) if ('tenant_id' in row) expect(row.tenant_id).toBe('acme');
      expect(r.text).not.toMatch(/globex|initech|umbrella|hooli/);
      const csv = await get(server.url, `/v1/reports/${name}?from=${from}&to=${to}`, 'sec-acme-key', {
        accept: 'text/csv',
      });
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(csv.text).not.toMatch(/globex|initech|umbrella|hooli/);
    }
    // The same reports over every tenant do hold the other tenants: the filter above is what hides them.
    const all = await get(server.url, `/v1/reports/tenant-summary?from=${from}&to=${to}`, 'sec-compliance-key');
    expect(all.text).toMatch(/globex/);
  });
});

describe('SQL injection attempts', () => {
  it('answers 400 (or 403 for a client naming another tenant) to an injection in every parameter and leaves the data unchanged', async () => {
    const before = await summary('sec-compliance-key');
    const acmeBefore = await summary('sec-acme-key');
    const seen = new Set<number>();
    for (const p of PAYLOADS) {
      const v = encodeURIComponent(p);
      const attempts = [
        `/v1/reports/tenant-summary?tenant=${v}`,
        `/v1/reports/tenant-summary?from=${v}`,
        `/v1/reports/tenant-summary?to=${v}`,
        `/v1/reports/bounced-recipients?limit=${v}`,
        `/v1/reports/message-timeline?message_id=${v}`,
        `/v1/reports/tenant-summary?format=${v}`,
        `/v1/reports/tenant-summary?${v}=1`,
        `/v1/reports/${v}`,
        `/v1/tenants/${v}`,
        `/v1/tenants/${v}/audit`,
      ];
      for (const path of attempts) {
        for (const key of ['sec-compliance-key', 'sec-acme-key']) {
          const r = await get(server.url, path, key);
          seen.add(r.status);
          // 404 only where the payload made the path longer than a route (a `/` inside it).
          expect([400, 403, 404]).toContain(r.status);
          expect(r.text).not.toMatch(/globex-example|Error:|\bat .+\.ts/);
          expect(Object.keys(JSON.parse(r.text))).toEqual(['error']);
        }
      }
    }
    expect(seen.has(400)).toBe(true);
    expect(await summary('sec-compliance-key')).toBe(before);
    expect(await summary('sec-acme-key')).toBe(acmeBefore);
  });

  it('treats a well-formed but unknown value as a value: no rows, no error', async () => {
    const r = await get(server.url, '/v1/reports/message-timeline?message_id=0100-OR-1-1', 'sec-compliance-key');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).rows).toEqual([]);
    const t = await get(
      server.url,
      `/v1/reports/tenant-summary?tenant=acme--&from=${from}&to=${to}`,
      'sec-compliance-key',
    );
    expect(JSON.parse(t.text).rows).toEqual([]);
  });

  it('refuses a pause with an injected reason from a client key (403) and a bad body (400)', async () => {
    const client = await fetch(`${server.url}/v1/tenants/acme/pause`, {
      method: 'POST',
      headers: { 'x-api-key': 'sec-acme-key', 'content-type': 'application/json' },
      body: JSON.stringify({ reason: "x'); DROP TABLE tenants; --" }),
    });
    expect(client.status).toBe(403);
    const bad = await fetch(`${server.url}/v1/tenants/acme/pause`, {
      method: 'POST',
      headers: { 'x-api-key': 'sec-compliance-key' },
      body: '{"reason":',
    });
    expect(bad.status).toBe(400);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After to a key over its bucket while another key is still served', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await get(limited.url, '/v1/me', 'sec-acme-key')).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    const r = await get(limited.url, '/v1/me', 'sec-acme-key');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await get(limited.url, '/v1/me', 'sec-globex-key')).status).toBe(200);
  });
});
