import { NORMALISED_COLUMNS, type NormalisedEvent } from './normalise';

/**
 * Column types of the lake's Parquet files, in lake order. One definition serves the Parquet writer, DuckDB views,
 * the Glue/Athena DDL and the OpenSearch mapping. Times are Parquet TIMESTAMP (milliseconds, UTC).
 */
export type LakeColumnType = 'string' | 'timestamp' | 'boolean' | 'bigint';

export const LAKE_COLUMN_TYPES: Record<keyof NormalisedEvent, LakeColumnType> = {
  event_id: 'string',
  event_type: 'string',
  event_time: 'timestamp',
  mail_time: 'timestamp',
  message_id: 'string',
  tenant_id: 'string',
  tenant_source: 'string',
  record_form: 'string',
  configuration_set: 'string',
  campaign_id: 'string',
  message_kind: 'string',
  sending_account_id: 'string',
  from_domain: 'string',
  subject: 'string',
  recipient: 'string',
  recipient_domain: 'string',
  is_simulator: 'boolean',
  bounce_type: 'string',
  bounce_subtype: 'string',
  smtp_status: 'string',
  diagnostic_code: 'string',
  feedback_id: 'string',
  complaint_feedback_type: 'string',
  complaint_subtype: 'string',
  delay_type: 'string',
  link: 'string',
  user_agent: 'string',
  ip: 'string',
  processing_time_ms: 'bigint',
  machine_open: 'boolean',
  counts_toward_bounce_rate: 'boolean',
  counts_toward_complaint_rate: 'boolean',
  tags: 'string',
  detail: 'string',
};

export const LAKE_COLUMNS = NORMALISED_COLUMNS;

const DUCKDB_TYPES: Record<LakeColumnType, string> = {
  string: 'VARCHAR',
  timestamp: 'TIMESTAMP',
  boolean: 'BOOLEAN',
  bigint: 'BIGINT',
};
const ATHENA_TYPES: Record<LakeColumnType, string> = {
  string: 'string',
  timestamp: 'timestamp',
  boolean: 'boolean',
  bigint: 'bigint',
};

/** `name TYPE, ...` for a DuckDB CREATE TABLE. */
export function duckdbColumnList(): string {
  return LAKE_COLUMNS.map((c) => `${c} ${DUCKDB_TYPES[LAKE_COLUMN_TYPES[c]]}`).join(', ');
}

/** `name type, ...` for the Glue/Athena table. */
export function athenaColumnList(): string {
  return LAKE_COLUMNS.map((c) => `${c} ${ATHENA_TYPES[LAKE_COLUMN_TYPES[c]]}`).join(',\n  ');
}

/** Lake key layout (DESIGN.md "Lake layout"): events by event time, errors by error type and day. */
export const LAKE_PREFIX = { events: 'events/', errors: 'errors/' } as const;

/**
 * Writers that check every event id against the partition before writing name their files `<writer>-<time>-<uuid>`
 * with one of these writer names: `sesflow ingest` (ids checked against the lake and the run) and compaction (one
 * deduplicated file per partition). `~` cannot occur in a Firehose stream name, so a Firehose object is never taken
 * for one. The `events` view only has to look for duplicates in partitions holding other files (queries/duckdb-lake.ts).
 */
export const CHECKED_WRITERS = { ingest: 'sesflow~ingest', compacted: 'sesflow~compacted' } as const;

/** `yyyy-MM-dd-HH-mm-ss`, as Firehose names its objects (aws-facts §4.3); sorts as time. */
export function fileStamp(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', '-').replaceAll(':', '-');
}

/** The writer and time stamp of a lake file name `<writer>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.parquet` (null: other). */
export function parseLakeFileName(name: string): { writer: string; stamp: string } | null {
  const m =
    /^(.+)-(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.parquet$/.exec(
      name,
    );
  return m ? { writer: m[1]!, stamp: m[2]! } : null;
}
