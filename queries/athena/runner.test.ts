import { Readable } from 'node:stream';
import { AthenaClient } from '@aws-sdk/client-athena';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/errors';
import { NAMED_QUERIES } from '../named-queries';
import { runNamedQueryOnAthena } from './named';
import { AthenaQueryError, AthenaRunner, AthenaScanLimitError, typedValue } from './runner';

/**
 * Athena's side of the wire, scripted: a real AthenaClient (its serialisers, awsJson1_1, X-Amz-Target) whose HTTP
 * handler answers like the Athena API. Every request is recorded as the operation and its JSON body.
 */
interface Call {
  op: string;
  body: Record<string, unknown>;
}
type Reply = { status?: number; body: unknown; errorType?: string };

function fakeAthena(handlers: Record<string, (body: Record<string, unknown>, n: number) => Reply>) {
  const calls: Call[] = [];
  const counts = new Map<string, number>();
  const client = new AthenaClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (req: { headers: Record<string, string>; body?: unknown }) => {
        const op = String(req.headers['x-amz-target']).replace('AmazonAthena.', '');
        const body = JSON.parse(Buffer.from(req.body as Uint8Array | string).toString('utf8')) as Record<
          string,
          unknown
        >;
        calls.push({ op, body });
        const n = counts.get(op) ?? 0;
        counts.set(op, n + 1);
        const handler = handlers[op];
        if (!handler) throw new Error(`unexpected ${op}`);
        const reply = handler(body, n);
        return {
          response: {
            statusCode: reply.status ?? 200,
            headers: {
              'content-type': 'application/x-amz-json-1.1',
              ...(reply.errorType ? { 'x-amzn-errortype': reply.errorType } : {}),
            },
            body: Readable.from([Buffer.from(JSON.stringify(reply.body))]),
          },
        };
      },
    } as never,
  });
  return { client, calls };
}

const started = (): Reply => ({ body: { QueryExecutionId: 'qe-1' } });
const execution = (State: string, extra: Record<string, unknown> = {}, bytes = 1024): Reply => ({
  body: {
    QueryExecution: {
      QueryExecutionId: 'qe-1',
      StatementType: 'DML',
      Status: { State, ...extra },
      Statistics: { DataScannedInBytes: bytes, ResultReuseInformation: { ReusedPreviousResult: false } },
    },
  },
});
const row = (...values: (string | null)[]) => ({
  Data: values.map((v) => (v === null ? {} : { VarCharValue: v })),
});
const COLUMNS = [
  { Name: 'day', Label: 'day', Type: 'varchar' },
  { Name: 'sent', Label: 'sent', Type: 'bigint' },
  { Name: 'bounce_rate', Label: 'bounce_rate', Type: 'double' },
  { Name: 'machine_open', Label: 'machine_open', Type: 'boolean' },
  { Name: 'event_time', Label: 'event_time', Type: 'timestamp(3)' },
];
const HEADER = row('day', 'sent', 'bounce_rate', 'machine_open', 'event_time');

function runner(client: AthenaClient, extra: Partial<ConstructorParameters<typeof AthenaRunner>[0]> = {}) {
  const sleeps: number[] = [];
  let clock = 0;
  const r = new AthenaRunner({
    client,
    workGroup: 'sesflow-reports',
    database: 'sesflow_prod',
    outputLocation: 's3://results-bucket/athena/',
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => clock,
    ...extra,
  });
  return { r, sleeps };
}

describe('Athena runner, against the SDK request and response shapes', () => {
  it('starts in the workgroup with result reuse, the database and the ExecutionParameters in order', async () => {
    const { client, calls } = fakeAthena({
      StartQueryExecution: started,
      GetQueryExecution: () => execution('SUCCEEDED'),
      GetQueryResults: () => ({ body: { ResultSet: { Rows: [HEADER], ResultSetMetadata: { ColumnInfo: COLUMNS } } } }),
    });
    await runner(client).r.run('SELECT 1 WHERE x = ? AND y = ?', { parameters: ["'acme'", '5'] });
    expect(calls[0]).toEqual({
      op: 'StartQueryExecution',
      body: {
        QueryString: 'SELECT 1 WHERE x = ? AND y = ?',
        WorkGroup: 'sesflow-reports',
        QueryExecutionContext: { Database: 'sesflow_prod', Catalog: 'AwsDataCatalog' },
        ResultConfiguration: { OutputLocation: 's3://results-bucket/athena/' },
        ExecutionParameters: ["'acme'", '5'],
        ResultReuseConfiguration: { ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: 60 } },
        ClientRequestToken: expect.any(String),
      },
    });
    const off = fakeAthena({
      StartQueryExecution: started,
      GetQueryExecution: () => execution('SUCCEEDED'),
      GetQueryResults: () => ({ body: { ResultSet: { Rows: [], ResultSetMetadata: { ColumnInfo: [] } } } }),
    });
    await runner(off.client, { resultReuseMinutes: 0 }).r.run('SELECT 1');
    expect(off.calls[0]!.body.ResultReuseConfiguration).toEqual({ ResultReuseByAgeConfiguration: { Enabled: false } });
    expect(off.calls[0]!.body).not.toHaveProperty('ExecutionParameters');
  });

  it('polls with growing waits through QUEUED and RUNNING (and back to QUEUED) until SUCCEEDED', async () => {
    const states = ['QUEUED', 'RUNNING', 'QUEUED', 'RUNNING', 'RUNNING', 'RUNNING', 'SUCCEEDED'];
    const { client, calls } = fakeAthena({
      StartQueryExecution: started,
      GetQueryExecution: (body, n) => {
        expect(body).toEqual({ QueryExecutionId: 'qe-1' });
        return execution(states[n]!);
      },
      GetQueryResults: () => ({ body: { ResultSet: { Rows: [HEADER], ResultSetMetadata: { ColumnInfo: COLUMNS } } } }),
    });
    const { r, sleeps } = runner(client, { poll: { firstMs: 100, factor: 2, maxMs: 1000 } });
    const result = await r.run('SELECT 1');
    expect(calls.filter((c) => c.op === 'GetQueryExecution')).toHaveLength(states.length);
    expect(sleeps).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(result.bytesScanned).toBe(1024);
  });

  it('reads every page, skips the header row on the first page only, and types values from ColumnInfo', async () => {
    const pages = [
      { Rows: [HEADER, row('2026-05-01', '12', '0.25', 'true', '2026-05-01 10:00:00.123')], NextToken: 't1' },
      // A data row that happens to read like the header, on a later page: data, kept.
      { Rows: [HEADER, row('2026-05-02', null, 'NaN', 'false', null)], NextToken: 't2' },
      { Rows: [row('', '9007199254740993', '1.5E-3', null, '2026-05-03 00:00:00.000')] },
    ];
    const { client, calls } = fakeAthena({
      StartQueryExecution: started,
      GetQueryExecution: () => execution('SUCCEEDED'),
      GetQueryResults: (_, n) => ({
        body: {
          ResultSet: { Rows: pages[n]!.Rows, ResultSetMetadata: { ColumnInfo: COLUMNS } },
          NextToken: pages[n]!.NextToken,
        },
      }),
    });
    const result = await runner(client, { pageSize: 2 }).r.run('SELECT …');
    expect(calls.filter((c) => c.op === 'GetQueryResults').map((c) => c.body)).toEqual([
      { QueryExecutionId: 'qe-1', MaxResults: 2 },
      { QueryExecutionId: 'qe-1', MaxResults: 2, NextToken: 't1' },
      { QueryExecutionId: 'qe-1', MaxResults: 2, NextToken: 't2' },
    ]);
    expect(result.columns.map((c) => c.name)).toEqual(['day', 'sent', 'bounce_rate', 'machine_open', 'event_time']);
    expect(result.rows).toEqual([
      { day: '2026-05-01', sent: 12, bounce_rate: 0.25, machine_open: true, event_time: '2026-05-01T10:00:00.123Z' },
      { day: 'day', sent: 'sent', bounce_rate: Number.NaN, machine_open: false, event_time: 'event_time' },
      { day: '2026-05-02', sent: null, bounce_rate: Number.NaN, machine_open: false, event_time: null },
      {
        day: '',
        sent: '9007199254740993',
        bounce_rate: 0.0015,
        machine_open: null,
        event_time: '2026-05-03T00:00:00.000Z',
      },
    ]);
    expect(result.truncated).toBe(false);
  });

  it('stops reading at maxRows and says the result is truncated', async () => {
    const { client, calls } = fakeAthena({
      StartQueryExecution: started,
      GetQueryExecution: () => execution('SUCCEEDED'),
      GetQueryResults: (_, n) => ({
        body: {
          ResultSet: {
            Rows: [...(n === 0 ? [HEADER] : []), row('d', '1', '0', 'true', null), row('d', '2', '0', 'true', null)],
            ResultSetMetadata: { ColumnInfo: COLUMNS },
          },
          NextToken: `t${n + 1}`,
        },
      }),
    });
    const result = await runner(client).r.run('SELECT …', { maxRows: 3 });
    expect(result.rows.map((r) => r.sent)).toEqual([1, 2, 1]);
    expect(result.truncated).toBe(true);
    expect(calls.filter((c) => c.op === 'GetQueryResults')).toHaveLength(2);
  });

  it('FAILED and CANCELLED are one-line errors with the StateChangeReason and the query id', async () => {
    const failed = fakeAthena({
      StartQueryExecution: started,
      GetQueryExecution: () =>
        execution('FAILED', {
          StateChangeReason: "COLUMN_NOT_FOUND: line 3:8: Column 'tenant' cannot be resolved\nat …",
          AthenaError: { ErrorCategory: 2, ErrorType: 1006, Retryable: false },
        }),
    });
    const err = await runner(failed.client)
      .r.run('SELECT tenant FROM events')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AthenaQueryError);
    expect((err as Error).message).toBe(
      "Athena query qe-1 failed: COLUMN_NOT_FOUND: line 3:8: Column 'tenant' cannot be resolved",
    );
    expect((err as AthenaQueryError).details).toMatchObject({
      state: 'FAILED',
      errorCategory: 2,
      errorType: 1006,
      retryable: false,
    });
    expect(failed.calls.some((c) => c.op === 'GetQueryResults')).toBe(false);

    const cancelled = fakeAthena({
      StartQueryExecution: started,
      GetQueryExecution: () => execution('CANCELLED', { StateChangeReason: 'Query cancelled by user' }),
    });
    await expect(runner(cancelled.client).r.run('SELECT 1')).rejects.toThrow(
      'Athena query qe-1 was cancelled: Query cancelled by user',
    );
  });

  it('the scan guard stops a running query that read more than the limit, with a clear error', async () => {
    const { client, calls } = fakeAthena({
      StartQueryExecution: started,
      GetQueryExecution: (_, n) => execution('RUNNING', {}, n === 0 ? 10 * 1024 ** 2 : 3 * 1024 ** 3),
      StopQueryExecution: (body) => {
        expect(body).toEqual({ QueryExecutionId: 'qe-1' });
        return { body: {} };
      },
    });
    const err = await runner(client, { maxBytesScanned: 1024 ** 3 })
      .r.run('SELECT * FROM events')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AthenaScanLimitError);
    expect((err as Error).message).toBe(
      'Athena query qe-1 stopped: it scanned 3.0 GiB, over the 1.0 GiB limit (narrow the time range)',
    );
    expect(calls.map((c) => c.op)).toEqual([
      'StartQueryExecution',
      'GetQueryExecution',
      'GetQueryExecution',
      'StopQueryExecution',
    ]);
  });

  it('stops a query still running at the timeout', async () => {
    const { client, calls } = fakeAthena({
      StartQueryExecution: started,
      GetQueryExecution: () => execution('RUNNING'),
      StopQueryExecution: () => ({ body: {} }),
    });
    await expect(runner(client, { timeoutMs: 5_000 }).r.run('SELECT 1')).rejects.toThrow(
      /^Athena query qe-1 stopped: still RUNNING after 5000 ms$/,
    );
    expect(calls.at(-1)!.op).toBe('StopQueryExecution');
  });

  it('a query Athena refuses to start is a one-line error naming the exception', async () => {
    const { client } = fakeAthena({
      StartQueryExecution: () => ({
        status: 400,
        errorType: 'InvalidRequestException',
        body: {
          __type: 'InvalidRequestException',
          Message: "line 1:8: mismatched input 'FORM'\nexpecting …",
          AthenaErrorCode: 'MALFORMED_QUERY',
        },
      }),
    });
    const err = await runner(client)
      .r.run('SELECT * FORM events')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AthenaQueryError);
    expect((err as Error).message).toBe(
      "Athena refused the query: InvalidRequestException: line 1:8: mismatched input 'FORM'",
    );
  });

  it('types Athena text values: integers (exact beyond 2^53 as text), doubles, booleans, zoned times, NULL', () => {
    expect(typedValue('42', 'integer')).toBe(42);
    expect(typedValue('-9007199254740993', 'bigint')).toBe('-9007199254740993');
    expect(typedValue('Infinity', 'double')).toBe(Number.POSITIVE_INFINITY);
    expect(typedValue('12.50', 'decimal(10,2)')).toBe(12.5);
    expect(typedValue('false', 'boolean')).toBe(false);
    expect(typedValue('2026-05-01 10:00:00.000 UTC', 'timestamp with time zone')).toBe('2026-05-01T10:00:00.000Z');
    expect(typedValue('2026-05-01 12:00:00.000 +02:00', 'timestamp with time zone')).toBe('2026-05-01T10:00:00.000Z');
    expect(typedValue('2026-05-01', 'date')).toBe('2026-05-01');
    expect(typedValue(undefined, 'varchar')).toBeNull();
    expect(typedValue('', 'varchar')).toBe('');
  });
});

describe('named queries on Athena', () => {
  it("sends the Trino rendering with the server's tenant as a parameter, never in the SQL, and types the rows", async () => {
    const { client, calls } = fakeAthena({
      StartQueryExecution: started,
      GetQueryExecution: () => execution('SUCCEEDED'),
      GetQueryResults: () => ({
        body: {
          ResultSet: {
            Rows: [row('day', 'tenant_id', 'sent'), row('2026-05-01', "o'hara", '7')],
            ResultSetMetadata: {
              ColumnInfo: [
                { Name: 'day', Label: 'day', Type: 'varchar' },
                { Name: 'tenant_id', Label: 'tenant_id', Type: 'varchar' },
                { Name: 'sent', Label: 'sent', Type: 'bigint' },
              ],
            },
          },
        },
      }),
    });
    const { r } = runner(client);
    const { rows } = await runNamedQueryOnAthena(r, 'daily-timeseries', { from: '2026-05-01' }, { tenant: "o'hara" });
    expect(rows).toEqual([{ day: '2026-05-01', tenant_id: "o'hara", sent: 7 }]);
    const start = calls[0]!.body;
    expect(start.QueryString).toBe(
      NAMED_QUERIES.get('daily-timeseries')!
        .text('trino')
        .replace(/:tenant|:from/g, '?')
        .replaceAll(':to', 'CAST(NULL AS VARCHAR)'),
    );
    expect(start.QueryString).not.toContain('hara');
    expect(start.ExecutionParameters).toEqual([
      "'o''hara'",
      "'o''hara'",
      "'2026-05-01 00:00:00.000'",
      "'2026-05-01 00:00:00.000'",
      "'2026-05-01 00:00:00.000'",
      "'2026-05-01 00:00:00.000'",
    ]);
    await expect(runNamedQueryOnAthena(r, 'daily-timeseries', { tenant: 'other' })).rejects.toThrow(UsageError);
  });
});
