import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsLakeStore } from '../ingest/fs-lake-store';
import { rollUpLake } from '../ingest/rollups-writer';
import { type LakeDb, openLake } from './duckdb-lake';
import { NAMED_QUERIES } from './named-queries';
import { expectedRows } from './oracle';
import { pickWholeDays } from './rollup-split';
import { ROLLUP_TABLES } from './rollups';
import { getNamedQuery, runNamedQuery, validateParams } from './run-named-query';
import { buildRollupTestLake, forRandomCases, freshDays, type RollupTestLake } from './test-rollups';

/**
 * Every aggregate named query answered from rollups gives exactly the raw-event answer, which gives exactly the
 * oracle's (queries/oracle.ts): over seeded random periods and random valid splits, on a lake with duplicate records
 * and late events that landed after the rollups were built (their days stale, so no split may use them).
 */
let lake: RollupTestLake;
let db: LakeDb;

const AGGREGATE = [...NAMED_QUERIES.values()].filter((q) => q.rollup).map((q) => q.name);

beforeAll(async () => {
  lake = await buildRollupTestLake();
  db = await openLake(lake.dir);
  await loadIntoTables(db);
}, 60_000);

/**
 * The lake's views loaded once into tables of the same names (the files are read again by every query otherwise,
 * which would make this suite slow, not more exact): temporary tables come first in DuckDB's search path.
 */
async function loadIntoTables(lakeDb: LakeDb): Promise<void> {
  for (const t of ['events', ...ROLLUP_TABLES.map((x) => `rollup_${x.name}`)]) {
    await lakeDb.connection.run(`CREATE TEMP TABLE ${t} AS SELECT * FROM main.${t}`);
  }
}

afterAll(() => {
  db?.close();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

describe('named queries answered from rollups give the raw answer exactly (DuckDB)', () => {
  it('has a rollup rendering for every aggregate query, none for the drill-down ones', () => {
    expect(AGGREGATE.sort()).toEqual(
      [
        'bounce-breakdown',
        'campaign-report',
        'complaint-breakdown',
        'daily-timeseries',
        'domain-deliverability',
        'tenant-summary',
        'unsubscribes',
      ].sort(),
    );
    expect(NAMED_QUERIES.get('bounced-recipients')!.rollup).toBeUndefined();
    expect(NAMED_QUERIES.get('message-timeline')!.rollup).toBeUndefined();
  });

  it('the lake holds duplicates and late events: the late days are stale, every other day is fresh', () => {
    expect(lake.days.length).toBeGreaterThanOrEqual(6);
    expect(lake.stale.size).toBe(2);
    expect([...lake.fresh].sort()).toEqual(lake.days.filter((d) => !lake.stale.has(d) && d !== lake.leftover));
  });

  it('a split that reads a stale day differs from the raw answer (the late events are in the raw rows only)', async () => {
    const day = [...lake.stale][0]!;
    const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const raw = await runNamedQuery(db, 'tenant-summary', {});
    const stale = await runNamedQuery(db, 'tenant-summary', {}, { tenant: null, wholeDays: { from: day, to: next } });
    expect(stale).not.toEqual(raw);
    expect(raw).toEqual(expectedRows('tenant-summary', lake.rows, { tenant: null, from: null, to: null }));
  });

  for (const name of AGGREGATE) {
    it(`${name}: rollups + edges == raw == oracle over random periods and splits`, async () => {
      const seen = await forRandomCases(lake, name, 64, name.length * 7919, async (c, label) => {
        const raw = await runNamedQuery(db, name, c.raw, { tenant: c.tenant });
        expect(raw, label).toEqual(c.want);
        expect(await runNamedQuery(db, name, c.raw, { tenant: c.tenant, wholeDays: c.split }), label).toEqual(raw);
      });
      expect(seen.withWholeDays, 'cases read from rollups').toBeGreaterThanOrEqual(16);
      expect(seen.nonEmpty, 'cases with rows').toBeGreaterThanOrEqual(24);
    });
  }

  it('the split the server picks (the longest fresh run) reads rollups and gives the raw answer', async () => {
    const [from, to] = [`${lake.days[0]}T05:30:00Z`, `${lake.days.at(-1)}T18:00:00Z`];
    const values = validateParams(getNamedQuery('daily-timeseries'), { from, to });
    const split = pickWholeDays(values.from as string, values.to as string, lake.fresh);
    expect(split).not.toBeNull();
    for (const name of AGGREGATE) {
      const raw = await runNamedQuery(db, name, { from, to });
      expect(await runNamedQuery(db, name, { from, to }, { tenant: null, wholeDays: split }), name).toEqual(raw);
    }
  });

  it('once the stale days are rolled up again, splits over them give the raw answer', async () => {
    const summary = await rollUpLake(new FsLakeStore(lake.dir), { closedBefore: new Date('2100-01-01T00:00:00Z') });
    expect(summary.rebuilt).toBe(lake.stale.size);
    expect(summary.filesDeleted, 'the old builds and the leftover').toBe(lake.stale.size * 5 + 1);
    expect([...(await freshDays(lake.dir))].sort()).toEqual(lake.days);
    const rebuilt = await openLake(lake.dir);
    await loadIntoTables(rebuilt);
    try {
      const all = { from: lake.days[0]!, to: lake.days.at(-1)! };
      for (const name of AGGREGATE) {
        const raw = await runNamedQuery(rebuilt, name, {});
        expect(await runNamedQuery(rebuilt, name, {}, { tenant: null, wholeDays: all }), name).toEqual(raw);
      }
    } finally {
      rebuilt.close();
    }
  });

  it('refuses whole days from a caller, and a split outside the period from the server', async () => {
    await expect(runNamedQuery(db, 'tenant-summary', { day_from: '2026-05-02' })).rejects.toThrow(
      /day_from is set by the server/,
    );
    await expect(
      runNamedQuery(
        db,
        'tenant-summary',
        { from: '2026-05-02T12:00:00Z' },
        {
          tenant: null,
          wholeDays: { from: '2026-05-02', to: '2026-05-03' },
        },
      ),
    ).rejects.toThrow(/not inside the period/);
  });
});
