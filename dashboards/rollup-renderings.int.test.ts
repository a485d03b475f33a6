import { rmSync } from 'node:fs';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../local/seeded-random';
import { athenaOnDuckDb } from '../queries/athena/athena-on-duckdb.test-support';
import { trinoSql } from '../queries/athena/statement';
import { duckTimestamp, type LakeDb, openLake } from '../queries/duckdb-lake';
import { NAMED_QUERIES, type NamedQuery } from '../queries/named-queries';
import { textKeySql } from '../queries/rollups';
import { buildQueryTestLake, EDGE_TENANT, type QueryTestLake } from '../queries/test-lake';
import { writeRollups } from './adapters/rollup-lake.test-support';
import { plainRow } from './adapters/serial-lake';
import { dayText, rollupRenderings } from './report-split';

/**
 * The exactness rule of the rollup renderings: for random periods and ANY valid split (whole days from rollups,
 * the rest from raw events), both renderings give exactly the raw-only named query's rows, on a lake with late
 * events (a click the day after its mail) and a partition delivered twice. The DuckDB rendering runs on the lake
 * opened locally with the rollup tables loaded beside it; the Trino rendering runs on DuckDB playing Athena (the
 * Glue-shaped table and the Athena view's DDL, as queries/athena/trino-rendering.int.test.ts does), with one textual
 * substitution: Trino's pair-key expression (from_big_endian_64, to_utf8: Trino-only functions) is replaced by
 * DuckDB's expression of the same 63-bit key of the same text (queries/rollups.ts textKeySql).
 */
const DAY = 86_400_000;
const START = Date.parse('2026-05-01T00:00:00Z');
const DAYS = ['2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04'];

let lake: QueryTestLake;
let local: LakeDb;
let instance: DuckDBInstance;
let athena: DuckDBConnection;

beforeAll(async () => {
  lake = buildQueryTestLake({ messages: 400, spanHours: 72 });
  await writeRollups(lake.dir, DAYS);
  // The local side: openLake's rollup_<table> views over each day's current build.
  local = await openLake(lake.dir);
  // The Athena side: the Glue-shaped tables, the Athena view's DDL, the rollup tables.
  ({ instance, athena } = await athenaOnDuckDb(lake.dir, { rollups: true }));
});

afterAll(() => {
  athena?.closeSync();
  instance?.closeSync();
  local?.close();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

type Values = Record<string, string | number | null>;

async function runLocal(q: NamedQuery, values: Values) {
  const reader = await local.connection.runAndReadAll(q.sql, q.bind(values) as never);
  return reader.getRowObjectsJS().map(plainRow);
}

/**
 * The Trino text with its one Trino-only expression (the 63-bit key of a text: pair and recipient keys) replaced by
 * DuckDB's key of the same text.
 */
function trinoOnDuckDb(sql: string): string {
  const [before, after] = textKeySql('trino', '\u0000').split('\u0000') as [string, string];
  let out = sql;
  for (let at = out.indexOf(before); at >= 0; at = out.indexOf(before)) {
    const end = out.indexOf(after, at + before.length);
    if (end < 0) throw new Error('the Trino key expression changed shape');
    out = `${out.slice(0, at)}${textKeySql('duckdb', out.slice(at + before.length, end))}${out.slice(end + after.length)}`;
  }
  return out;
}

async function runTrino(q: NamedQuery, values: Values) {
  const { sql, names } = trinoSql(q, values);
  const reader = await athena.runAndReadAll(trinoOnDuckDb(sql), names.map((n) => values[n]) as never);
  return reader.getRowObjectsJS().map(plainRow);
}

describe('rollup renderings give the raw-only answer for any split', () => {
  it('DuckDB and Trino renderings, random periods and splits, all tenants and one', async () => {
    const rng = new SeededRandom(17);
    const random = () => rng.next();
    const extra: Record<string, Values> = { 'campaign-report': { campaign: null }, 'domain-deliverability': {} };
    let compared = 0;
    let fromRollups = 0;
    for (let i = 0; i < 14; i++) {
      // A period from before the data to after it, its ends anywhere (mid-hour, mid-day, on a midnight).
      const onMidnight = random() < 0.3;
      const a = START - DAY + Math.floor(random() * 5 * DAY);
      const b = a + Math.floor(random() * 4 * DAY) + 1;
      const from = onMidnight ? Math.floor(a / DAY) * DAY : a;
      const to = onMidnight ? Math.ceil(b / DAY) * DAY : b;
      // Any run of whole days inside it (possibly none) may come from rollups.
      const first = Math.ceil(from / DAY) * DAY;
      const last = Math.floor(to / DAY) * DAY;
      const wholeDays = Math.max(0, (last - first) / DAY);
      const startAt = first + Math.floor(random() * (wholeDays + 1)) * DAY;
      const endAt = startAt + Math.floor(random() * ((last - startAt) / DAY + 1)) * DAY;
      const tenant = [null, 'acme', EDGE_TENANT, 'globex'][i % 4]!;
      for (const [name, rendering] of rollupRenderings(NAMED_QUERIES)) {
        const named = NAMED_QUERIES.get(name)!;
        const base: Values = { tenant, ...(extra[name] ?? {}) };
        if (name === 'bounce-breakdown') base.top = 5;
        const raw = await runLocal(named, { ...base, from: duckTimestamp(from), to: duckTimestamp(to) });
        const split: Values = {
          ...base,
          from: duckTimestamp(from),
          to: duckTimestamp(to),
          day_from: dayText(startAt),
          day_to: dayText(endAt),
        };
        const label = `${name} ${new Date(from).toISOString()}..${new Date(to).toISOString()} days ${split.day_from}..${split.day_to} ${tenant}`;
        expect(await runLocal(rendering, split), `duckdb ${label}`).toEqual(raw);
        expect(await runTrino(rendering, split), `trino ${label}`).toEqual(raw);
        compared += raw.length;
        if (endAt > startAt) fromRollups++;
      }
    }
    expect(compared).toBeGreaterThan(100);
    expect(fromRollups).toBeGreaterThan(10);
  });
});
