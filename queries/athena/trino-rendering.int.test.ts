import { rmSync } from 'node:fs';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LakeDb, openLake } from '../duckdb-lake';
import { NAMED_QUERIES } from '../named-queries';
import { type QueryRow, runNamedQuery, toPlain, validateParams } from '../run-named-query';
import { buildQueryTestLake, EDGE_MESSAGE_ID, EDGE_TENANT, type QueryTestLake } from '../test-lake';
import { athenaOnDuckDb } from './athena-on-duckdb.test-support';
import { trinoSql } from './statement';

/**
 * No Athena runs here, so the Athena side is played by DuckDB, as close to Athena as it gets: a table laid out as
 * the Glue table (lake columns, the partition columns `dt` and `hour` from the path, and Athena's hidden `"$path"`),
 * the Athena view created by running its DDL text unchanged over it, and every named query's Trino rendering with its
 * parameters bound in order. Its results must equal the local DuckDB rendering's, row for row.
 */
let lake: QueryTestLake;
let local: LakeDb;
let instance: DuckDBInstance;
let athena: DuckDBConnection;

beforeAll(async () => {
  lake = buildQueryTestLake({ messages: 300 });
  local = await openLake(lake.dir);
  // Both sides read tables loaded once (the files are read again by every query otherwise); the local side keeps
  // its view's rows, the Athena side builds its own with the view DDL.
  await local.connection.run('CREATE TEMP TABLE events AS SELECT * FROM main.events');
  ({ instance, athena } = await athenaOnDuckDb(lake.dir));
});

afterAll(() => {
  athena?.closeSync();
  instance?.closeSync();
  local?.close();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

async function runTrino(name: string, raw: Record<string, string>, tenant: string | null): Promise<QueryRow[]> {
  const q = NAMED_QUERIES.get(name)!;
  const values = validateParams(q, raw, { tenant });
  const { sql, names } = trinoSql(q, values);
  const reader = await athena.runAndReadAll(sql, names.map((n) => values[n]) as never);
  return reader.getRowObjectsJS().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toPlain(v)])));
}

const CASES: { raw: Record<string, string>; tenant: string | null }[] = [
  { raw: {}, tenant: null },
  { raw: {}, tenant: 'acme' },
  { raw: { from: '2026-05-02T06:00:00Z', to: '2026-05-03T18:30:00Z' }, tenant: null },
  { raw: { from: '2026-05-02', to: '2026-05-03' }, tenant: EDGE_TENANT },
  { raw: { to: '2026-05-01T23:59:59.999Z' }, tenant: 'globex' },
];

const EXTRA: Record<string, Record<string, string>[]> = {
  'campaign-report': [{ campaign: 'edge-launch' }],
  'domain-deliverability': [{ provider: 'Yahoo' }, { provider: 'other' }],
  'bounce-breakdown': [{ top: '1' }],
  'bounced-recipients': [{ event_type: 'bounce' }],
  unsubscribes: [{ campaign: 'edge-launch' }],
};

describe("the Athena view and every named query's Trino rendering give the local results", () => {
  it('the view from the Athena DDL holds one row per event_id, the duplicate delivery dropped', async () => {
    const rows = (await athena.runAndReadAll('SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM events'))
      .getRowObjectsJS()
      .map((r) => [Number(r.n), Number(r.d)]);
    expect(rows).toEqual([[lake.rows.length, lake.rows.length]]);
    const raw = (await athena.runAndReadAll('SELECT count(*) AS n FROM events_raw')).getRowObjectsJS();
    expect(Number(raw[0]!.n)).toBe(lake.rows.length + lake.duplicates);
  });

  for (const q of NAMED_QUERIES.values()) {
    it(`${q.name}: same rows on both renderings, for every scope and range`, async () => {
      const base: Record<string, string> = q.params.some((p) => p.required) ? { message_id: EDGE_MESSAGE_ID } : {};
      const cases = [...CASES, ...(EXTRA[q.name] ?? []).map((raw) => ({ raw, tenant: null }))];
      let nonEmpty = 0;
      for (const c of cases) {
        const raw = { ...base, ...c.raw };
        const want = await runNamedQuery(local, q.name, raw, { tenant: c.tenant });
        const got = await runTrino(q.name, raw, c.tenant);
        expect(got, `${q.name} ${JSON.stringify(c)}`).toEqual(want);
        if (want.length > 0) nonEmpty++;
      }
      expect(nonEmpty, 'cases that return rows').toBeGreaterThanOrEqual(3);
    });
  }

  it('an injection attempt in any string parameter of the Trino rendering matches nothing and changes nothing', async () => {
    const before = await runTrino('tenant-summary', {}, null);
    for (const q of NAMED_QUERIES.values()) {
      for (const spec of q.params.filter((p) => p.type === 'string')) {
        for (const attack of ["x' OR '1'='1", "'; DROP VIEW events; --", "') OR TRUE --"]) {
          const base: Record<string, string> = q.params.some((p) => p.required && p.name !== spec.name)
            ? { message_id: EDGE_MESSAGE_ID }
            : {};
          const rows =
            spec.name === 'tenant'
              ? await runTrino(q.name, base, attack)
              : await runTrino(q.name, { ...base, [spec.name]: attack }, null);
          expect(rows, `${q.name} ${spec.name} ${attack}`).toEqual([]);
        }
      }
    }
    expect(await runTrino('tenant-summary', {}, null)).toEqual(before);
  });
});
