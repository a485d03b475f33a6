import { LAKE_COLUMN_TYPES, LAKE_COLUMNS, LAKE_PREFIX } from '../../ingest/lake-schema';
import { ROLLUP_TABLES, type RollupColumnType, type RollupTable, rollupPrefix } from '../../ingest/rollups';
import { ERROR_TYPES } from '../../ingest/transform';

/**
 * Glue / Athena DDL for the lake (DESIGN.md "Lake layout", aws-facts §5.2):
 * - `events_raw`: the Parquet files under `events/dt=YYYY-MM-DD/hour=HH/`, with partition projection on `dt` (date)
 *   and `hour` (integer, two digits), so no partition is ever registered and no `MSCK REPAIR` is needed. No
 *   `injected` projection: an injected key forces an equality filter on every query (aws-facts §5.2), which the
 *   cross-tenant and time-range reports could not give; the lake has no tenant partition anyway (Firehose allows
 *   500 active partitions);
 * - `events`: the view every named query reads, one row per event_id (the first copy), as the local DuckDB view;
 * - `ingest_errors`: the JSON error records under `errors/<error-type>/dt=YYYY-MM-DD/`, nothing dropped;
 * - `rollup_<table>`: the rollup tables compaction writes under `rollups/<table>/dt=YYYY-MM-DD/` (ingest/rollups.ts),
 *   projected on `dt` like the events. A day's folder may hold a second build's file for a moment (a rebuild under
 *   way, or a crash): only the file named as the day's `daily` file belongs to the day (`"$path"` tells).
 */

export interface AthenaLakeConfig {
  /** Glue database. */
  database: string;
  /** Lake bucket name. */
  bucket: string;
  /** Key prefix in front of `events/` and `errors/` (empty, or ending with `/`). */
  prefix?: string;
  /** First day that can hold data (partition projection's range start), YYYY-MM-DD. */
  firstDay: string;
}

export const ATHENA_TABLES = { raw: 'events_raw', events: 'events', errors: 'ingest_errors' } as const;

/**
 * Where Firehose itself writes failed records, with an ErrorOutputPrefix of
 * `errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/` (aws-facts §4.2): the error-output-type values.
 */
export const FIREHOSE_ERROR_OUTPUT_TYPES = ['processing-failed', 'format-conversion-failed'] as const;

/** Every folder under `errors/`: the transform's own error types, then Firehose's. */
export const ERROR_FOLDERS: readonly string[] = [...ERROR_TYPES, ...FIREHOSE_ERROR_OUTPUT_TYPES];

const IDENT = /^[a-z_][a-z0-9_]*$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function checked(cfg: AthenaLakeConfig): Required<AthenaLakeConfig> {
  const prefix = cfg.prefix ?? '';
  if (!IDENT.test(cfg.database)) throw new Error(`Glue database name must match ${IDENT}: ${cfg.database}`);
  if (!BUCKET.test(cfg.bucket)) throw new Error(`not an S3 bucket name: ${cfg.bucket}`);
  if (prefix !== '' && (!prefix.endsWith('/') || prefix.startsWith('/') || /['\\]/.test(prefix))) {
    throw new Error(`lake prefix must be empty or end with '/' (no leading '/', no quotes): ${prefix}`);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(cfg.firstDay)) throw new Error(`firstDay must be YYYY-MM-DD: ${cfg.firstDay}`);
  return { ...cfg, prefix };
}

const HIVE_TYPES = { string: 'string', timestamp: 'timestamp', boolean: 'boolean', bigint: 'bigint' } as const;

/** The TBLPROPERTIES lines projecting `dt` (a day, yyyy-MM-dd) from `firstDay` to now. */
function dtProjection(firstDay: string): string {
  return `  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '${firstDay},NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',`;
}

/** `s3://bucket/prefix/events/` */
export function eventsLocation(cfg: AthenaLakeConfig): string {
  const c = checked(cfg);
  return `s3://${c.bucket}/${c.prefix}${LAKE_PREFIX.events}`;
}

/** `s3://bucket/prefix/errors/` */
export function errorsLocation(cfg: AthenaLakeConfig): string {
  const c = checked(cfg);
  return `s3://${c.bucket}/${c.prefix}${LAKE_PREFIX.errors}`;
}

export function createDatabaseDdl(cfg: AthenaLakeConfig): string {
  return `CREATE DATABASE IF NOT EXISTS \`${checked(cfg).database}\``;
}

/**
 * The lake's Parquet table. Column names and types come from the lake schema (one definition for the Parquet
 * writer, DuckDB and Glue); Firehose's record-format conversion reads the same table as its schema (aws-facts §4.5),
 * and the JSON lines the transform emits carry exactly these names. Partition columns come from the S3 path.
 */
export function eventsTableDdl(cfg: AthenaLakeConfig): string {
  const c = checked(cfg);
  return parquetTableDdl(c, {
    name: ATHENA_TABLES.raw,
    columns: LAKE_COLUMNS.map((col) => [col, HIVE_TYPES[LAKE_COLUMN_TYPES[col]]] as const),
    partitions: ['dt', 'hour'],
    location: eventsLocation(c),
  });
}

/**
 * An external Parquet table of the lake with partition projection: `dt` always (a day), `hour` (00 to 23) when the
 * folders are hourly; the storage template names the partitions' folders in order (`dt=…/hour=…/`).
 */
function parquetTableDdl(
  c: Required<AthenaLakeConfig>,
  t: {
    name: string;
    columns: readonly (readonly [string, string])[];
    partitions: readonly ('dt' | 'hour')[];
    location: string;
  },
): string {
  const columns = t.columns.map(([n, type]) => `  \`${n}\` ${type}`).join(',\n');
  const hour = t.partitions.includes('hour')
    ? `
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',`
    : '';
  return `CREATE EXTERNAL TABLE IF NOT EXISTS \`${c.database}\`.\`${t.name}\` (
${columns}
)
PARTITIONED BY (${t.partitions.map((p) => `\`${p}\` string`).join(', ')})
STORED AS PARQUET
LOCATION '${t.location}'
TBLPROPERTIES (
  'projection.enabled' = 'true',
${dtProjection(c.firstDay)}${hour}
  'storage.location.template' = '${t.location}${t.partitions.map((p) => `${p}=\${${p}}/`).join('')}',
  'classification' = 'parquet'
)`;
}

/**
 * The deduplicating view: one row per event_id, its first copy by object key (`"$path"`; keys sort by delivery
 * time, `<stream>-<yyyy-MM-dd-HH-mm-ss>-<uuid>`), as the local view keeps the first copy by file. An event's id,
 * time and tenant are fixed, so all its copies sit in one partition and belong to one tenant: the window is
 * partitioned by `dt, hour, tenant_id, event_id`, which keeps the same rows and lets Trino push a filter on any of
 * those columns below the window (it pushes a predicate only over a window's partition columns): on `dt`, so
 * partition projection still prunes the days out of range; on `tenant_id`, so a one-tenant report reaches the scan
 * and reads only that tenant's row groups of the compacted files (ingest/compact-layout.ts), skipping the others by
 * their `tenant_id` statistics.
 */
export function eventsViewDdl(cfg: AthenaLakeConfig): string {
  const c = checked(cfg);
  const cols = LAKE_COLUMNS.map((col) => `"${col}"`).join(', ');
  return `CREATE OR REPLACE VIEW "${c.database}"."${ATHENA_TABLES.events}" AS
SELECT ${cols}, "dt", "hour"
FROM (
  SELECT ${cols}, "dt", "hour",
    row_number() OVER (PARTITION BY "dt", "hour", "tenant_id", "event_id" ORDER BY "$path") AS "copy_rank"
  FROM "${c.database}"."${ATHENA_TABLES.raw}"
) "copies"
WHERE "copy_rank" = 1`;
}

/**
 * The error prefix: one JSON document per line. sesflow's own records are
 * `{errorType, reason, source, receivedAt, rawData}`; Firehose's (processing-failed, format-conversion-failed) carry
 * `{attemptsMade, arrivalTimestamp, errorCode | lastErrorCode, errorMessage | lastErrorMessage, rawData, …}`. OpenX
 * matches keys case-insensitively, so both land in one table; a missing key reads as NULL and a malformed line is
 * skipped, not fatal. `error_type` is an enum projection over the known folders, `dt` the day received.
 */
export function errorsTableDdl(cfg: AthenaLakeConfig): string {
  const c = checked(cfg);
  const location = errorsLocation(c);
  return `CREATE EXTERNAL TABLE IF NOT EXISTS \`${c.database}\`.\`${ATHENA_TABLES.errors}\` (
  \`errortype\` string,
  \`reason\` string,
  \`source\` string,
  \`receivedat\` string,
  \`rawdata\` string,
  \`attemptsmade\` int,
  \`arrivaltimestamp\` bigint,
  \`errorcode\` string,
  \`errormessage\` string,
  \`lasterrorcode\` string,
  \`lasterrormessage\` string,
  \`attemptendingtimestamp\` bigint,
  \`lambdaarn\` string
)
PARTITIONED BY (\`error_type\` string, \`dt\` string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES (
  'ignore.malformed.json' = 'true',
  'case.insensitive' = 'true'
)
LOCATION '${location}'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.error_type.type' = 'enum',
  'projection.error_type.values' = '${ERROR_FOLDERS.join(',')}',
${dtProjection(c.firstDay)}
  'storage.location.template' = '${location}\${error_type}/dt=\${dt}/',
  'classification' = 'json'
)`;
}

/** The Glue table name of a rollup table. */
export const rollupTableName = (table: RollupTable['name']): string => `rollup_${table}`;

/** A rollup column's Hive type (Glue and Athena DDL). */
export const ROLLUP_HIVE_TYPES: Record<RollupColumnType, string> = {
  VARCHAR: 'string',
  BIGINT: 'bigint',
  BOOLEAN: 'boolean',
  TIMESTAMP: 'timestamp',
};

/** `s3://bucket/prefix/rollups/<table>/` */
export function rollupLocation(cfg: AthenaLakeConfig, table: RollupTable['name']): string {
  const c = checked(cfg);
  return `s3://${c.bucket}/${c.prefix}${rollupPrefix(table)}`;
}

/** One rollup table: the columns of ingest/rollups.ts in file order, `dt` projected from the folder. */
export function rollupTableDdl(cfg: AthenaLakeConfig, table: RollupTable): string {
  const c = checked(cfg);
  return parquetTableDdl(c, {
    name: rollupTableName(table.name),
    columns: table.columns.map(([n, t]) => [n, ROLLUP_HIVE_TYPES[t]] as const),
    partitions: ['dt'],
    location: rollupLocation(c, table.name),
  });
}

/** Every statement, in the order to run them (each is one Athena query: DDL is free, aws-facts §5.3). */
export function athenaDdl(cfg: AthenaLakeConfig): string[] {
  return [
    createDatabaseDdl(cfg),
    eventsTableDdl(cfg),
    eventsViewDdl(cfg),
    errorsTableDdl(cfg),
    ...ROLLUP_TABLES.map((t) => rollupTableDdl(cfg, t)),
  ];
}
