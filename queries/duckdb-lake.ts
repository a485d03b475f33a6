import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { duckdbColumnList, LAKE_COLUMNS } from '../ingest/lake-schema';

/**
 * DuckDB over a local lake directory: the local stand-in for Athena.
 *
 * Views:
 * - `events_raw`: every row of every Parquet file under `events/`, with its file and row number (`_file`, `_row`); it
 *   may hold duplicates: Firehose delivers at least once, and a crash during compaction can leave rows twice;
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

/** The SQL of the deduplicating view over a raw relation (used where file positions are unknown). */
export function dedupViewSql(raw: string): string {
  return `SELECT ${LAKE_COLUMNS.join(', ')} FROM ${raw} QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY event_time) = 1`;
}

/**
 * Creates `events` over `events_raw` (which must carry `_file` and `_row`): every row whose event_id occurs once, plus,
 * for an event_id that occurs several times, only its first copy (lowest file, then row). Duplicates are found with a
 * narrow GROUP BY on a 64-bit hash of the id (then checked on the id itself), so the cost is one pass over one column
 * instead of a window over every column of every row: exact, and cheap when, as usual, there are few duplicates.
 */
async function createDedupView(connection: DuckDBConnection): Promise<void> {
  await connection.run(
    `CREATE TEMP TABLE _dup_keep AS
     WITH candidates AS (SELECT hash(event_id) AS h FROM events_raw GROUP BY 1 HAVING count(*) > 1)
     SELECT event_id, min({'f': _file, 'r': _row}) AS k
     FROM events_raw WHERE hash(event_id) IN (SELECT h FROM candidates)
     GROUP BY event_id HAVING count(*) > 1`,
  );
  const cols = LAKE_COLUMNS.map((c) => `r.${c}`).join(', ');
  await connection.run(
    `CREATE VIEW events AS
     SELECT ${cols} FROM events_raw r ANTI JOIN _dup_keep d ON r.event_id = d.event_id
     UNION ALL
     SELECT ${cols} FROM events_raw r SEMI JOIN _dup_keep d ON r.event_id = d.event_id AND r._file = d.k.f AND r._row = d.k.r`,
  );
}

export async function openLake(lakeDir: string, options: { threads?: number } = {}): Promise<LakeDb> {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(options.threads ?? 2) });
  const connection = await instance.connect();
  const eventsDir = join(lakeDir, 'events');
  if (hasParquet(eventsDir)) {
    const glob = sqlString(join(eventsDir, '**', '*.parquet'));
    await connection.run(
      `CREATE VIEW events_raw AS SELECT ${LAKE_COLUMNS.join(', ')}, filename AS _file, file_row_number AS _row
       FROM read_parquet(${glob}, hive_partitioning = false, union_by_name = true, filename = true, file_row_number = true)`,
    );
  } else {
    await connection.run(`CREATE TABLE events_raw (${duckdbColumnList()}, _file VARCHAR, _row BIGINT)`);
  }
  await createDedupView(connection);
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
