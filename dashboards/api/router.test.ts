import { describe, expect, it } from 'vitest';
import { TokenBucketLimiter } from '../../lib/http/token-bucket';
import { MemoryTenantStore } from '../../tenants/tenant-service';
import { createApiKeyAuthenticator, memoryApiKeyLookup } from '../adapters/api-key-authenticator';
import { createCognitoAuthenticator } from '../adapters/cognito-authenticator';
import { toCsv } from './csv';
import type { LiveFigures, ReportEngine, ReportParams, TenantFigures, TenantStatus } from './ports';
import { DEFAULT_THRESHOLDS, rankTenants } from './risk';
import { type ApiRequest, createRouter, type RequestLog } from './router';

const NOW = new Date('2026-05-10T12:00:00Z');

const KEYS = {
  'key-compliance': { keyId: 'k-comp', role: 'compliance', tenantId: null },
  'key-acme': { keyId: 'k-acme', role: 'client', tenantId: 'acme' },
  'key-globex': { keyId: 'k-globex', role: 'client', tenantId: 'globex' },
  'key-service': { keyId: 'k-svc', role: 'service', tenantId: null },
} as const;

function status(tenantId: string, state: TenantStatus['state'] = 'active'): TenantStatus {
  return { tenantId, state, since: null, evidence: null, awsVerdict: null };
}

function figures(tenantId: string, bounceRate7d: number, complaintRate7d = 0): TenantFigures {
  return {
    tenantId,
    sent24h: 100,
    sent7d: 1000,
    delivered7d: 990,
    hardBounces7d: Math.round(bounceRate7d * 1000),
    complaints7d: 0,
    bounceRate7d,
    complaintRate7d,
    hourly: [],
  };
}

function setup(opts: { capacity?: number; rows?: Record<string, unknown>[]; failWith?: Error } = {}) {
  const calls: { name: string; params: ReportParams }[] = [];
  const reports: ReportEngine = {
    reports: () => [
      { name: 'tenant-summary', description: 'summary', requires: [] },
      { name: 'message-timeline', description: 'timeline', requires: ['message_id'] },
    ],
    async run(name, params) {
      calls.push({ name, params });
      if (opts.failWith) throw opts.failWith;
      const rows = opts.rows ?? [{ tenant_id: params.tenant ?? 'all', sent: 3 }];
      return { columns: Object.keys(rows[0] ?? { tenant_id: 1 }), rows };
    },
  };
  const live: LiveFigures = {
    figures: async () => [figures('acme', 0.01), figures('globex', 0.03), figures('umbrella', 0.05)],
  };
  const tenants = new MemoryTenantStore([status('acme'), status('globex', 'warning'), status('umbrella')]);
  const logs: RequestLog[] = [];
  let now = NOW;
  const handle = createRouter({
    auth: createApiKeyAuthenticator(memoryApiKeyLookup(KEYS)),
    reports,
    live,
    tenants,
    limiter: new TokenBucketLimiter(opts.capacity ?? 100, 1),
    thresholds: DEFAULT_THRESHOLDS,
    now: () => now,
    log: (l) => logs.push(l),
  });
  const call = (
    path: string,
    key: string | null,
    init: { method?: string; query?: Record<string, string | string[]>; body?: unknown; accept?: string } = {},
  ) => {
    const req: ApiRequest = {
      method: init.method ?? 'GET',
      path,
      query: init.query ?? {},
      headers: { ...(key ? { 'x-api-key': key } : {}), ...(init.accept ? { accept: init.accept } : {}) },
      body: init.body === undefined ? null : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    };
    return handle(req);
  };
  return { call, calls, tenants, logs, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

const body = (res: { body: string }) => JSON.parse(res.body);

describe('authentication', () => {
  it('answers 401 with a one-line reason when the key is missing or unknown', async () => {
    const { call } = setup();
    for (const key of [null, 'nope', '']) {
      const res = await call('/v1/tenants', key);
      expect(res.status).toBe(401);
      expect(body(res).error).toMatch(/credentials/);
    }
  });

  it('lets the health check through without a key', async () => {
    const { call } = setup();
    expect((await call('/v1/health', null)).status).toBe(200);
  });

  it('logs ids only: never the API key itself', async () => {
    const { call, logs } = setup();
    await call('/v1/reports/tenant-summary', 'key-acme');
    expect(logs[0]).toMatchObject({ principal: 'k-acme', role: 'client', tenant: 'acme', status: 200 });
    expect(JSON.stringify(logs)).not.toContain('key-acme');
  });
});

describe('tenant scoping', () => {
  it('forces a client key onto its own tenant when it names none', async () => {
    const { call, calls } = setup();
    const res = await call('/v1/reports/tenant-summary', 'key-acme');
    expect(res.status).toBe(200);
    expect(calls[0]?.params.tenant).toBe('acme');
    expect(body(res).tenant).toBe('acme');
  });

  it('refuses a client key naming another tenant with 403, without running the report', async () => {
    const { call, calls } = setup();
    const res = await call('/v1/reports/tenant-summary', 'key-acme', { query: { tenant: 'globex' } });
    expect(res.status).toBe(403);
    expect(calls).toHaveLength(0);
  });

  it('refuses another tenant page and audit trail to a client key', async () => {
    const { call } = setup();
    expect((await call('/v1/tenants/globex', 'key-acme')).status).toBe(403);
    expect((await call('/v1/tenants/globex/audit', 'key-acme')).status).toBe(403);
    expect((await call('/v1/tenants/acme', 'key-acme')).status).toBe(200);
  });

  it('shows a client only its own tenant in the list; compliance sees all, ranked by risk', async () => {
    const { call } = setup();
    const mine = body(await call('/v1/tenants', 'key-acme'));
    expect(mine.tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(['acme']);
    const all = body(await call('/v1/tenants', 'key-compliance'));
    // globex is warned (state first), then umbrella (5 % bounce, over the 4 % pause line), then acme.
    expect(all.tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(['globex', 'umbrella', 'acme']);
  });

  it('lets compliance run a report over every tenant or over one', async () => {
    const { call, calls } = setup();
    await call('/v1/reports/tenant-summary', 'key-compliance');
    await call('/v1/reports/tenant-summary', 'key-compliance', { query: { tenant: 'globex' } });
    expect(calls.map((c) => c.params.tenant)).toEqual([null, 'globex']);
  });
});

describe('validation', () => {
  const bad: [string, Record<string, string | string[]>][] = [
    ['SQL in tenant', { tenant: "acme' OR '1'='1" }],
    ['SQL in from', { from: "2026-01-01'; DROP TABLE events; --" }],
    ['SQL in to', { to: '2026-01-01 OR 1=1' }],
    ['SQL in limit', { limit: '10; DELETE FROM events' }],
    ['SQL in message_id', { message_id: "x' UNION SELECT * FROM events --" }],
    ['an unknown parameter', { sql: 'SELECT 1' }],
    ['a repeated parameter', { tenant: ['acme', 'globex'] }],
    ['from after to', { from: '2026-05-02', to: '2026-05-01' }],
    ['a range over a year', { from: '2024-01-01', to: '2026-01-01' }],
    ['a zero limit', { limit: '0' }],
    ['an unknown format', { format: 'xml' }],
  ];
  for (const [what, query] of bad) {
    it(`answers 400 with one line for ${what}, without running anything`, async () => {
      const { call, calls } = setup();
      const res = await call('/v1/reports/tenant-summary', 'key-compliance', { query });
      expect(res.status).toBe(400);
      expect(body(res).error).not.toMatch(/\n|at .*\.ts/);
      expect(calls).toHaveLength(0);
    });
  }

  it('answers 400 for an unknown report and for a report missing its message id', async () => {
    const { call } = setup();
    expect((await call('/v1/reports/drop-table', 'key-compliance')).status).toBe(400);
    expect((await call("/v1/reports/x'%3B--", 'key-compliance')).status).toBe(400);
    expect((await call('/v1/reports/message-timeline', 'key-compliance')).status).toBe(400);
  });

  it('passes validated times (from inclusive, to exclusive) and the limit to the engine', async () => {
    const { call, calls } = setup();
    await call('/v1/reports/tenant-summary', 'key-compliance', {
      query: { from: '2026-05-01', to: '2026-05-03T06:30:00Z', limit: '50' },
    });
    expect(calls[0]?.params).toMatchObject({
      from: Date.parse('2026-05-01T00:00:00Z'),
      to: Date.parse('2026-05-03T06:30:00Z'),
      limit: 50,
    });
  });

  it('answers 404 for an unknown route and for a tenant it does not know', async () => {
    const { call } = setup();
    expect((await call('/v2/anything', 'key-compliance')).status).toBe(404);
    expect((await call('/v1/tenants/nobody', 'key-compliance')).status).toBe(404);
    const pause = await call('/v1/tenants/nobody/pause', 'key-compliance', {
      method: 'POST',
      body: { reason: 'who?' },
    });
    expect(pause.status).toBe(404);
  });

  it('never shows an unexpected error: 500 with "internal error" only', async () => {
    const { call } = setup({ failWith: new Error('Binder Error at /srv/secret/path.ts:12') });
    const res = await call('/v1/reports/tenant-summary', 'key-compliance');
    expect(res.status).toBe(500);
    expect(res.body).toBe('{"error":"internal error"}');
  });
});

describe('pause and resume', () => {
  it('lets only compliance pause, and only with a reason', async () => {
    const { call } = setup();
    expect(
      (await call('/v1/tenants/acme/pause', 'key-acme', { method: 'POST', body: { reason: 'spam' } })).status,
    ).toBe(403);
    expect(
      (await call('/v1/tenants/acme/pause', 'key-service', { method: 'POST', body: { reason: 'spam' } })).status,
    ).toBe(403);
    expect((await call('/v1/tenants/acme/pause', 'key-compliance', { method: 'POST', body: {} })).status).toBe(400);
    expect(
      (await call('/v1/tenants/acme/pause', 'key-compliance', { method: 'POST', body: { reason: ' ' } })).status,
    ).toBe(400);
    expect((await call('/v1/tenants/acme/pause', 'key-compliance', { method: 'POST', body: 'not json' })).status).toBe(
      400,
    );
  });

  it('keeps the officer note from the tenant: the client sees the reason meant for it, never the note', async () => {
    const { call } = setup();
    await call('/v1/tenants/acme/pause', 'key-compliance', {
      method: 'POST',
      body: { reason: 'internal: flagged by the abuse desk', tenantReason: 'bounce rate under review' },
    });
    const officer = body(await call('/v1/tenants/acme/audit', 'key-compliance')).audit[0];
    expect(officer).toMatchObject({ note: 'internal: flagged by the abuse desk', reason: 'bounce rate under review' });
    const res = await call('/v1/tenants/acme/audit', 'key-acme');
    expect(res.status).toBe(200);
    expect(res.body).not.toContain('abuse desk');
    expect(body(res).audit[0].reason).toBe('bounce rate under review');
  });

  it('answers each tenant with its own policy thresholds and ranks by them', async () => {
    const { call } = setup();
    const list = body(await call('/v1/tenants', 'key-compliance'));
    expect(list.thresholds).toMatchObject({ policy: 'standard', bouncePause: 0.05, complaintPause: 0.001 });
    expect(list.tenants.find((t: { tenantId: string }) => t.tenantId === 'acme').thresholds.bouncePause).toBe(0.05);
  });

  it('pauses, refuses a second pause with 409, resumes, and audits both with actor and reason', async () => {
    const { call } = setup();
    const paused = await call('/v1/tenants/acme/pause', 'key-compliance', {
      method: 'POST',
      body: { reason: 'complaints from a purchased list' },
    });
    expect(paused.status).toBe(200);
    expect(body(paused).state).toBe('paused');
    expect(
      (await call('/v1/tenants/acme/pause', 'key-compliance', { method: 'POST', body: { reason: 'again' } })).status,
    ).toBe(409);
    const resumed = await call('/v1/tenants/acme/resume', 'key-compliance', {
      method: 'POST',
      body: { reason: 'list cleaned' },
    });
    expect(body(resumed).state).toBe('active');
    const audit = body(await call('/v1/tenants/acme/audit', 'key-compliance')).audit;
    expect(audit.map((a: { action: string; note: string; actor: string }) => [a.action, a.note, a.actor])).toEqual([
      ['resume', 'list cleaned', 'k-comp'],
      ['pause', 'complaints from a purchased list', 'k-comp'],
    ]);
  });
});

describe('CSV export', () => {
  const rows = [
    { recipient: 'a@example.com', reason: 'smtp; 550 5.1.1 "user", unknown\r\nline 2', n: 3 },
    { recipient: '=HYPERLINK("http://evil")', reason: null, n: -1 },
  ];

  it('answers text/csv with a download name for Accept: text/csv and for format=csv', async () => {
    const { call } = setup({ rows });
    for (const res of [
      await call('/v1/reports/tenant-summary', 'key-acme', { accept: 'text/csv' }),
      await call('/v1/reports/tenant-summary', 'key-acme', {
        query: { format: 'csv', from: '2026-05-01', to: '2026-05-08' },
      }),
    ]) {
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="tenant-summary_acme_.*\.csv"$/);
    }
  });

  it('quotes commas, quotes and line breaks, and defuses spreadsheet formulas', () => {
    expect(toCsv(['recipient', 'reason', 'n'], rows)).toBe(
      'recipient,reason,n\r\n' +
        'a@example.com,"smtp; 550 5.1.1 ""user"", unknown\r\nline 2",3\r\n' +
        `"'=HYPERLINK(""http://evil"")",,-1\r\n`,
    );
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once a key spends its bucket, per key, and refills with time', async () => {
    const { call, advance } = setup({ capacity: 3 });
    for (let i = 0; i < 3; i++) expect((await call('/v1/me', 'key-acme')).status).toBe(200);
    const limited = await call('/v1/me', 'key-acme');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect((await call('/v1/me', 'key-globex')).status).toBe(200);
    advance(1_000);
    expect((await call('/v1/me', 'key-acme')).status).toBe(200);
  });
});

describe('risk ranking', () => {
  it('puts paused tenants first, then warned, then by the worse rate relative to its pause line', () => {
    const ranked = rankTenants(
      [status('a'), status('b', 'paused'), status('c'), status('d', 'warning')],
      [figures('a', 0.001, 0.0025), figures('b', 0), figures('c', 0.03), figures('d', 0.001)],
      DEFAULT_THRESHOLDS,
    );
    expect(ranked.map((r) => r.tenantId)).toEqual(['b', 'd', 'a', 'c']);
  });
});

describe('Cognito authenticator', () => {
  const verifier = {
    async verify(token: string) {
      if (token === 'good.compliance.jwt') return { sub: 'u1', 'cognito:groups': ['compliance'] };
      if (token === 'good.client.jwt') return { sub: 'u2', 'cognito:groups': ['client'], 'custom:tenant': 'acme' };
      if (token === 'good.orphan.jwt') return { sub: 'u3', 'cognito:groups': ['client'] };
      if (token === 'good.nobody.jwt') return { sub: 'u4', 'custom:tenant': 'acme' };
      throw new Error('Invalid signature');
    },
  };
  const auth = createCognitoAuthenticator(verifier);

  it('takes the role from the group claim and a client tenant from its claim', async () => {
    expect(await auth.authenticate({ authorization: 'Bearer good.compliance.jwt' })).toEqual({
      id: 'user:u1',
      role: 'compliance',
      tenantId: null,
    });
    expect(await auth.authenticate({ authorization: 'Bearer good.client.jwt' })).toMatchObject({ tenantId: 'acme' });
  });

  it('refuses a token that does not verify and a missing header (401: null)', async () => {
    expect(await auth.authenticate({ authorization: 'Bearer forged.token.jwt' })).toBeNull();
    expect(await auth.authenticate({})).toBeNull();
  });

  it('forbids a verified token with no role, and a client token with no tenant (403)', async () => {
    await expect(auth.authenticate({ authorization: 'Bearer good.orphan.jwt' })).rejects.toThrow(
      expect.objectContaining({ status: 403, message: 'this user has no tenant: ask an administrator' }),
    );
    await expect(auth.authenticate({ authorization: 'Bearer good.nobody.jwt' })).rejects.toThrow(
      expect.objectContaining({ status: 403, message: 'this user has no role: ask an administrator' }),
    );
  });
});

describe('report query defaults', () => {
  it('ends at the end of the current minute, so repeated requests within a minute bind the same parameters', async () => {
    const { parseReportQuery } = await import('./params');
    const a = parseReportQuery({}, new Date('2026-11-25T10:15:03.120Z'));
    const b = parseReportQuery({}, new Date('2026-11-25T10:15:59.999Z'));
    expect(a).toEqual(b);
    expect(new Date(a.to).toISOString()).toBe('2026-11-25T10:16:00.000Z');
    expect(a.to - a.from).toBe(7 * 86_400_000);
  });
});
