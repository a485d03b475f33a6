import { join } from 'node:path';
import { expect } from 'vitest';
import { openLake } from '../queries/duckdb-lake';
import { ROLLUP_TABLES, rollupBuildSql } from './rollups';
import { localRollupDays, rollupKey } from './rollups-writer';

/** A day's totals read back from its rollup files (to see what a rebuild changed). */
export interface RollupDayTotals {
  sent: number;
  delivered: number;
  opens: number;
  bounces: number;
  pairs: number;
}

const canonical = (rows: Record<string, unknown>[]) =>
  rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).sort();

/**
 * Checks every rolled-up day of a local lake (each must be fresh, unless `copy`: a copy of a bucket's lake, whose
 * files have other versions than the bucket's): each table's current file has the table's columns and types and holds
 * exactly the rows its build SQL gives over the lake's deduplicating `events` view (queries/duckdb-lake.ts, which reads
 * every raw file independently of the writer). Returns each day's totals.
 */
export async function expectRollupsEqualBuildSql(
  lakeDir: string,
  options: { copy?: boolean } = {},
): Promise<Map<string, RollupDayTotals>> {
  const days = await localRollupDays(lakeDir);
  const db = await openLake(lakeDir, { threads: 1 });
  const totals = new Map<string, RollupDayTotals>();
  try {
    for (const d of days.values()) {
      if (d.build === null) continue;
      if (!options.copy) expect(d.fresh, `${d.day} is rolled up and fresh`).toBe(true);
      const sums: RollupDayTotals = { sent: 0, delivered: 0, opens: 0, bounces: 0, pairs: 0 };
      for (const t of ROLLUP_TABLES) {
        const file = join(lakeDir, rollupKey(t.name, d.day, d.build!)).replaceAll("'", "''");
        const schema = await db.query<{ name: string; type: string }>(
          `SELECT column_name AS name, column_type AS type FROM (DESCRIBE SELECT * FROM read_parquet('${file}', hive_partitioning = false))`,
        );
        expect(
          schema.map((c) => [c.name, c.type]),
          `${t.name} ${d.day} columns`,
        ).toEqual(t.columns.map(([n, ty]) => [n, ty]));
        const stored = await db.query(`SELECT * FROM read_parquet('${file}', hive_partitioning = false)`);
        const built = await db.query(rollupBuildSql(t.name).replaceAll(':day', `'${d.day}'`));
        expect(canonical(stored), `${t.name} ${d.day}`).toEqual(canonical(built));
        if (t.name === 'daily') {
          for (const r of stored) {
            sums.sent += Number(r.sent);
            sums.delivered += Number(r.delivered);
            sums.opens += Number(r.opens);
          }
        }
        if (t.name === 'bounces') for (const r of stored) sums.bounces += Number(r.bounces);
        if (t.name === 'pairs') sums.pairs += stored.length;
      }
      totals.set(d.day, sums);
    }
  } finally {
    db.close();
  }
  return totals;
}
