import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsLakeStore } from '../../ingest/fs-lake-store';
import { ROLLUP_TABLES } from '../../ingest/rollups';
import {
  ROLLUP_LAYOUT,
  ROLLUP_LAYOUT_KEY,
  rollUpLake,
  rollupBuildName,
  rollupDays,
  rollupKey,
} from '../../ingest/rollups-writer';
import { openLake } from '../../queries/duckdb-lake';
import { NAMED_QUERIES } from '../../queries/named-queries';
import { rollupRenderings } from '../report-split';
import { buildTestLake, type TestLake } from '../test-lake';
import { createDuckDbReportEngine, createDuckDbRollupReportEngine } from './duckdb-report-engine';
import { DuckDbReportsStore } from './duckdb-reports-store';
import { lakeRolledUpDays } from './lake-rolled-up-days';
import { writeRollups } from './rollup-lake.test-support';

const H = 3_600_000;
const START = Date.parse('2026-07-01T00:00:00Z');
const OLD = '2026-07-01';
let lake: TestLake;

/**
 * Turns a day's current build into one of rollup layout 1, as the writer wrote it before tenant-bounded row groups:
 * the same rows, each table one row group without the layout key, under a build name whose digest is layout 1's.
 */
async function downgrade(lakeDir: string, day: string): Promise<string> {
  const store = new FsLakeStore(lakeDir);
  const state = (await rollupDays(store, day)).get(day)!;
  const old = rollupBuildName(state.raw, new Date(Date.now() - 60_000), '1');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    for (const t of ROLLUP_TABLES) {
      const current = join(lakeDir, rollupKey(t.name, day, state.build!));
      await conn.run(
        `COPY (SELECT * FROM read_parquet('${current}', hive_partitioning = false)) TO '${join(lakeDir, rollupKey(t.name, day, old))}' (FORMAT parquet, COMPRESSION zstd)`,
      );
      rmSync(current);
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return old;
}

beforeAll(async () => {
  lake = buildTestLake({ messages: 1200, start: new Date(START), spanHours: 72, seed: 5 });
  await writeRollups(lake.dir, ['2026-07-01', '2026-07-02']);
});

afterAll(() => {
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

/** Every metric report and the drill-down, all tenants and one, over periods that take the old day whole, equal raw. */
async function expectSameAsRaw(store: DuckDbReportsStore, label: string): Promise<Set<string>> {
  const engine = createDuckDbRollupReportEngine(store);
  const db = await openLake(lake.dir);
  const ref = createDuckDbReportEngine(db);
  const sources = new Set<string>();
  let rows = 0;
  try {
    for (const [from, to] of [
      [START, START + 2 * 24 * H],
      [START + 5 * H, START + 2 * 24 * H + 7 * H],
    ] as const) {
      for (const tenant of [null, 'umbrella']) {
        for (const name of [...rollupRenderings(NAMED_QUERIES).keys(), 'bounced-recipients']) {
          const p = { from, to, tenant, limit: 100_000 };
          const got = await engine.run(name, p);
          expect({ columns: got.columns, rows: got.rows }, `${label}: ${name} ${from} ${tenant}`).toEqual(
            await ref.run(name, p),
          );
          sources.add(got.basis!.source);
          rows += got.rows.length;
        }
      }
    }
  } finally {
    db.close();
  }
  expect(rows).toBeGreaterThan(100);
  return sources;
}

describe('a rollup of an older layout', () => {
  it('is stale for both engines until the next compaction builds it again, once; answers stay exact throughout', async () => {
    const old = await downgrade(lake.dir, OLD);
    const fs = new FsLakeStore(lake.dir);
    const state = (await rollupDays(fs, OLD)).get(OLD)!;
    expect(state.build).toBe(old);
    expect(state.fresh).toBe(false);
    // The Athena engine's rolled-up days leave it out, as any stale day; the other day is still read from rollups.
    const athenaDays = lakeRolledUpDays(fs, { cacheMs: 0 });
    expect([...(await athenaDays(START, START + 3 * 24 * H))]).toEqual(['2026-07-02']);

    // The local engine reads it from raw events, and every answer equals the raw one.
    const store = await DuckDbReportsStore.open({ lakeDir: lake.dir, minIntervalMs: 0 });
    try {
      await store.refresh();
      expect(store.rolledUp(START)).toBe(false);
      expect(store.rolledUp(START + 24 * H)).toBe(true);
      await expectSameAsRaw(store, 'old layout');

      // The compaction's rollup step (what `sesflow compact` runs) builds it again, in the current layout.
      const closed = new Date(START + 2 * 24 * H);
      expect(await rollUpLake(fs, { closedBefore: closed })).toMatchObject({ built: 0, rebuilt: 1, fresh: 1 });
      expect(await rollUpLake(fs, { closedBefore: closed })).toMatchObject({ built: 0, rebuilt: 0, fresh: 2 });
      const rebuilt = (await rollupDays(fs, OLD)).get(OLD)!;
      expect(rebuilt.fresh).toBe(true);
      expect(rebuilt.build).not.toBe(old);
      expect(readdirSync(join(lake.dir, 'rollups', 'daily', `dt=${OLD}`))).toEqual([rebuilt.build]);
      const db = await openLake(lake.dir);
      try {
        const kv = await db.query<{ v: string }>(
          `SELECT CAST(value AS VARCHAR) AS v FROM parquet_kv_metadata('${join(lake.dir, rollupKey('daily', OLD, rebuilt.build!))}') WHERE CAST(key AS VARCHAR) = '${ROLLUP_LAYOUT_KEY}'`,
        );
        expect(kv.map((r) => r.v)).toEqual([ROLLUP_LAYOUT]);
      } finally {
        db.close();
      }
      expect([...(await athenaDays(START, START + 3 * 24 * H))].sort()).toEqual(['2026-07-01', '2026-07-02']);
      await store.refresh();
      expect(store.rolledUp(START)).toBe(true);
      const sources = await expectSameAsRaw(store, 'rebuilt');
      expect(sources.has('rollups')).toBe(true);
    } finally {
      store.close();
    }
  }, 300_000);
});
