import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { PAIR_KEY_COLUMN, PAIR_KEY_SQL } from '../ingest/compact-layout';
import {
  CHECKED_WRITERS,
  LAKE_COLUMN_TYPES,
  LAKE_COLUMNS,
  type LakeColumnType,
  parseLakeFileName,
} from '../ingest/lake-schema';
import { ROLLUP_TABLES, type RollupTable, rollupPrefix } from './rollups';

/**
 * DuckDB over a local lake directory: the local stand-in for Athena.
 *
 * Views (over the files present when the lake is opened):
 * - `events_raw`: every row of every Parquet file under `events/`, with its file and row number (`_file`, `_row`); it
 *   may hold duplicates: Firehose delivers at least once, and a crash during compaction can leave rows twice;
 * - `events`: one row per `event_id`, which every named query reads, so every count is exact whatever the files hold.
 * Both carry the lake columns and `pair_key` (ingest/compact-layout.ts): read from compacted files, computed from
 * message_id and recipient for the others.
 * - `rollup_<table>` for each rollup table (queries/rollups.ts): the files of each day's current build under
 *   `rollups/<table>/dt=…/`, with the partition `dt` as text (empty when the lake has none), which the rollup
 *   renderings of the named queries read.
 */
export interface LakeDb {
  connection: DuckDBConnection;
  /** Runs SQL with positional `?` parameters bound (never spliced) and returns plain JS rows. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  close(): void;
}

/** Every Parquet file under `dir`, grouped by the folder holding it (a partition, in the lake layout). */
export function parquetFilesByFolder(dir: string, out = new Map<string, string[]>()): Map<string, string[]> {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) parquetFilesByFolder(join(dir, entry.name), out);
    else if (entry.isFile() && entry.name.endsWith('.parquet') && !entry.name.startsWith('.')) {
      // (a name starting with a dot is a file being written: compaction's temporary file)
      const list = out.get(dir) ?? [];
      list.push(entry.name);
      out.set(dir, list);
    }
  }
  return out;
}

/**
 * Whether a partition's files may hold the same event twice. An event's id and time are fixed, so copies of one
 * event always land in one partition; a partition is known clean when each of its files was written by a checking
 * writer (CHECKED_WRITERS: compaction, or `sesflow ingest`, which checks ids against the partition first) and no
 * file is as old as or older than its newest compacted file (that would be a leftover of a compaction that crashed
 * before deleting its inputs). Anything else (a Firehose object, an unknown name) makes the partition suspect.
 */
export function partitionMayHoldDuplicates(fileNames: readonly string[]): boolean {
  const parsed = fileNames.map(parseLakeFileName);
  if (parsed.some((p) => !p || (p.writer !== CHECKED_WRITERS.ingest && p.writer !== CHECKED_WRITERS.compacted))) {
    return true;
  }
  const compacted = parsed.filter((p) => p!.writer === CHECKED_WRITERS.compacted).map((p) => p!.stamp);
  if (compacted.length === 0) return false;
  const newest = [...compacted].sort().at(-1)!; // stamps are ISO-like text: they sort as they happened
  return compacted.length > 1 || parsed.some((p) => p!.writer !== CHECKED_WRITERS.compacted && p!.stamp <= newest);
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The SQL of the deduplicating view over a raw relation (used where file positions are unknown). */
export function dedupViewSql(raw: string): string {
  return `SELECT ${LAKE_COLUMNS.join(', ')} FROM ${raw} QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY event_time) = 1`;
}

/**
 * Creates `events` over `events_raw` (which must carry `_file` and `_row`): every row whose event_id occurs once, plus,
 * for an event_id that occurs several times, only its first copy (lowest file, then row). Duplicates are looked for
 * only in the files of suspect partitions (`suspect`: see partitionMayHoldDuplicates), with a narrow GROUP BY on a
 * 64-bit hash of the id (then checked on the id itself): exact, and free for a lake of compacted or ingested files.
 */
async function createDedupView(
  connection: DuckDBConnection,
  suspect: readonly string[],
  create: string,
): Promise<void> {
  const cols = [...LAKE_COLUMNS, PAIR_KEY_COLUMN].map((c) => `r.${c}`).join(', ');
  if (suspect.length === 0) {
    await connection.run(`${create} events AS SELECT ${cols} FROM events_raw r`);
    return;
  }
  const list = `[${suspect.map(sqlString).join(', ')}]`;
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE _dup_keep AS
     WITH suspect AS (
       SELECT event_id, filename AS _file, file_row_number AS _row
       FROM read_parquet(${list}, hive_partitioning = false, union_by_name = true, filename = true, file_row_number = true)),
     candidates AS (SELECT hash(event_id) AS h FROM suspect GROUP BY 1 HAVING count(*) > 1)
     SELECT event_id, min({'f': _file, 'r': _row}) AS k
     FROM suspect WHERE hash(event_id) IN (SELECT h FROM candidates)
     GROUP BY event_id HAVING count(*) > 1`,
  );
  await connection.run(
    `${create} events AS
     SELECT ${cols} FROM events_raw r ANTI JOIN _dup_keep d ON r.event_id = d.event_id
     UNION ALL
     SELECT ${cols} FROM events_raw r SEMI JOIN _dup_keep d ON r.event_id = d.event_id AND r._file = d.k.f AND r._row = d.k.r`,
  );
}

const DUCKDB_TYPES: Record<LakeColumnType, string> = {
  string: 'VARCHAR',
  timestamp: 'TIMESTAMP',
  boolean: 'BOOLEAN',
  bigint: 'BIGINT',
};

/** A Parquet file's columns as {@link defineEventsViews} groups files by them: the schema's signature and names. */
export interface FileSchema {
  sig: string;
  names: string[];
}

/**
 * Where {@link defineEventsViews} keeps the schemas it read, by file: the caller keys each file by its version, so
 * a file rewritten under its name is read again (lake files are otherwise never changed in place).
 */
export interface FileSchemaCache {
  get(file: string): FileSchema | undefined;
  set(file: string, schema: FileSchema): void;
}

/**
 * The SQL of `events_raw` over `files`: one `read_parquet` per distinct file schema, joined by UNION ALL. Reading
 * files of several schemas with `union_by_name` makes DuckDB read every file's footer again at each query (seconds
 * for a lake of 1,500 hourly files); files of one schema are read without it, the footers served from DuckDB's
 * Parquet metadata cache. A lake column a file lacks is NULL; `pair_key` is computed for files written without it.
 * The schemas are read from the files (one footer each) except those `cache` holds.
 */
async function rawViewSql(
  connection: DuckDBConnection,
  files: readonly string[],
  cache?: FileSchemaCache,
): Promise<string> {
  const known = new Map<string, FileSchema>();
  for (const f of files) {
    const s = cache?.get(f);
    if (s) known.set(f, s);
  }
  const unknown = files.filter((f) => !known.has(f));
  if (unknown.length > 0) {
    const read = (
      await connection.runAndReadAll(
        `SELECT file_name AS f, string_agg(name || ' ' || type || ' ' || coalesce(CAST(logical_type AS VARCHAR), '')
           || ' ' || coalesce(converted_type, ''), ',' ORDER BY name) AS sig, list(name) AS names
         FROM parquet_schema([${unknown.map(sqlString).join(', ')}]) WHERE num_children IS NULL GROUP BY file_name`,
      )
    ).getRowObjectsJS() as { f: string; sig: string; names: string[] }[];
    for (const r of read) {
      const s = { sig: r.sig, names: [...r.names] };
      known.set(r.f, s);
      cache?.set(r.f, s);
    }
  }
  const groups = new Map<string, { names: Set<string>; files: string[] }>();
  for (const f of files) {
    const s = known.get(f);
    if (!s) continue;
    const g = groups.get(s.sig) ?? { names: new Set(s.names), files: [] };
    g.files.push(f);
    groups.set(s.sig, g);
  }
  return [...groups.values()]
    .map((g) => {
      const cols = LAKE_COLUMNS.map((c) =>
        g.names.has(c) ? c : `CAST(NULL AS ${DUCKDB_TYPES[LAKE_COLUMN_TYPES[c]]}) AS ${c}`,
      );
      const key = g.names.has(PAIR_KEY_COLUMN) ? PAIR_KEY_COLUMN : `${PAIR_KEY_SQL} AS ${PAIR_KEY_COLUMN}`;
      return `SELECT ${cols.join(', ')}, ${key}, filename AS _file, file_row_number AS _row
       FROM read_parquet([${g.files.map(sqlString).join(', ')}], hive_partitioning = false, filename = true, file_row_number = true)`;
    })
    .join('\nUNION ALL\n');
}

/**
 * The current build of each rolled-up day: the name of its `daily` file (the greatest, if a crash left two). Every
 * table's file of a build has the build's name; another file beside it (an older build not deleted yet, a build under
 * way) is not part of the day (ingest/rollups-writer.ts).
 */
function rollupBuilds(lakeDir: string): Map<string, string> {
  const builds = new Map<string, string>();
  for (const [folder, names] of parquetFilesByFolder(join(lakeDir, rollupPrefix('daily')))) {
    const day = /^dt=(\d{4}-\d{2}-\d{2})$/.exec(basename(folder))?.[1];
    if (day) builds.set(day, [...names].sort().at(-1)!);
  }
  return builds;
}

/**
 * `rollup_<table>` over the table's files of each day's current build (the day from the folder name, `dt=YYYY-MM-DD`,
 * as text), or an empty table of its columns when there are none. Which days are fresh, and may be read, is the
 * caller's choice (`localRollupDays`).
 */
async function createRollupView(
  connection: DuckDBConnection,
  lakeDir: string,
  builds: ReadonlyMap<string, string>,
  table: RollupTable,
): Promise<void> {
  const files = [...builds]
    .map(([day, build]) => join(lakeDir, rollupPrefix(table.name), `dt=${day}`, build))
    .filter((f) => existsSync(f));
  const name = `rollup_${table.name}`;
  if (files.length === 0) {
    await connection.run(`CREATE TABLE ${name} (${table.columns.map(([c, t]) => `${c} ${t}`).join(', ')}, dt VARCHAR)`);
    return;
  }
  await connection.run(
    `CREATE VIEW ${name} AS SELECT ${table.columns.map(([c]) => c).join(', ')}, dt
     FROM read_parquet([${files.map(sqlString).join(', ')}], hive_partitioning = true, hive_types = {'dt': VARCHAR})`,
  );
}

/**
 * Defines `events_raw` and `events` (see {@link LakeDb}) over the Parquet files of the given partitions (folder ->
 * file names) on `connection`, replacing earlier definitions: the whole lake when a lake is opened, or only the hour
 * partitions a report's period touches (the reports engine's raw edges and drill-down).
 */
export async function defineEventsViews(
  connection: DuckDBConnection,
  folders: ReadonlyMap<string, readonly string[]>,
  options: { temp?: boolean; schemas?: FileSchemaCache } = {},
): Promise<void> {
  const suspect: string[] = [];
  const files: string[] = [];
  for (const [folder, names] of folders) {
    for (const n of names) files.push(join(folder, n));
    if (partitionMayHoldDuplicates(names)) for (const n of names) suspect.push(join(folder, n));
  }
  const create = `CREATE OR REPLACE ${options.temp ? 'TEMP ' : ''}VIEW`;
  if (files.length > 0) {
    await connection.run(`${create} events_raw AS ${await rawViewSql(connection, files, options.schemas)}`);
  } else {
    await connection.run(
      `${create} events_raw AS SELECT * FROM (SELECT ${LAKE_COLUMNS.map((c) => `CAST(NULL AS ${DUCKDB_TYPES[LAKE_COLUMN_TYPES[c]]}) AS ${c}`).join(', ')},
         CAST(NULL AS UBIGINT) AS ${PAIR_KEY_COLUMN}, CAST(NULL AS VARCHAR) AS _file, CAST(NULL AS BIGINT) AS _row) WHERE false`,
    );
  }
  await createDedupView(connection, suspect, create);
}

export async function openLake(lakeDir: string, options: { threads?: number } = {}): Promise<LakeDb> {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(options.threads ?? 2) });
  const connection = await instance.connect();
  // Footers are read once, not at every query (lake files are never rewritten in place; DuckDB checks their mtime).
  await connection.run('SET parquet_metadata_cache = true');
  await defineEventsViews(connection, parquetFilesByFolder(join(lakeDir, 'events')));
  const builds = rollupBuilds(lakeDir);
  for (const table of ROLLUP_TABLES) await createRollupView(connection, lakeDir, builds, table);
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

/** DuckDB TIMESTAMP literal text of an epoch-ms time (the lake's times are UTC without zone). */
export function duckTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
