import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../local/seeded-random';
import { duckTimestamp, type LakeDb, openLake } from '../../queries/duckdb-lake';
import { NAMED_QUERIES } from '../../queries/named-queries';
import { buildQueryTestLake, EDGE_TENANT, type QueryTestLake } from '../../queries/test-lake';
import { dayText } from '../report-split';
import { createDuckDbRollupReportEngine } from './duckdb-report-engine';
import { DuckDbReportsStore } from './duckdb-reports-store';
import { updateDerived, WHOLE_DAY_RENDERINGS } from './duckdb-rollup-derived';
import { writeRollups } from './rollup-lake.test-support';
import { plainRow } from './serial-lake';

/**
 * The engine's derived tables (rollup_tenant_days, rollup_pair_firsts) answer tenant-summary and daily-timeseries
 * over whole days exactly as the raw events do, on a lake whose pairs are opened and clicked on several days (late
 * events, a partition delivered twice), and a day reloaded alone leaves them as a full rebuild would.
 */
const DAY = 86_400_000;
const START = Date.parse('2026-05-01T00:00:00Z');
const DAYS = ['2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04'];

let lake: QueryTestLake;
let raw: LakeDb;
let store: DuckDbReportsStore;

beforeAll(async () => {
  lake = buildQueryTestLake({ messages: 400, spanHours: 72 });
  await writeRollups(lake.dir, DAYS);
  raw = await openLake(lake.dir);
  store = await DuckDbReportsStore.open({ lakeDir: lake.dir, minIntervalMs: 0 });
  await store.refresh();
});

afterAll(() => {
  store?.close();
  raw?.close();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

type Values = Record<string, string | number | null>;

async function rows(conn: LakeDb['connection'], sql: string, params: unknown[]) {
  return (await conn.runAndReadAll(sql, params as never)).getRowObjectsJS().map(plainRow);
}

/** The derived tables' rows, in a fixed order. */
async function derivedRows() {
  const c = store.connection;
  return {
    days: await rows(c, 'SELECT * FROM rollup_tenant_days ORDER BY ALL', []),
    firsts: await rows(c, 'SELECT * FROM rollup_pair_firsts ORDER BY ALL', []),
  };
}

describe('derived tables of the reports engine', () => {
  it('hold pairs seen on several days (so a period must count them once)', async () => {
    const [r] = await rows(
      store.connection,
      'SELECT count(*) FILTER (WHERE prev IS NOT NULL) AS again, count(*) AS n FROM rollup_pair_firsts',
      [],
    );
    expect(Number(r!.again)).toBeGreaterThan(0);
    expect(Number(r!.n)).toBeGreaterThan(Number(r!.again));
  });

  it('answer tenant-summary and daily-timeseries over any run of whole days as the raw events do', async () => {
    const rng = new SeededRandom(29);
    let compared = 0;
    for (let i = 0; i < 24; i++) {
      const a = Math.floor(rng.next() * (DAYS.length + 1));
      const b = a + 1 + Math.floor(rng.next() * (DAYS.length + 1 - a));
      const from = START - DAY + a * DAY;
      const to = START - DAY + b * DAY;
      const tenant = [null, 'acme', EDGE_TENANT, 'globex'][i % 4]!;
      for (const [name, q] of WHOLE_DAY_RENDERINGS) {
        const named = NAMED_QUERIES.get(name)!;
        const period: Values = { tenant, from: duckTimestamp(from), to: duckTimestamp(to) };
        const want = await rows(raw.connection, named.sql, named.bind(period));
        const values = { ...period, day_from: dayText(from), day_to: dayText(to) };
        const got = await rows(store.connection, q.sql, q.bind(values));
        expect(got, `${name} ${dayText(from)}..${dayText(to)} ${tenant}`).toEqual(want);
        compared += want.length;
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('are what a full rebuild gives after some days are reloaded alone', async () => {
    const full = await derivedRows();
    await store.connection.run('BEGIN TRANSACTION');
    await updateDerived(store.connection, 'pairs', ['2026-05-03']);
    await updateDerived(store.connection, 'daily', ['2026-05-02', '2026-05-04']);
    await store.connection.run('COMMIT');
    expect(await derivedRows()).toEqual(full);
    // A day gone from the rollup table: its derived rows go, and the later days' `prev` no longer points at it.
    await store.connection.run("DELETE FROM rollup_pairs WHERE dt = '2026-05-02'");
    await updateDerived(store.connection, 'pairs', ['2026-05-02']);
    const without = await derivedRows();
    await updateDerived(store.connection, 'pairs', null);
    expect(without).toEqual(await derivedRows());
    expect(without.firsts.some((r) => r.dt === '2026-05-02' || r.prev === '2026-05-02')).toBe(false);
    expect(without.firsts).not.toEqual(full.firsts);
  });
});

describe("derived tables kept in the engine's DuckDB file", () => {
  it('are rebuilt at open when they were not derived from the builds the file holds (a crash between the two)', async () => {
    const file = join(lake.dir, 'engine.duckdb');
    const first = await DuckDbReportsStore.open({ lakeDir: lake.dir, dbFile: file, minIntervalMs: 0 });
    await first.refresh();
    const want = await rows(first.connection, 'SELECT * FROM rollup_pair_firsts ORDER BY ALL', []);
    // As if the process stopped after loading a day and before deriving from it.
    await first.connection.run("DELETE FROM rollup_pair_firsts WHERE dt = '2026-05-03'");
    await first.connection.run("UPDATE _derived_state SET digest = 'older'");
    first.close();
    const again = await DuckDbReportsStore.open({ lakeDir: lake.dir, dbFile: file, minIntervalMs: 0 });
    try {
      expect(want.length).toBeGreaterThan(0);
      expect(await rows(again.connection, 'SELECT * FROM rollup_pair_firsts ORDER BY ALL', [])).toEqual(want);
    } finally {
      again.close();
    }
  });
});

describe('the lake listed in the background', () => {
  it('a request sees a file that arrived more than minIntervalMs before it, even after a quiet spell', async () => {
    const own = await DuckDbReportsStore.open({ lakeDir: lake.dir, minIntervalMs: 200 });
    const hour = join(lake.dir, 'events', 'dt=2026-05-02', 'hour=10');
    const range = [{ from: START + DAY + 10 * 3_600_000, to: START + DAY + 11 * 3_600_000 }];
    const added = join(hour, 'late-arrival.parquet');
    try {
      await own.refresh();
      const before = own.rawFiles(range).key;
      expect(before).not.toBe('');
      copyFileSync(join(hour, readdirSync(hour)[0]!), added);
      await new Promise((r) => setTimeout(r, 300));
      await own.refresh();
      expect(own.rawFiles(range).key).not.toBe(before);
      expect(own.rawFiles(range).key).toContain('late-arrival.parquet');
    } finally {
      own.close();
      rmSync(added, { force: true });
    }
  });
});

describe('the reports engine over whole days', () => {
  it('closes while the derived tables may still be updated in the background, without a failure', async () => {
    const own = await DuckDbReportsStore.open({ lakeDir: lake.dir, minIntervalMs: 60_000 });
    await own.refresh();
    own.close();
    // The queued update stops (or had finished): it neither throws nor leaves a rejection behind.
    await expect(own.derivedSettled()).resolves.toBeUndefined();
    expect(() => own.rolledUp(START)).not.toThrow();
  });

  it('answers from the rollup renderings until the derived tables, updated in the background, catch up', async () => {
    const own = await DuckDbReportsStore.open({ lakeDir: lake.dir, minIntervalMs: 60_000 });
    try {
      const engine = createDuckDbRollupReportEngine(own);
      const p = { from: START, to: START + 3 * DAY, tenant: null, limit: 10_000 };
      const first = await engine.run('tenant-summary', p);
      await own.derivedSettled();
      expect(own.derivedCurrent()).toBe(true);
      let rawReads = 0;
      const withRaw = own.withRawEvents.bind(own);
      own.withRawEvents = (ranges, task) => {
        rawReads++;
        return withRaw(ranges, task);
      };
      expect(await engine.run('tenant-summary', p)).toEqual(first);
      expect(rawReads).toBe(0);
      expect(first.rows.length).toBeGreaterThan(0);
    } finally {
      own.close();
    }
  });

  it('answers from the derived tables, whose rows are the rollup renderings’', async () => {
    const fresh = await DuckDbReportsStore.open({ lakeDir: lake.dir, minIntervalMs: 0 });
    try {
      // Counts the requests that read raw events (the rollup renderings read `events` for the edges, even none).
      let rawReads = 0;
      const withRaw = fresh.withRawEvents.bind(fresh);
      fresh.withRawEvents = (ranges, task) => {
        rawReads++;
        return withRaw(ranges, task);
      };
      const fast = createDuckDbRollupReportEngine(fresh);
      const general = createDuckDbRollupReportEngine(fresh, { wholeDays: new Map() });
      for (const tenant of [null, 'acme']) {
        for (const name of WHOLE_DAY_RENDERINGS.keys()) {
          const p = { from: START + DAY, to: START + 3 * DAY, tenant, limit: 10_000 };
          const before = rawReads;
          const got = await fast.run(name, p);
          // No raw read: the derived tables answered.
          expect(rawReads).toBe(before);
          expect(got.basis!.source).toBe('rollups');
          const want = await general.run(name, p);
          expect(rawReads).toBe(before + 1);
          expect(got.rows.length).toBeGreaterThan(0);
          expect(got).toEqual(want);
        }
      }
    } finally {
      fresh.close();
    }
  });
});
