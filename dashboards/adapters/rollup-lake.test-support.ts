import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openLake } from '../../queries/duckdb-lake';
import { ROLLUP_TABLES, rollupBuildSql, rollupPrefix } from '../../queries/rollups';

/**
 * Writes the rollups of `days` (`YYYY-MM-DD`) under `<lakeDir>/rollups/`, one file per table and day, built from the
 * lake's deduplicated `events` with queries/rollups.ts' build SQL (what compaction writes), `daily` last.
 */
export async function writeRollups(lakeDir: string, days: readonly string[], name = 'rollup.parquet'): Promise<void> {
  const lake = await openLake(lakeDir);
  try {
    for (const day of days) {
      for (const t of ROLLUP_TABLES) {
        const dir = join(lakeDir, rollupPrefix(t.name), `dt=${day}`);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        const sql = rollupBuildSql(t.name).replaceAll(':day', `'${day}'`);
        await lake.connection.run(`COPY (${sql}) TO '${join(dir, name).replaceAll("'", "''")}' (FORMAT parquet)`);
      }
    }
  } finally {
    lake.close();
  }
}
