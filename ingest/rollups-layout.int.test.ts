import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_ROW_GROUP_ROWS } from './compact-layout';
import { FsLakeStore } from './fs-lake-store';
import type { NormalisedEvent } from './normalise';
import { encodeParquet } from './parquet-writer';
import { ROLLUP_TABLES } from './rollups';
import { ROLLUP_LAYOUT, ROLLUP_LAYOUT_KEY, rollUpLake, rollupDays, rollupKey } from './rollups-writer';
import { testEvent, testMail, testOpen } from './test-events';
import { expectRollupsEqualBuildSql } from './test-rollups';
import { transformRecord } from './transform';

const DAY = '2026-05-01';
let dir: string;

const rowOf = (record: Record<string, unknown>): NormalisedEvent => {
  const out = transformRecord(`${JSON.stringify(record)}\n`);
  if (!out.ok) throw new Error(out.reason);
  return out.rows[0]!;
};

/**
 * One day of many tenants: 150 small tenants of 24 campaigns each and one large tenant (`big`) of 3,000, a send per
 * campaign and an open of every other one, so the `daily` file holds about 6,600 rows (more than three row groups)
 * and `big` alone more than a row group.
 */
function manyTenants(): NormalisedEvent[] {
  const send = rowOf(testEvent('Send', 'send', {}, testMail({ timestamp: `${DAY}T10:00:00.000Z` })));
  const open = rowOf(testOpen('Mozilla/5.0', `${DAY}T11:00:00.000Z`, testMail({ timestamp: `${DAY}T10:00:00.000Z` })));
  const tenants: [string, number][] = Array.from({ length: 150 }, (_, i) => [`t-${String(i).padStart(3, '0')}`, 24]);
  tenants.splice(40, 0, ['big', 3000]);
  const rows: NormalisedEvent[] = [];
  for (const [tenant, campaigns] of tenants) {
    for (let c = 0; c < campaigns; c++) {
      const who = { tenant_id: tenant, campaign_id: `c-${c}`, message_id: `${tenant}-m-${c}` };
      rows.push({ ...send, ...who, event_id: `${tenant}-s-${c}` });
      if (c % 2 === 0) rows.push({ ...open, ...who, event_id: `${tenant}-o-${c}` });
    }
  }
  return rows;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sesflow-rollup-layout-'));
  const store = new FsLakeStore(dir);
  await store.put(`events/dt=${DAY}/hour=10/events-1-2026-05-01-12-00-00-a.parquet`, encodeParquet(manyTenants()));
  await rollUpLake(store, { closedBefore: new Date('2026-05-03T00:00:00Z') });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface RowGroup {
  rows: number;
  min: string | null;
  max: string | null;
}

describe('rollup files: tenant-bounded row groups', () => {
  it('writes each table in row groups of a narrow tenant range with tenant_id statistics, so a tenant reads its own only', async () => {
    const day = (await rollupDays(new FsLakeStore(dir), DAY)).get(DAY)!;
    expect(day.fresh).toBe(true);
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      for (const t of ROLLUP_TABLES) {
        const file = join(dir, rollupKey(t.name, DAY, day.build!));
        const groups = (
          await conn.runAndReadAll(
            `SELECT row_group_num_rows AS rows, stats_min_value AS min, stats_max_value AS max
             FROM parquet_metadata('${file}') WHERE path_in_schema = 'tenant_id' ORDER BY row_group_id`,
          )
        ).getRowObjectsJS() as unknown as { rows: bigint; min: string | null; max: string | null }[];
        const rgs: RowGroup[] = groups.map((g) => ({ rows: Number(g.rows), min: g.min, max: g.max }));
        const kv = (
          await conn.runAndReadAll(
            `SELECT CAST(value AS VARCHAR) AS v FROM parquet_kv_metadata('${file}') WHERE CAST(key AS VARCHAR) = '${ROLLUP_LAYOUT_KEY}'`,
          )
        ).getRowObjectsJS() as { v: string }[];
        expect(
          kv.map((r) => r.v),
          t.name,
        ).toEqual([ROLLUP_LAYOUT]);
        const total = rgs.reduce((a, g) => a + g.rows, 0);
        if (total === 0) continue; // bounces and complaints: none that day
        for (const [i, g] of rgs.entries()) {
          // Statistics for VARCHAR are written (Athena/Trino and DuckDB skip by them), and row groups do not overlap:
          // a tenant in two row groups is alone in both.
          expect(g.min !== null && g.max !== null, `${t.name} row group ${i} has tenant_id statistics`).toBe(true);
          expect(g.rows).toBeLessThanOrEqual(TENANT_ROW_GROUP_ROWS);
          const next = rgs[i + 1];
          if (next) {
            expect(g.max! <= next.min!, `${t.name} row groups ${i} and ${i + 1} in tenant order`).toBe(true);
            if (g.max === next.min) expect([g.min, next.max], t.name).toEqual([g.max, next.min]);
          }
        }
        if (t.name === 'daily' || t.name === 'pairs') {
          // More rows than a row group: what a one-tenant read must touch is the row groups whose range holds it.
          const touched = (tenant: string) =>
            rgs.filter((g) => g.min! <= tenant && tenant <= g.max!).reduce((a, g) => a + g.rows, 0);
          expect(touched('t-007'), t.name).toBeLessThanOrEqual(TENANT_ROW_GROUP_ROWS);
          expect(touched('t-007'), t.name).toBeLessThan(t.name === 'daily' ? total / 3 : total);
          expect(rgs.length, t.name).toBeGreaterThan(1);
        }
      }
      // `big` has row groups of its own (its 3,000 daily rows do not fit one).
      const big = (
        await conn.runAndReadAll(
          `SELECT count(*) AS n FROM parquet_metadata('${join(dir, rollupKey('daily', DAY, day.build!))}')
           WHERE path_in_schema = 'tenant_id' AND stats_min_value = 'big' AND stats_max_value = 'big'`,
        )
      ).getRowObjectsJS() as { n: bigint }[];
      expect(Number(big[0]!.n)).toBeGreaterThanOrEqual(2);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
    // The rows are those of the build SQL, whatever the row groups.
    await expectRollupsEqualBuildSql(dir);
  }, 120_000);
});
