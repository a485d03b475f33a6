import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dedupViewSql, type LakeDb, openLake } from '../../queries/duckdb-lake';
import { buildTestLake, type TestLake } from '../test-lake';
import { CACHE_TABLE, DuckDbLakeCache } from './duckdb-lake-cache';

let lake: TestLake;
let db: LakeDb;

function firstFile(dir: string): string {
  const events = join(dir, 'events');
  const dt = readdirSync(events)[0]!;
  const hour = readdirSync(join(events, dt))[0]!;
  return join(events, dt, hour, readdirSync(join(events, dt, hour))[0]!);
}

const count = async (sql: string) => Number((await db.query<{ n: bigint }>(sql))[0]!.n);

beforeAll(async () => {
  lake = buildTestLake({ messages: 300, start: new Date('2026-05-01T00:00:00Z'), spanHours: 6 });
  db = await openLake(lake.dir);
});

afterAll(() => {
  db?.close();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

describe('DuckDB lake cache', () => {
  it('holds exactly the rows of the deduplicated events view, and loads files that appear later, counting repeats once', async () => {
    const viewRows = await count('SELECT count(*) AS n FROM events');
    const cache = new DuckDbLakeCache(db, lake.dir, 0);
    await cache.refresh();
    expect(await count(`SELECT count(*) AS n FROM (${dedupViewSql('events_raw')})`)).toBe(viewRows);
    expect(await count(`SELECT count(*) AS n FROM ${CACHE_TABLE}`)).toBe(viewRows);
    expect(viewRows).toBe(lake.rows);

    // Firehose redelivers: the same rows in a second file must not count twice.
    const src = firstFile(lake.dir);
    copyFileSync(src, src.replace(/\.parquet$/, '-redelivered.parquet'));
    // New events in a new hour appear.
    const extra = buildTestLake({ messages: 50, start: new Date('2026-06-01T00:00:00Z'), spanHours: 1, seed: 7 });
    const target = join(lake.dir, 'events', 'dt=2026-06-01', 'hour=00');
    mkdirSync(target, { recursive: true });
    copyFileSync(firstFile(extra.dir), join(target, 'late.parquet'));
    const lateRows = Number(
      (await db.query<{ n: bigint }>(`SELECT count(*) AS n FROM read_parquet(?)`, [join(target, 'late.parquet')]))[0]!
        .n,
    );
    rmSync(extra.dir, { recursive: true, force: true });

    await cache.refresh();
    expect(await count(`SELECT count(*) AS n FROM ${CACHE_TABLE}`)).toBe(viewRows + lateRows);
    expect(await count(`SELECT count(*) - count(DISTINCT event_id) AS n FROM ${CACHE_TABLE}`)).toBe(0);
  });

  it('reloads from scratch when a loaded file disappears (compaction)', async () => {
    const cache = new DuckDbLakeCache(db, lake.dir, 0);
    await cache.refresh();
    const before = await count(`SELECT count(*) AS n FROM ${CACHE_TABLE}`);
    rmSync(join(lake.dir, 'events', 'dt=2026-06-01'), { recursive: true, force: true });
    await cache.refresh();
    const after = await count(`SELECT count(*) AS n FROM ${CACHE_TABLE}`);
    expect(after).toBeLessThan(before);
    expect(after).toBe(lake.rows);
  });
});
