import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsLakeStore } from '../../ingest/fs-lake-store';
import { DuckDbLakeFileFinder } from '../../privacy/duckdb-lake-file-finder';
import { forgetRecipient } from '../../privacy/erase';
import { LakeEventsEraser } from '../../privacy/lake-events-eraser';
import { parseErasureRequest } from '../../privacy/request';
import { CACHE_TABLE, DuckDbLakeCache } from './duckdb-lake-cache';
import { useOpenTestLake } from './open-test-lake.test-support';

const open = useOpenTestLake({ messages: 200, start: new Date('2026-05-01T00:00:00Z'), spanHours: 4 });

describe('DuckDB lake cache and an erasure', () => {
  it('a lake file rewritten in place (same name) is loaded again: the cache forgets the address, counts unchanged', async () => {
    const cache = new DuckDbLakeCache(open.db, open.lake.dir, 0);
    await cache.refresh();
    const address = (
      await open.db.query<{ r: string }>(
        `SELECT recipient AS r FROM ${CACHE_TABLE} WHERE recipient IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
      )
    )[0]!.r;
    const before = await open.db.query(`SELECT count(*) AS n, count(DISTINCT pair_key) AS p FROM ${CACHE_TABLE}`);
    const filesBefore = readdirSync(join(open.lake.dir, 'events'), { recursive: true }).sort();
    const report = await forgetRecipient(
      parseErasureRequest({ address, reason: 'test erasure', requestedBy: 'test' }),
      {
        key: 'a-test-erasure-key-of-at-least-32-chars',
        targets: [new LakeEventsEraser(new FsLakeStore(open.lake.dir), new DuckDbLakeFileFinder(open.lake.dir))],
      },
    );
    expect(report.stores[0]!.changed).toBeGreaterThan(0);
    expect(readdirSync(join(open.lake.dir, 'events'), { recursive: true }).sort()).toEqual(filesBefore);
    await cache.refresh();
    const held = await open.db.query<{ n: bigint }>(
      `SELECT count(*) AS n FROM ${CACHE_TABLE} WHERE lower(recipient) = lower(?)`,
      [address],
    );
    expect(Number(held[0]!.n)).toBe(0);
    expect(await open.db.query(`SELECT count(*) AS n, count(DISTINCT pair_key) AS p FROM ${CACHE_TABLE}`)).toEqual(
      before,
    );
  });
});
