import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestLake, type TestLake } from '../dashboards/test-lake';
import { type LakeDb, openLake } from '../queries/duckdb-lake';
import { runNamedQuery } from '../queries/run-named-query';
import { compactLake, listPartitions } from './compact';
import { COMPACT_LAYOUT, COMPACT_LAYOUT_KEY, eventTypeSectionSql, PAIR_KEY_SQL } from './compact-layout';

let lake: TestLake;

beforeAll(() => {
  lake = buildTestLake({ messages: 600, start: new Date('2026-08-01T00:00:00Z'), spanHours: 30, seed: 5 });
});

afterAll(() => {
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

const parquetIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.parquet'));

async function withLake<T>(fn: (db: LakeDb) => Promise<T>): Promise<T> {
  const db = await openLake(lake.dir);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

describe('compaction layout: sorted by event-type section, tenant and time, pair_key', () => {
  it('writes every partition as one file sorted by (event-type section, tenant, event time) with the pair key of each open and click', async () => {
    // Half the partitions get a second copy of their file first (Firehose redelivery): the pair keys of files with
    // and without the column must agree, before and after compaction.
    const parts = listPartitions(lake.dir);
    for (const p of parts.filter((_, i) => i % 2 === 0)) {
      const f = parquetIn(p)[0]!;
      copyFileSync(join(p, f), join(p, `redelivered-${f}`));
    }
    const before = await withLake((db) => runNamedQuery(db, 'tenant-summary', {}));
    const summary = await compactLake(lake.dir);
    expect(summary.duplicatesDropped).toBeGreaterThan(0);
    expect(summary.filesAfter).toBe(parts.length);
    const after = await withLake((db) => runNamedQuery(db, 'tenant-summary', {}));
    expect(after).toEqual(before);
    expect(after.some((r) => Number(r.unique_opens) > 0 && Number(r.unique_clicks) > 0)).toBe(true);

    await withLake(async (db) => {
      const files = parts.map((p) => join(p, parquetIn(p)[0]!));
      const list = `[${files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ')}]`;
      const [check] = await db.query<Record<string, bigint>>(
        `SELECT count(*) AS n,
           count(*) FILTER (WHERE pair_key IS DISTINCT FROM (${PAIR_KEY_SQL})) AS wrong_keys,
           count(*) FILTER (WHERE (pair_key IS NULL) <> (event_type NOT IN ('open', 'click'))) AS misplaced_keys,
           count(*) FILTER (WHERE NOT in_order) AS out_of_order
         FROM (
           SELECT *, (${eventTypeSectionSql()}, tenant_id, event_time)
               >= lag((${eventTypeSectionSql()}, tenant_id, event_time)) OVER (PARTITION BY filename ORDER BY file_row_number)
             IS NOT FALSE AS in_order
           FROM read_parquet(${list}, filename = true, file_row_number = true))`,
      );
      expect(Number(check!.n)).toBe(lake.rows);
      expect([Number(check!.wrong_keys), Number(check!.misplaced_keys), Number(check!.out_of_order)]).toEqual([
        0, 0, 0,
      ]);
      const layouts = await db.query<{ v: string }>(
        `SELECT DISTINCT CAST(value AS VARCHAR) AS v FROM parquet_kv_metadata(${list}) WHERE CAST(key AS VARCHAR) = '${COMPACT_LAYOUT_KEY}'`,
      );
      expect(layouts.map((r) => r.v)).toEqual([COMPACT_LAYOUT]);
    });
  });

  it('leaves a compacted file of the current layout alone, and rewrites one of an older layout', async () => {
    const parts = listPartitions(lake.dir);
    const names = () => parts.map((p) => parquetIn(p)[0]);
    const first = names();
    const again = await compactLake(lake.dir);
    expect(again.duplicatesDropped).toBe(0);
    expect(names()).toEqual(first);
    // An older compacted file (no layout metadata, no pair_key): the next compaction brings it to the current layout.
    const old = join(parts[0]!, parquetIn(parts[0]!)[0]!);
    await withLake(async (db) => {
      await db.connection.run(
        `COPY (SELECT * EXCLUDE (pair_key) FROM read_parquet('${old}')) TO '${old}.old' (FORMAT parquet)`,
      );
    });
    rmSync(old);
    copyFileSync(`${old}.old`, old);
    rmSync(`${old}.old`);
    const before = await withLake((db) => runNamedQuery(db, 'daily-timeseries', {}));
    await compactLake(lake.dir);
    expect(parquetIn(parts[0]!)).toHaveLength(1);
    expect(parquetIn(parts[0]!)[0]).not.toBe(first[0]);
    expect(names().slice(1)).toEqual(first.slice(1));
    expect(await withLake((db) => runNamedQuery(db, 'daily-timeseries', {}))).toEqual(before);
  });
});
