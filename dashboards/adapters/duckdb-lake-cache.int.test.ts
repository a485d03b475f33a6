import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAKE_COLUMNS } from '../../ingest/lake-schema';
import { dedupViewSql, duckTimestamp, type LakeDb, openLake } from '../../queries/duckdb-lake';
import { NAMED_QUERIES } from '../../queries/named-queries';
import { buildTestLake, type TestLake } from '../test-lake';
import { CACHE_TABLE, DuckDbLakeCache } from './duckdb-lake-cache';
import { useOpenTestLake } from './open-test-lake.test-support';
import { plainRow } from './serial-lake';

function firstFile(dir: string): string {
  const events = join(dir, 'events');
  const dt = readdirSync(events)[0]!;
  const hour = readdirSync(join(events, dt))[0]!;
  return join(events, dt, hour, readdirSync(join(events, dt, hour))[0]!);
}

/**
 * Adds hour 00 of `day` to the lake: the first Parquet file of a new `messages`-message test lake (seed `seed`),
 * copied under each of `names`. Returns the hour's folder.
 */
function addHourFrom(day: string, messages: number, seed: number, names: string[]): string {
  const extra = buildTestLake({ messages, start: new Date(`${day}T00:00:00Z`), spanHours: 1, seed });
  const target = join(open.lake.dir, 'events', `dt=${day}`, 'hour=00');
  mkdirSync(target, { recursive: true });
  for (const name of names) copyFileSync(firstFile(extra.dir), join(target, name));
  rmSync(extra.dir, { recursive: true, force: true });
  return target;
}

const count = async (sql: string) => Number((await open.db.query<{ n: bigint }>(sql))[0]!.n);

const open = useOpenTestLake({ messages: 300, start: new Date('2026-05-01T00:00:00Z'), spanHours: 6 });

describe('DuckDB lake cache', () => {
  it('holds exactly the rows of the deduplicated events view, and loads files that appear later, counting repeats once', async () => {
    const viewRows = await count('SELECT count(*) AS n FROM events');
    const cache = new DuckDbLakeCache(open.db, open.lake.dir, 0);
    await cache.refresh();
    expect(await count(`SELECT count(*) AS n FROM (${dedupViewSql('events_raw')})`)).toBe(viewRows);
    expect(await count(`SELECT count(*) AS n FROM ${CACHE_TABLE}`)).toBe(viewRows);
    expect(viewRows).toBe(open.lake.rows);

    // Firehose redelivers: the same rows in a second file must not count twice.
    const src = firstFile(open.lake.dir);
    copyFileSync(src, src.replace(/\.parquet$/, '-redelivered.parquet'));
    // New events in a new hour appear.
    const target = addHourFrom('2026-06-01', 50, 7, ['late.parquet']);
    const lateRows = Number(
      (
        await open.db.query<{ n: bigint }>(`SELECT count(*) AS n FROM read_parquet(?)`, [join(target, 'late.parquet')])
      )[0]!.n,
    );

    await cache.refresh();
    expect(await count(`SELECT count(*) AS n FROM ${CACHE_TABLE}`)).toBe(viewRows + lateRows);
    expect(await count(`SELECT count(*) - count(DISTINCT event_id) AS n FROM ${CACHE_TABLE}`)).toBe(0);
  });

  it('lists the folders in the background once loaded: a new file is loaded by a call after the listing ends', async () => {
    const cache = new DuckDbLakeCache(open.db, open.lake.dir, 1);
    await cache.refresh(1_000);
    const before = await count(`SELECT count(*) AS n FROM ${CACHE_TABLE}`);
    addHourFrom('2026-06-02', 20, 8, ['later.parquet', '.being-written.parquet']);
    await cache.refresh(2_000); // starts a listing, loads nothing yet
    expect(await count(`SELECT count(*) AS n FROM ${CACHE_TABLE}`)).toBe(before);
    for (let i = 0; i < 100 && (await count(`SELECT count(*) AS n FROM ${CACHE_TABLE}`)) === before; i++) {
      await new Promise((r) => setTimeout(r, 20));
      await cache.refresh(2_000); // within the interval: loads what the listing found, starts no new one
    }
    const added = (await count(`SELECT count(*) AS n FROM ${CACHE_TABLE}`)) - before;
    expect(added).toBeGreaterThan(0);
    // The file being written (a dot name) was not loaded: only one copy's rows arrived.
    expect(await count(`SELECT count(*) - count(DISTINCT event_id) AS n FROM ${CACHE_TABLE}`)).toBe(0);
    rmSync(join(open.lake.dir, 'events', 'dt=2026-06-02'), { recursive: true, force: true });
  });

  it('lists again when a listed file is replaced before it is read (compaction meanwhile), and loads what replaced it', async () => {
    const cache = new DuckDbLakeCache(open.db, open.lake.dir, 1);
    await cache.refresh(1_000);
    const before = await count(`SELECT count(*) AS n FROM ${CACHE_TABLE}`);
    const target = addHourFrom('2026-06-03', 20, 9, ['firehose-object.parquet']);
    await cache.refresh(2_000); // starts a listing, which finds the new file
    await (cache as unknown as { listing: Promise<void> | null }).listing;
    // Compaction replaces the file after the listing and before the load.
    copyFileSync(join(target, 'firehose-object.parquet'), join(target, 'compacted.parquet'));
    rmSync(join(target, 'firehose-object.parquet'));
    const added = Number(
      (
        await open.db.query<{ n: bigint }>(`SELECT count(*) AS n FROM read_parquet(?)`, [
          join(target, 'compacted.parquet'),
        ])
      )[0]!.n,
    );
    expect(added).toBeGreaterThan(0);
    await cache.refresh(2_000);
    expect(await count(`SELECT count(*) AS n FROM ${CACHE_TABLE}`)).toBe(before + added);
    expect(await count(`SELECT count(*) - count(DISTINCT event_id) AS n FROM ${CACHE_TABLE}`)).toBe(0);
    rmSync(join(open.lake.dir, 'events', 'dt=2026-06-03'), { recursive: true, force: true });
  });

  it('reloads from scratch when a loaded file disappears (compaction)', async () => {
    const cache = new DuckDbLakeCache(open.db, open.lake.dir, 0);
    await cache.refresh();
    const before = await count(`SELECT count(*) AS n FROM ${CACHE_TABLE}`);
    rmSync(join(open.lake.dir, 'events', 'dt=2026-06-01'), { recursive: true, force: true });
    await cache.refresh();
    const after = await count(`SELECT count(*) AS n FROM ${CACHE_TABLE}`);
    expect(after).toBeLessThan(before);
    expect(after).toBe(open.lake.rows);
  });
});

describe('DuckDB lake cache: tenant-summary and daily-timeseries from the per-day aggregates', () => {
  let agg: TestLake;
  let adb: LakeDb;
  const H = 3_600_000;
  const START = Date.parse('2026-07-01T00:00:00Z');

  beforeAll(async () => {
    agg = buildTestLake({ messages: 1500, start: new Date(START), spanHours: 72, seed: 11 });
    adb = await openLake(agg.dir);
  });

  afterAll(() => {
    adb?.close();
    if (agg) rmSync(agg.dir, { recursive: true, force: true });
  });

  /** The named query itself over the cache's rows: the answer the aggregates must give. */
  async function named(name: string, p: { from: number; to: number; tenant: string | null }) {
    const q = NAMED_QUERIES.get(name)!;
    const values = q.bind({ tenant: p.tenant, from: duckTimestamp(p.from), to: duckTimestamp(p.to) });
    const reader = await adb.connection.runAndReadAll(q.sql, values as never);
    return { columns: reader.columnNames(), rows: reader.getRowObjectsJS().map(plainRow) };
  }

  const PERIODS: [string, number, number][] = [
    ['whole days', START, START + 3 * 24 * H],
    ['whole days inside the data', START + 24 * H, START + 2 * 24 * H],
    ['partial days at both ends', START + 5 * H + 1234, START + 2 * 24 * H + 17 * H],
    ['a whole day and a partial one', START + 24 * H, START + 2 * 24 * H + 3 * H],
    ['longer than the data', START - 10 * 24 * H, START + 40 * 24 * H],
  ];

  async function expectSameAsNamed(cache: DuckDbLakeCache, label: string) {
    let answered = 0;
    for (const [period, from, to] of PERIODS) {
      for (const tenant of [null, 'acme', 'umbrella', 'nobody']) {
        for (const name of ['tenant-summary', 'daily-timeseries']) {
          const p = { from, to, tenant, limit: 100_000 };
          const fast = await cache.report(name, p);
          expect(fast, `${label}: ${name} ${period}`).not.toBeNull();
          expect(fast, `${label}: ${name} ${period} ${tenant}`).toEqual(await named(name, p));
          answered += fast!.rows.length;
        }
      }
    }
    expect(answered).toBeGreaterThan(100);
  }

  it("gives exactly the named query's rows for whole and partial days, one tenant or all, and after new files", async () => {
    const cache = new DuckDbLakeCache(adb, agg.dir, 0);
    await cache.refresh();
    await expectSameAsNamed(cache, 'first load');
    // Pairs seen on several days: the opens and clicks of the first day again one and two days later, as new
    // events (new ids) in files that appear after the first load, some in days already loaded.
    const multi = Number(
      (
        await adb.query<{ n: bigint }>(
          `SELECT count(*) AS n FROM ${CACHE_TABLE} WHERE event_type IN ('open', 'click') AND event_time < ?`,
          [duckTimestamp(START + 24 * H)],
        )
      )[0]!.n,
    );
    expect(multi).toBeGreaterThan(50);
    for (const days of [1, 2]) {
      const target = join(agg.dir, 'events', `dt=later-${days}`, 'hour=00');
      mkdirSync(target, { recursive: true });
      const cols = LAKE_COLUMNS.map((c) =>
        c === 'event_id'
          ? `event_id || '-again-${days}' AS event_id`
          : c === 'event_time'
            ? `event_time + INTERVAL ${days} DAY AS event_time`
            : c,
      ).join(', ');
      await adb.connection.run(
        `COPY (SELECT ${cols} FROM ${CACHE_TABLE} WHERE event_type IN ('open', 'click') AND event_time < '${duckTimestamp(START + 24 * H)}')
         TO '${join(target, 'again.parquet').replaceAll("'", "''")}' (FORMAT parquet)`,
      );
    }
    await cache.refresh();
    const [spread] = await adb.query<{ n: bigint }>('SELECT count(*) AS n FROM pair_multi');
    expect(Number(spread!.n)).toBeGreaterThan(2 * 50);
    await expectSameAsNamed(cache, 'after new files');
    // A freshly loaded cache over the same files holds the same aggregates as the incrementally updated one.
    const snapshot = async () =>
      JSON.stringify(
        await adb.query(
          `SELECT (SELECT list(a ORDER BY a.tenant_id, a.day) FROM agg_day a) AS d,
             (SELECT list(m ORDER BY m.tenant_id, m.pair_key, m.day) FROM pair_multi m) AS m`,
        ),
        (_, v) => (typeof v === 'bigint' ? Number(v) : v),
      );
    const incremental = await snapshot();
    const again = new DuckDbLakeCache(adb, agg.dir, 0);
    await again.refresh();
    expect(await snapshot()).toBe(incremental);
  });

  it('leaves a period without a whole day to the named query', async () => {
    const cache = new DuckDbLakeCache(adb, agg.dir, 0);
    await cache.refresh();
    expect(await cache.report('tenant-summary', { from: START + H, to: START + 20 * H, tenant: null, limit: 10 })).toBe(
      null,
    );
    expect(await cache.report('campaign-report', { from: START, to: START + 72 * H, tenant: null, limit: 10 })).toBe(
      null,
    );
  });
});
