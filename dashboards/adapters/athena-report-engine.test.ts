import { describe, expect, it } from 'vitest';
import { TokenBucketLimiter } from '../../lib/http/token-bucket';
import { AthenaRunner } from '../../queries/athena/runner';
import { NAMED_QUERIES } from '../../queries/named-queries';
import { MemoryTenantStore } from '../../tenants/tenant-service';
import type { Authenticator, Principal } from '../api/ports';
import { DEFAULT_THRESHOLDS } from '../api/risk';
import { createRouter } from '../api/router';
import { BadRequestError } from '../errors';
import {
  type AthenaReportEngineOptions,
  type AthenaReportFailure,
  createAthenaReportEngine,
  ReportEngineError,
} from './athena-report-engine';
import { athenaExecution, athenaRow, fakeAthenaClient, type Reply } from './fake-aws.test-support';

const FROM = Date.parse('2026-05-01T00:00:00Z');
const TO = Date.parse('2026-05-03T12:30:00Z');

const SUMMARY_INFO = [
  { Name: 'tenant_id', Label: 'tenant_id', Type: 'varchar' },
  { Name: 'sent', Label: 'sent', Type: 'bigint' },
  { Name: 'bounce_rate', Label: 'bounce_rate', Type: 'double' },
];

/** An Athena that starts qe-1, answers `states` in turn (the last one repeats), then serves `pages`. */
function athena(states: string[], pages: { Rows: unknown[]; NextToken?: string }[] = [], extra = {}) {
  return fakeAthenaClient({
    StartQueryExecution: () => ({ body: { QueryExecutionId: 'qe-1' } }),
    GetQueryExecution: (_, n) => athenaExecution('qe-1', states[Math.min(n, states.length - 1)]!, extra),
    GetQueryResults: (_, n): Reply => ({
      body: {
        ResultSet: { Rows: pages[n]?.Rows ?? [], ResultSetMetadata: { ColumnInfo: SUMMARY_INFO } },
        ...(pages[n]?.NextToken ? { NextToken: pages[n]!.NextToken } : {}),
      },
    }),
    StopQueryExecution: () => ({ body: {} }),
  });
}

function engineOver(client: ReturnType<typeof athena>['client'], opts: { maxBytes?: number; pageSize?: number } = {}) {
  const failures: AthenaReportFailure[] = [];
  const runner = new AthenaRunner({
    client,
    workGroup: 'sesflow-prod',
    database: 'sesflow_prod',
    sleep: async () => {},
    maxBytesScanned: opts.maxBytes,
    pageSize: opts.pageSize,
  });
  return { engine: createAthenaReportEngine({ runner, log: (f) => failures.push(f) }), failures };
}

const placeholders = (sql: string) => (sql.match(/\?/g) ?? []).length;

describe('Athena report engine (fake Athena answering the SDK shapes)', () => {
  it('lists the named queries, message-timeline needing a message id', () => {
    const { engine } = engineOver(athena(['SUCCEEDED']).client);
    expect(engine.reports().map((r) => r.name)).toEqual([...NAMED_QUERIES.keys()]);
    expect(engine.reports().find((r) => r.name === 'message-timeline')!.requires).toEqual(['message_id']);
    expect(engine.reports().find((r) => r.name === 'tenant-summary')!.requires).toEqual([]);
  });

  it('starts the Trino rendering in the workgroup with result reuse, every value bound, none in the SQL', async () => {
    const { client, calls } = athena(['SUCCEEDED'], [{ Rows: [athenaRow('tenant_id', 'sent', 'bounce_rate')] }]);
    const { engine } = engineOver(client);
    // A hostile tenant value (the router refuses it; the engine must still never splice it).
    const tenant = "acme' OR '1'='1";
    await engine.run('tenant-summary', { from: FROM, to: TO, tenant, limit: 100 });
    const start = calls.find((c) => c.op === 'StartQueryExecution')!.body;
    expect(start.WorkGroup).toBe('sesflow-prod');
    expect(start.QueryExecutionContext).toEqual({ Database: 'sesflow_prod', Catalog: 'AwsDataCatalog' });
    expect(start.ResultReuseConfiguration).toEqual({
      ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: 60 },
    });
    const sql = String(start.QueryString);
    const params = start.ExecutionParameters as string[];
    expect(sql).not.toContain('acme');
    expect(sql).not.toContain('2026-05');
    expect(placeholders(sql)).toBe(params.length);
    // The tenant twice (`:tenant IS NULL OR tenant_id = :tenant`), quoted with its quotes doubled: a value, not SQL.
    expect(params.filter((p) => p === "'acme'' OR ''1''=''1'")).toHaveLength(2);
    expect(params).toContain("'2026-05-01 00:00:00.000'");
    expect(params).toContain("'2026-05-03 12:30:00.000'");
    // The partition filter on dt is there, fed by the same bound times (projection prunes the days out of range).
    expect(sql).toMatch(/dt >= substr\(\?, 1, 10\)/);
  });

  it("all tenants: the tenant filter is a typed NULL in the SQL, not a caller's parameter", async () => {
    const { client, calls } = athena(['SUCCEEDED'], [{ Rows: [] }]);
    await engineOver(client).engine.run('daily-timeseries', { from: FROM, to: TO, tenant: null, limit: 10 });
    const start = calls.find((c) => c.op === 'StartQueryExecution')!.body;
    expect(String(start.QueryString)).toContain('(CAST(NULL AS VARCHAR) IS NULL OR tenant_id = CAST(NULL AS VARCHAR))');
    expect((start.ExecutionParameters as string[]).every((p) => /^'2026-05-0[13] /.test(p))).toBe(true);
  });

  it('message-timeline binds the message id', async () => {
    const { client, calls } = athena(['SUCCEEDED'], [{ Rows: [] }]);
    await engineOver(client).engine.run('message-timeline', {
      from: FROM,
      to: TO,
      tenant: 'acme',
      messageId: '0100018f-abc',
      limit: 10,
    });
    const start = calls.find((c) => c.op === 'StartQueryExecution')!.body;
    expect(String(start.QueryString)).not.toContain('0100018f');
    expect(start.ExecutionParameters).toContain("'0100018f-abc'");
  });

  it('waits through QUEUED and RUNNING, reads every page (header skipped) and types the rows', async () => {
    const { client, calls } = athena(
      ['QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED'],
      [
        { Rows: [athenaRow('tenant_id', 'sent', 'bounce_rate'), athenaRow('acme', '120', '0.025')], NextToken: 't1' },
        { Rows: [athenaRow('globex', '0', null), athenaRow('initech', '9007199254740993', '1.0E-4')] },
      ],
    );
    const result = await engineOver(client).engine.run('tenant-summary', {
      from: FROM,
      to: TO,
      tenant: null,
      limit: 50,
    });
    expect(calls.filter((c) => c.op === 'GetQueryExecution')).toHaveLength(4);
    expect(calls.filter((c) => c.op === 'GetQueryResults').map((c) => c.body.NextToken ?? null)).toEqual([null, 't1']);
    expect(result.columns).toEqual(['tenant_id', 'sent', 'bounce_rate']);
    expect(result.rows).toEqual([
      { tenant_id: 'acme', sent: 120, bounce_rate: 0.025 },
      { tenant_id: 'globex', sent: 0, bounce_rate: null },
      // Beyond 2^53 a count stays exact, as text.
      { tenant_id: 'initech', sent: '9007199254740993', bounce_rate: 0.0001 },
    ]);
  });

  it('the limit is where reading stops: no page past it is fetched', async () => {
    const page = (n: number) => ({
      Rows: [
        ...(n === 0 ? [athenaRow('tenant_id', 'sent', 'bounce_rate')] : []),
        athenaRow(`t${n}a`, '1', '0'),
        athenaRow(`t${n}b`, '2', '0'),
      ],
      NextToken: `t${n + 1}`,
    });
    const { client, calls } = athena(['SUCCEEDED'], [page(0), page(1), page(2), page(3)]);
    const result = await engineOver(client, { pageSize: 2 }).engine.run('tenant-summary', {
      from: FROM,
      to: TO,
      tenant: null,
      limit: 3,
    });
    expect(result.rows.map((r) => r.tenant_id)).toEqual(['t0a', 't0b', 't1a']);
    expect(calls.filter((c) => c.op === 'GetQueryResults')).toHaveLength(2);
  });

  it("FAILED is a 502 naming the report and query id; Athena's reason goes to the log only", async () => {
    const reason = "TABLE_NOT_FOUND: line 9:8: Table 'awsdatacatalog.sesflow_prod.events' does not exist";
    const { client } = athena(['RUNNING', 'FAILED'], [], {
      StateChangeReason: reason,
      AthenaError: { ErrorCategory: 2, ErrorType: 1301, Retryable: false },
    });
    const { engine, failures } = engineOver(client);
    const err = await engine.run('tenant-summary', { from: FROM, to: TO, tenant: null, limit: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(ReportEngineError);
    expect((err as ReportEngineError).status).toBe(502);
    expect((err as Error).message).toBe('report tenant-summary failed on Athena (Athena query qe-1)');
    expect((err as Error).message).not.toContain('sesflow_prod');
    expect(failures).toEqual([
      {
        report: 'tenant-summary',
        queryExecutionId: 'qe-1',
        state: 'FAILED',
        reason: `Athena query qe-1 failed: ${reason}`,
        bytesScanned: 1024,
      },
    ]);
  });

  it("CANCELLED (the workgroup's scan cutoff, or an operator) is a 503 that says to narrow the period", async () => {
    const { client } = athena(['CANCELLED'], [], { StateChangeReason: 'Query exceeded the bytes scanned limit' });
    const err = await engineOver(client)
      .engine.run('bounce-breakdown', { from: FROM, to: TO, tenant: 'acme', limit: 5 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ReportEngineError);
    expect((err as ReportEngineError).status).toBe(503);
    expect((err as Error).message).toMatch(/^report bounce-breakdown was cancelled on Athena \(Athena query qe-1\)/);
  });

  it('the bytes-scanned guard stops the query and answers 400: narrow from/to', async () => {
    const { client, calls } = fakeAthenaClient({
      StartQueryExecution: () => ({ body: { QueryExecutionId: 'qe-1' } }),
      GetQueryExecution: () => athenaExecution('qe-1', 'RUNNING', {}, 5 * 1024 ** 3),
      StopQueryExecution: () => ({ body: {} }),
    });
    const err = await engineOver(client, { maxBytes: 1024 ** 3 })
      .engine.run('bounced-recipients', { from: FROM, to: TO, tenant: null, limit: 5 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as Error).message).toMatch(/^report bounced-recipients would read more data than allowed/);
    expect(calls.map((c) => c.op)).toContain('StopQueryExecution');
  });

  it('an unknown report is a 400 and nothing is sent to Athena', async () => {
    const { client, calls } = athena(['SUCCEEDED']);
    await expect(
      engineOver(client).engine.run('drop-table', { from: FROM, to: TO, tenant: null, limit: 5 }),
    ).rejects.toThrow(BadRequestError);
    expect(calls).toEqual([]);
  });
});

function engineWith(client: ReturnType<typeof athena>['client'], opts: Partial<AthenaReportEngineOptions>) {
  const runner = new AthenaRunner({
    client,
    workGroup: 'sesflow-prod',
    database: 'sesflow_prod',
    sleep: async () => {},
  });
  return createAthenaReportEngine({ runner, ...opts });
}

describe('Athena report engine: whole days from the rollup tables, the edges from raw events', () => {
  it('binds the rolled-up days as day_from/day_to and reads rollup_daily and rollup_pairs for them', async () => {
    const { client, calls } = athena(['SUCCEEDED'], [{ Rows: [athenaRow('tenant_id', 'sent', 'bounce_rate')] }]);
    const asked: [string, string][] = [];
    const engine = engineWith(client, {
      rolledUpDays: async (from, to) => {
        asked.push([new Date(from).toISOString(), new Date(to).toISOString()]);
        return new Set(['2026-05-01', '2026-05-02']);
      },
    });
    const result = await engine.run('tenant-summary', { from: FROM, to: TO, tenant: 'acme', limit: 10 });
    expect(asked).toEqual([['2026-05-01T00:00:00.000Z', '2026-05-04T00:00:00.000Z']]);
    const start = calls.find((c) => c.op === 'StartQueryExecution')!.body;
    const sql = String(start.QueryString);
    expect(sql).toContain('FROM rollup_daily');
    expect(sql).toContain('FROM rollup_pairs');
    expect(sql).not.toContain('2026-05');
    const params = start.ExecutionParameters as string[];
    expect(placeholders(sql)).toBe(params.length);
    expect(params).toContain("'2026-05-01'");
    expect(params).toContain("'2026-05-03'");
    expect(result.basis).toEqual({
      source: 'rollups+raw',
      from: '2026-05-01T00:00:00.000Z',
      to: '2026-05-03T12:30:00.000Z',
      rawEventsKeptFrom: null,
      note: null,
    });
  });

  it('over days before raw retention: rollups alone, whole days, and the answer says so; drill-down says the raw events were deleted', async () => {
    const { client, calls } = athena(['SUCCEEDED'], [{ Rows: [athenaRow('tenant_id', 'sent', 'bounce_rate')] }]);
    const engine = engineWith(client, {
      rolledUpDays: async () => new Set(),
      rawRetentionDays: 5,
      now: () => Date.parse('2026-05-08T10:00:00Z'),
    });
    const from = Date.parse('2026-05-01T06:00:00Z');
    const summary = await engine.run('tenant-summary', { from, to: TO, tenant: null, limit: 10 });
    expect(summary.basis).toEqual({
      source: 'rollups+raw',
      from: '2026-05-01T00:00:00.000Z',
      to: '2026-05-03T12:30:00.000Z',
      rawEventsKeptFrom: '2026-05-03',
      note: 'raw events before 2026-05-03 were deleted by retention: the days before then come from the daily rollups, whole days only (2026-05-01 to 2026-05-03)',
    });
    const params = calls.find((c) => c.op === 'StartQueryExecution')!.body.ExecutionParameters as string[];
    expect(params).toContain("'2026-05-01 00:00:00.000'");
    expect(params).not.toContain("'2026-05-01 06:00:00.000'");
    expect(params).toContain("'2026-05-03'");
    const bounced = await engine.run('bounced-recipients', { from, to: TO, tenant: null, limit: 10 });
    expect(bounced.basis?.note).toBe(
      'raw events before 2026-05-03 were deleted by retention: rows before then cannot be shown',
    );
    const raw = calls.filter((c) => c.op === 'StartQueryExecution').at(-1)!.body;
    expect(String(raw.QueryString)).not.toContain('rollup_');
  });

  it('without a list of rolled-up days, an aggregate report reads raw events only (no rollup row)', async () => {
    const { client, calls } = athena(['SUCCEEDED'], [{ Rows: [athenaRow('tenant_id', 'sent', 'bounce_rate')] }]);
    const result = await engineWith(client, {}).run('campaign-report', { from: FROM, to: TO, tenant: null, limit: 5 });
    expect(result.basis?.source).toBe('raw');
    const params = calls.find((c) => c.op === 'StartQueryExecution')!.body.ExecutionParameters as string[];
    // No whole day: day_from and day_to are typed NULLs, no day is bound.
    expect(params.length).toBeGreaterThan(0);
    expect(params.filter((p) => /^'\d{4}-\d{2}-\d{2}'$/.test(p))).toEqual([]);
  });
});

describe('the router over the Athena engine', () => {
  const principals: Record<string, Principal> = {
    'client-acme': { id: 'user:c1', role: 'client', tenantId: 'acme' },
    officer: { id: 'user:o1', role: 'compliance', tenantId: null },
  };
  const auth: Authenticator = { authenticate: async (h) => principals[h.authorization ?? ''] ?? null };

  function router(client: ReturnType<typeof athena>['client']) {
    return createRouter({
      auth,
      reports: engineOver(client).engine,
      tenants: new MemoryTenantStore(),
      live: { figures: async () => [] },
      limiter: new TokenBucketLimiter(100, 100),
      thresholds: DEFAULT_THRESHOLDS,
      now: () => new Date(TO),
    });
  }
  const get = (path: string, who: string, query: Record<string, string> = {}) => ({
    method: 'GET',
    path,
    query,
    headers: { authorization: who },
    body: null,
  });

  it("a client's report is scoped to its own tenant by the server; naming another is a 403 before Athena", async () => {
    const { client, calls } = athena(['SUCCEEDED'], [{ Rows: [athenaRow('tenant_id', 'sent', 'bounce_rate')] }]);
    const route = router(client);
    const own = await route(get('/v1/reports/tenant-summary', 'client-acme', { from: '2026-05-01' }));
    expect(own.status).toBe(200);
    expect(JSON.parse(own.body)).toMatchObject({ report: 'tenant-summary', tenant: 'acme', rows: [] });
    expect(calls.find((c) => c.op === 'StartQueryExecution')!.body.ExecutionParameters).toContain("'acme'");

    const before = calls.length;
    const other = await route(get('/v1/reports/tenant-summary', 'client-acme', { tenant: 'globex' }));
    expect(other.status).toBe(403);
    expect(calls.length).toBe(before);
  });

  it('an Athena failure reaches the caller as one line of JSON with its status, no stack', async () => {
    const { client } = athena(['FAILED'], [], { StateChangeReason: 'HIVE_CURSOR_ERROR: at s3://lake/events/x' });
    const res = await router(client)(get('/v1/reports/tenant-summary', 'officer'));
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toEqual({ error: 'report tenant-summary failed on Athena (Athena query qe-1)' });
  });
});
