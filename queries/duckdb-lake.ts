import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { duckdbColumnList, LAKE_COLUMNS } from '../ingest/lake-schema';

/**
 * DuckDB over a local lake directory: the local stand-in for Athena.
 *
 * Views:
 * - `events_raw`: every row of every Parquet file under `events/` (may hold duplicates: Firehose delivers at least
 *   once, and a crash between writing a file and recording it can repeat rows);
 * - `events`: one row per `event_id`, which every named query reads, so every count is exact whatever the files hold.
 */
export interface LakeDb {
  connection: DuckDBConnection;
  /** Runs SQL with positional `?` parameters bound (never spliced) and returns plain JS rows. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  close(): void;
}

function hasParquet(dir: string): boolean {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet')) return true;
    if (entry.isDirectory() && hasParquet(join(dir, entry.name))) return true;
  }
  return false;
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The SQL of the deduplicating view over a raw relation. */
export function dedupViewSql(raw: string): string {
  return `SELECT ${LAKE_COLUMNS.join(', ')} FROM ${raw} QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY event_time) = 1`;
}

export async function openLake(lakeDir: string, options: { threads?: number } = {}): Promise<LakeDb> {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(options.threads ?? 2) });
  const connection = await instance.connect();
  const eventsDir = join(lakeDir, 'events');
  if (hasParquet(eventsDir)) {
    const glob = sqlString(join(eventsDir, '**', '*.parquet'));
    await connection.run(
      `CREATE VIEW events_raw AS SELECT ${LAKE_COLUMNS.join(', ')} FROM read_parquet(${glob}, hive_partitioning = false, union_by_name = true)`,
    );
  } else {
    await connection.run(`CREATE TABLE events_raw (${duckdbColumnList()})`);
  }
  await connection.run(`CREATE VIEW events AS ${dedupViewSql('events_raw')}`);
  return {
    connection,
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const reader = params.length
        ? await connection.runAndReadAll(sql, params as never)
        : await connection.runAndReadAll(sql);
      return reader.getRowObjectsJS() as T[];
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
