import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDashboardServer, startDashboardServer } from '../dashboards/server';
import { fakeEmailApiForTests, startFakeEmailApi } from '../send/api/fake-email-api.test-support';
import { MemoryTenantStore } from '../tenants/tenant-service';

// Rows 9, 10, 13 and 14 of the hostile-input probes, against both APIs' real node:http servers (what `npm start`
// runs): failed keys throttled per client address, a 413 that reaches the caller, a request without a valid key
// refused before its body is read, and HEAD on the API routes.

const COMPLIANCE = 'sfc_compliance_key_0123456789';
const EMAIL_KEY = 'sfk_acme_0123456789abcdef';
/** The default allowance of 20 failures, refilled too slowly to matter however long the test takes. */
const SLOW_REFILL = { capacity: 20, refillPerSecond: 0.001 };
let reports: RunningDashboardServer;
const email = fakeEmailApiForTests(EMAIL_KEY, SLOW_REFILL);
const tenants = new MemoryTenantStore();

beforeAll(async () => {
  reports = await startDashboardServer({
    port: 0,
    lakeDir: '',
    apiKeys: { [COMPLIANCE]: { keyId: 'key-compliance', role: 'compliance', tenantId: null } },
    tenants,
    reports: { reports: () => [], run: async () => ({ columns: [], rows: [] }) },
    live: { figures: async () => [{ tenantId: 'acme', sent24h: 10 } as never] },
    rateLimit: { capacity: 1000, refillPerSecond: 1000 },
    failedAuth: SLOW_REFILL,
  });
}, 60_000);

afterAll(async () => {
  await reports?.close();
});

/** A Reports API with a compliance key over an empty report engine (the rows under test need no data). */
function startReportsServer(): Promise<RunningDashboardServer> {
  return startDashboardServer({
    port: 0,
    lakeDir: '',
    apiKeys: { [COMPLIANCE]: { keyId: 'key-compliance', role: 'compliance', tenantId: null } },
    reports: { reports: () => [], run: async () => ({ columns: [], rows: [] }) },
    live: { figures: async () => [] },
  });
}

async function call(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('row 9: failed keys are throttled per client address', () => {
  for (const [api, path, init] of [
    ['Reports API', '/v1/me', {}],
    ['Email API', '/v1/messages', { method: 'POST', body: '{}' }],
  ] as const) {
    it(`${api}: 200 wrong keys, 20 in parallel: 401 until the allowance is spent, then 429 with Retry-After`, async () => {
      const base = api === 'Reports API' ? reports.url : email.url;
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let round = 0; round < 10; round++) {
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            call(`${base}${path}`, { ...init, headers: { 'x-api-key': `wrong-key-${round}-${i}` } }),
          ),
        );
        for (const a of answers) {
          statuses.push(a.status);
          expect(Object.keys(JSON.parse(a.text))).toEqual(['error']);
          if (a.status === 429) retryAfter = a.headers.get('retry-after');
        }
      }
      expect(statuses.filter((s) => s === 401).length).toBe(20);
      expect(statuses.filter((s) => s === 429).length).toBe(180);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      // While the address is blocked, even a valid key is refused unchecked: a guess tells nothing.
      const valid = await call(`${base}${path}`, {
        ...init,
        headers: { 'x-api-key': api === 'Reports API' ? COMPLIANCE : EMAIL_KEY },
      });
      expect(valid.status).toBe(429);
      expect(JSON.parse(valid.text).error).toBe('too many failed authentication attempts from this address');
    });
  }
});

/** A POST that sends its headers and a first part of its body, then waits for an answer before sending the rest. */
function answerBeforeBody(url: string, headers: Record<string, string>, total: number) {
  return new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(total) } });
    let sent = 0;
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => {
        body += String(c);
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, sent });
        req.destroy();
      });
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    req.write(chunk);
    sent += chunk.length;
    setTimeout(() => reject(new Error('no answer before the body was sent')), 5000).unref();
  });
}

describe('row 13: the key is checked before the body is read', () => {
  it('Email API: a 5 MiB POST without a valid key is answered 401 after its first 64 KiB', async () => {
    const fresh = await startFakeEmailApi(EMAIL_KEY);
    try {
      const a = await answerBeforeBody(`${fresh.url}/v1/batches`, {}, 5 * 1024 * 1024);
      expect(a).toMatchObject({ status: 401, sent: 64 * 1024 });
      expect(JSON.parse(a.body)).toEqual({ error: 'an x-api-key header is required' });
    } finally {
      await fresh.close();
    }
  });

  it('Reports API: a POST without a key is answered 401 before its body', async () => {
    const fresh = await startReportsServer();
    try {
      const a = await answerBeforeBody(`${fresh.url}/v1/tenants/acme/pause`, {}, 2 * 1024 * 1024);
      expect(a.status).toBe(401);
      expect(JSON.parse(a.body).error).toMatch(/^missing or invalid credentials/);
    } finally {
      await fresh.close();
    }
  });
});

describe('row 10: an over-limit body gets its 413 with one line', () => {
  for (const size of [20 * 1024, 2 * 1024 * 1024]) {
    it(`POST /v1/tenants/acme/pause with ${size / 1024} KiB`, async () => {
      const fresh = await startReportsServer();
      try {
        const res = await call(`${fresh.url}/v1/tenants/acme/pause`, {
          method: 'POST',
          headers: { 'x-api-key': COMPLIANCE, 'content-type': 'application/json' },
          body: JSON.stringify({ reason: 'x'.repeat(size) }),
        });
        expect(res.status).toBe(413);
        expect(JSON.parse(res.text)).toEqual({ error: 'the body is over 16 KiB' });
      } finally {
        await fresh.close();
      }
    });
  }
});

describe('row 14: HEAD on the API routes answers as GET without a body', () => {
  it('Reports API', async () => {
    const fresh = await startReportsServer();
    try {
      for (const path of ['/v1/me', '/v1/tenants', '/v1/reports', '/v1/health']) {
        const get = await call(`${fresh.url}${path}`, { headers: { 'x-api-key': COMPLIANCE } });
        const head = await call(`${fresh.url}${path}`, { method: 'HEAD', headers: { 'x-api-key': COMPLIANCE } });
        expect(get.status).toBe(200);
        expect(head.status).toBe(200);
        expect(head.text).toBe('');
        expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
      }
      const noKey = await call(`${fresh.url}/v1/me`, { method: 'HEAD' });
      expect(noKey.status).toBe(401);
    } finally {
      await fresh.close();
    }
  });
});

describe('a request target that starts with // (found by the fuzz test: it was read as another host, 500)', () => {
  it('is a path like any other: 401 without a valid key, on both APIs', async () => {
    for (const base of [reports.url, email.url]) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${base}/`, { method: 'HEAD', path: "//%F3%A5%B6%9C/'/" }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect([401, 404, 429]).toContain(status);
    }
  });
});
