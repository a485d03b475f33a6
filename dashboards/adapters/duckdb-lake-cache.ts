import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LAKE_COLUMNS } from '../../ingest/lake-schema';
import type { LakeDb } from '../../queries/duckdb-lake';

/**
 * The table the local reports read: named `events` like the lake's deduplicating view, which it replaces on the
 * dashboards' own connection, so named queries written against `events` run unchanged.
 */
export const CACHE_TABLE = 'events';

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

function listParquet(dir: string, out: string[] = []): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listParquet(p, out);
    else if (e.isFile() && e.name.endsWith('.parquet')) out.push(p);
  }
  return out;
}

/**
 * Keeps the lake's deduplicated rows in a DuckDB table and loads only the Parquet files that appeared since the
 * last look (at most once per `minIntervalMs`). Reading hundreds of small hourly files and deduplicating them on
 * every request costs about a second; the table answers in milliseconds. A file that disappears (compaction)
 * triggers a full reload. Exactness is kept: a new row whose event_id is already loaded is skipped. Each load is
 * sorted by tenant and time, so DuckDB's zone maps let a one-tenant report skip the other tenants' row groups.
 */
export class DuckDbLakeCache {
  private readonly loaded = new Set<string>();
  private lastCheck = 0;
  private ready = false;

  constructor(
    private readonly lake: LakeDb,
    private readonly lakeDir: string,
    private readonly minIntervalMs = 1_000,
  ) {}

  /** Brings the table up to date with the files on disk. Call inside the lake's serial queue. */
  async refresh(nowMs = Date.now()): Promise<void> {
    if (this.ready && nowMs - this.lastCheck < this.minIntervalMs) return;
    this.lastCheck = nowMs;
    const conn = this.lake.connection;
    const files = listParquet(join(this.lakeDir, 'events')).filter((f) => statSync(f, { throwIfNoEntry: false }));
    const present = new Set(files);
    const vanished = [...this.loaded].some((f) => !present.has(f));
    if (!this.ready || vanished) {
      if (!this.ready) {
        const views = await conn.runAndReadAll(
          "SELECT count(*) AS n FROM duckdb_views() WHERE view_name = 'events' AND NOT internal",
        );
        if (Number(views.getRowObjectsJS()[0]?.n ?? 0) > 0) await conn.run('DROP VIEW events');
      }
      await conn.run(
        `CREATE OR REPLACE TABLE ${CACHE_TABLE} AS SELECT ${LAKE_COLUMNS.join(', ')} FROM events_raw LIMIT 0`,
      );
      this.loaded.clear();
      this.ready = true;
    }
    const fresh = files.filter((f) => !this.loaded.has(f));
    if (fresh.length === 0) return;
    const cols = LAKE_COLUMNS.join(', ');
    // File paths come from readdir, never from a request; quoted as SQL strings all the same.
    await conn.run(
      `INSERT INTO ${CACHE_TABLE}
       SELECT ${cols} FROM (
         SELECT ${cols} FROM read_parquet([${fresh.map(sqlString).join(', ')}], hive_partitioning = false, union_by_name = true)
         QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY event_time) = 1
       ) n
       WHERE NOT EXISTS (SELECT 1 FROM ${CACHE_TABLE} d WHERE d.event_id = n.event_id)
       ORDER BY tenant_id, event_time`,
    );
    for (const f of fresh) this.loaded.add(f);
  }
}
