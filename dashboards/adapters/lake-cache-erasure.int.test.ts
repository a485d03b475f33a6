import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsLakeStore } from '../../ingest/fs-lake-store';
import { DuckDbLakeFileFinder } from '../../privacy/duckdb-lake-file-finder';
import { forgetRecipient } from '../../privacy/erase';
import { LakeEventsEraser } from '../../privacy/lake-events-eraser';
import { parseErasureRequest } from '../../privacy/request';
import { type LakeDb, openLake } from '../../queries/duckdb-lake';
import { buildTestLake, type TestLake } from '../test-lake';
import { CACHE_TABLE, DuckDbLakeCache } from './duckdb-lake-cache';

let lake: TestLake;
let db: LakeDb;

beforeAll(async () => {
  lake = buildTestLake({ messages: 200, start: new Date('2026-05-01T00:00:00Z'), spanHours: 4 });
  db = await openLake(lake.dir);
});

afterAll(() => {
  db?.close();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

describe('DuckDB lake cache and an erasure', () => {
  it('a lake file rewritten in place (same name) is loaded again: the cache forgets the address, counts unchanged', async () => {
    const cache = new DuckDbLakeCache(db, lake.dir, 0);
    await cache.refresh();
    const address = (
      await db.query<{ r: string }>(
        `SELECT recipient AS r FROM ${CACHE_TABLE} WHERE recipient IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
      )
    )[0]!.r;
    const before = await db.query(`SELECT count(*) AS n, count(DISTINCT pair_key) AS p FROM ${CACHE_TABLE}`);
    const filesBefore = readdirSync(join(lake.dir, 'events'), { recursive: true }).sort();
    const report = await forgetRecipient(
      parseErasureRequest({ address, reason: 'test erasure', requestedBy: 'test' }),
      {
        key: 'a-test-erasure-key-of-at-least-32-chars',
        targets: [new LakeEventsEraser(new FsLakeStore(lake.dir), new DuckDbLakeFileFinder(lake.dir))],
      },
    );
    expect(report.stores[0]!.changed).toBeGreaterThan(0);
    expect(readdirSync(join(lake.dir, 'events'), { recursive: true }).sort()).toEqual(filesBefore);
    await cache.refresh();
    const held = await db.query<{ n: bigint }>(
      `SELECT count(*) AS n FROM ${CACHE_TABLE} WHERE lower(recipient) = lower(?)`,
      [address],
    );
    expect(Number(held[0]!.n)).toBe(0);
    expect(await db.query(`SELECT count(*) AS n, count(DISTINCT pair_key) AS p FROM ${CACHE_TABLE}`)).toEqual(before);
  });
});
