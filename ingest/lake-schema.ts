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
