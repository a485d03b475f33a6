import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDashboardServer, startDashboardServer } from '../dashboards/server';
import { buildTestLake } from '../dashboards/test-lake';
import { fakeEmailApiForTests } from '../send/api/fake-email-api.test-support';
import { MemoryTenantStore } from '../tenants/tenant-service';

// Property-based fuzzing of both APIs' running servers (the Reports API over a real lake and DuckDB, the Email API's
// router and validation): random and mutated methods, paths, query strings, headers and bodies. Whatever comes in,
// the answer is a 2xx or a 4xx, every error is one line of JSON without a stack frame, nothing hangs, and the server
// still answers its health check afterwards. Bounded in runs and time; the seed is printed on failure
// (SESFLOW_FUZZ_SEED=<seed> replays a run).

const RUNS = Number(process.env.SESFLOW_FUZZ_RUNS ?? 1000);
const TIME_LIMIT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 10_000;
const SEED = Number(process.env.SESFLOW_FUZZ_SEED ?? Date.now() % 2 ** 31);

const REPORT_KEYS = {
  'fuzz-compliance-key': { keyId: 'k-comp', role: 'compliance', tenantId: null },
  'fuzz-acme-key': { keyId: 'k-acme', role: 'client', tenantId: 'acme' },
} as const;
const EMAIL_KEY = 'sfk_fuzz_acme_0123456789';

let reports: RunningDashboardServer;
const email = fakeEmailApiForTests(EMAIL_KEY, null);

beforeAll(async () => {
  const lake = buildTestLake({ messages: 300, start: new Date(Date.now() - 30 * 3_600_000) });
  reports = await startDashboardServer({
    port: 0,
    lakeDir: lake.dir,
    apiKeys: REPORT_KEYS,
    tenants: new MemoryTenantStore(),
    rateLimit: { capacity: 100_000, refillPerSecond: 100_000 },
    // Unthrottled, so that the valid keys keep reaching the routes (the throttle has its own test).
    failedAuth: null,
  });
}, 120_000);

afterAll(async () => {
  await reports?.close();
});

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
/** Any text, lone surrogates and control characters included. */
const anyText = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), printable);

const VALID_MESSAGE = {
  from: 'Acme <news@mail.acme.example>',
  to: ['reader@example.org'],
  subject: 'Hello {{n}}',
  text: 'Hi',
};
const VALID_BATCH = {
  from: 'news@mail.acme.example',
  subject: 'Hi {{n}}',
  text: 'Hello',
  destinations: [{ to: 'a@example.org', replacements: { n: 'Ann' } }],
};

/** A valid body with one field replaced by anything, removed, or added. */
const mutatedBody = fc
  .tuple(
    fc.constantFrom<Record<string, unknown>>(VALID_MESSAGE, VALID_BATCH, { reason: 'complaints from a bought list' }),
    fc.constantFrom('from', 'to', 'subject', 'text', 'html', 'destinations', 'reason', 'cc', 'campaign', '__proto__'),
    fc.oneof(fc.jsonValue(), anyText, fc.constant(undefined), fc.array(anyText, { maxLength: 60 })),
  )
  .map(([base, key, value]) => JSON.stringify({ ...base, [key]: value }));

const body = fc.oneof(
  mutatedBody,
  fc.jsonValue().map((v) => JSON.stringify(v)),
  anyText,
  fc.integer({ min: 1, max: 2000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.constant(null),
);

const PATHS = [
  '/v1/health',
  '/v1/me',
  '/v1/tenants',
  '/v1/tenants/{x}',
  '/v1/tenants/{x}/audit',
  '/v1/tenants/{x}/pause',
  '/v1/tenants/{x}/resume',
  '/v1/reports',
  '/v1/reports/{x}',
  '/v1/messages',
  '/v1/messages/{x}',
  '/v1/batches',
  '/v1/batches/{x}',
];
const segment = fc.oneof(
  fc.constantFrom('acme', 'globex', 'tenant-summary', 'bounced-recipients', 'job-00000000-0000-4000-8000-000000000001'),
  fc.webSegment(),
  printable.map(encodeURIComponent),
  fc.constantFrom('%', '%E0%A4%A', '..', '%2e%2e', '%00', "acme'--"),
);
const path = fc.oneof(
  fc.tuple(fc.constantFrom(...PATHS), segment).map(([p, s]) => p.replace('{x}', s)),
  fc.webPath(),
);
const query = fc.dictionary(
  fc.oneof(fc.constantFrom('from', 'to', 'tenant', 'limit', 'format', 'message_id'), fc.webSegment()),
  fc.oneof(
    fc.constantFrom('2026-02-30', '2026-05-01', '2026-05-01T10:00Z', 'csv', 'json', '0', '10001', 'acme'),
    printable,
  ),
  { maxKeys: 4 },
);
const headers = fc.record(
  {
    'x-api-key': fc.oneof(fc.constantFrom(EMAIL_KEY, ...Object.keys(REPORT_KEYS)), printable),
    'content-type': fc.oneof(
      fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
      printable,
    ),
    accept: fc.oneof(fc.constantFrom('text/csv', 'application/json', '*/*'), printable),
    authorization: printable,
  },
  { requiredKeys: [] },
);
const request = fc.record({
  api: fc.constantFrom('reports', 'email'),
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'),
  path,
  query,
  headers,
  body,
});

describe('fuzz: both APIs answer anything with a 2xx or a one-line 4xx', () => {
  it(`${RUNS} random requests (seed ${SEED})`, async () => {
    const answered = { '2xx': 0, '4xx': 0 };
    try {
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const base = r.api === 'reports' ? reports.url : email.url;
          // Always a path on the API's host (`//x/y` would name another host).
          const url = new URL(`${base}/${r.path.replace(/^\/+/, '')}`);
          for (const [k, v] of Object.entries(r.query)) url.searchParams.append(k, v);
          const withBody = r.body !== null && !['GET', 'HEAD'].includes(r.method);
          const res = await fetch(url, {
            method: r.method,
            headers: r.headers,
            ...(withBody ? { body: r.body } : {}),
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          const text = await res.text();
          const where = `${r.method} ${url.pathname} answered ${res.status}`;
          expect(res.status >= 200 && res.status < 500, `${where}: ${text.slice(0, 200)}`).toBe(true);
          if (res.status >= 400 && r.method !== 'HEAD' && url.pathname.startsWith('/v1/')) {
            const parsed = JSON.parse(text) as { error?: unknown };
            expect(Object.keys(parsed), where).toEqual(['error']);
            expect(String(parsed.error), where).not.toMatch(/\n|\bat .+:\d+:\d+/);
          }
          answered[res.status < 300 ? '2xx' : '4xx']++;
        }),
        { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: TIME_LIMIT_MS, endOnFailure: true },
      );
    } catch (err) {
      // fast-check's report holds the seed and the path of the counterexample; the seed is also said here.
      console.error(`api fuzz failed: replay with SESFLOW_FUZZ_SEED=${SEED}`);
      throw err;
    }
    // Both kinds of answers were reached: the generator gets past validation as well as into it.
    expect(answered['4xx']).toBeGreaterThan(0);
    expect(answered['2xx']).toBeGreaterThan(0);
    for (const base of [reports.url, email.url]) {
      const health = await fetch(`${base}/v1/health`, { headers: { 'x-api-key': EMAIL_KEY } });
      expect(health.status).toBeLessThan(500);
    }
  }, 120_000);
});
