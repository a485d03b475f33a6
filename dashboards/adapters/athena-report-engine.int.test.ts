import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AthenaRunner } from '../../queries/athena/runner';
import { type LakeDb, openLake } from '../../queries/duckdb-lake';
import { type ColumnType, NAMED_QUERIES } from '../../queries/named-queries';
import { buildQueryTestLake, type QueryTestLake } from '../../queries/test-lake';
import type { ReportParams, ReportResult } from '../api/ports';
import { createAthenaReportEngine } from './athena-report-engine';
import { createDuckDbReportEngine } from './duckdb-report-engine';
import { athenaExecution, athenaRow, fakeAthenaClient } from './fake-aws.test-support';
import { createSerialQueue } from './serial-lake';

/**
 * The Athena engine gives the DuckDB engine's shape: every named query is run by the DuckDB engine on a lake built by
 * the real transform, its rows are written as Athena writes them (GetQueryResults text, a header row, pages, the
 * column types Athena reports for the query's declared columns), and the Athena engine must read back exactly what
 * DuckDB gave: the same column names in the same order, the same JS values (numbers, booleans, ISO times, null).
 */
const FROM = Date.parse('2026-05-01T00:00:00Z');
const TO = Date.parse('2026-05-03T00:00:00Z');

let lake: QueryTestLake;
let db: LakeDb;

beforeAll(async () => {
  // The queries' test lake: generated traffic from FROM on, plus the edge records every report has rows for
  // (an SES unsubscribe among them).
  lake = buildQueryTestLake({ messages: 1500, spanHours: 40 });
  db = await openLake(lake.dir);
});

afterAll(() => {
  db?.close();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

const ATHENA_TYPE: Record<ColumnType, string> = {
  integer: 'bigint',
  double: 'double',
  string: 'varchar',
  timestamp: 'timestamp',
  boolean: 'boolean',
};

/** A double as Java (Trino) prints it: `0.25`, `3.0`, `1.0E-4`, `1.2345E7`. */
function javaDouble(x: number): string {
  if (x === 0) return '0.0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e7) return Number.isInteger(x) ? `${x}.0` : String(x);
  const [m, e] = x.toExponential().split('e') as [string, string];
  return `${m.includes('.') ? m : `${m}.0`}E${Number(e)}`;
}

/** A value as Athena's GetQueryResults text (null: no VarCharValue). */
function athenaText(v: unknown, type: ColumnType): string | null {
  if (v === null || v === undefined) return null;
  if (type === 'double') return javaDouble(v as number);
  if (type === 'timestamp') return String(v).replace('T', ' ').replace('Z', '');
  return String(v);
}

/** Serves `result` as Athena would: header row first, `pageSize` rows a page, types from the query's columns. */
function athenaServing(name: string, result: ReportResult, pageSize: number) {
  const spec = NAMED_QUERIES.get(name)!.columns;
  const info = spec.map((c) => ({ Name: c.name, Label: c.name, Type: ATHENA_TYPE[c.type] }));
  const all = [
    athenaRow(...spec.map((c) => c.name)),
    ...result.rows.map((r) => athenaRow(...spec.map((c) => athenaText(r[c.name], c.type)))),
  ];
  return fakeAthenaClient({
    StartQueryExecution: () => ({ body: { QueryExecutionId: `qe-${name}` } }),
    GetQueryExecution: () => athenaExecution(`qe-${name}`, 'SUCCEEDED'),
    GetQueryResults: (body) => {
      const at = body.NextToken ? Number(body.NextToken) : 0;
      const next = at + pageSize;
      return {
        body: {
          ResultSet: { Rows: all.slice(at, next), ResultSetMetadata: { ColumnInfo: info } },
          ...(next < all.length ? { NextToken: String(next) } : {}),
        },
      };
    },
  });
}

describe('Athena engine results have the DuckDB engine shape, report by report', () => {
  const duck = () => createDuckDbReportEngine(db, { registry: NAMED_QUERIES, serial: createSerialQueue() });

  it('both engines offer the same reports', () => {
    const athena = createAthenaReportEngine({ runner: { run: async () => Promise.reject(new Error('unused')) } });
    expect(athena.reports()).toEqual(duck().reports());
  });

  for (const name of NAMED_QUERIES.keys()) {
    it(`${name}: same columns, same values`, async () => {
      const params: ReportParams = { from: FROM, to: TO, tenant: null, limit: 10_000 };
      if (name === 'message-timeline') {
        const [row] = await db.query<{ message_id: string }>(
          "SELECT message_id FROM events WHERE event_type = 'bounce' ORDER BY message_id LIMIT 1",
        );
        params.messageId = row!.message_id;
      }
      if (name === 'daily-timeseries' || name === 'campaign-report') params.tenant = 'acme';
      const expected = await duck().run(name, params);
      expect(expected.rows.length).toBeGreaterThan(0);
      expect(expected.columns).toEqual(NAMED_QUERIES.get(name)!.columns.map((c) => c.name));

      const { client, calls } = athenaServing(name, expected, 97);
      const runner = new AthenaRunner({ client, workGroup: 'wg', database: 'db', sleep: async () => {}, pageSize: 97 });
      const got = await createAthenaReportEngine({ runner }).run(name, params);
      expect({ columns: got.columns, rows: got.rows }).toEqual(expected);
      expect(calls.filter((c) => c.op === 'GetQueryResults')).toHaveLength(Math.ceil((expected.rows.length + 1) / 97));
    });
  }
});
