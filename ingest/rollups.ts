import { METRIC_COUNT_NAMES, metricCountsSql, UNSUBSCRIBE } from './metrics';

/**
 * The rollup tables: per tenant and day, the figures every aggregate named query needs, written by compaction as a
 * small Parquet table beside the raw events (`<lake>/rollups/<table>/dt=YYYY-MM-DD/`), read by DuckDB locally and by
 * Athena (Glue tables of the same names) in AWS. docs/queries.md explains how each report is answered from them.
 *
 * One file per table and day, built from the day's deduplicated rows (the `events` relation) by {@link rollupBuildSql}.
 * A day is rolled up once all its hours have closed; it is built again whenever a raw file of that day is newer than
 * its rollup (a late event, a compaction, an erasure). `daily` is written last: it is the day's commit marker, so a
 * day whose `daily` file is missing is not rolled up, and one whose raw files are newer than its `daily` file is stale.
 *
 * Exact unique opens and clicks over any period: `pairs` keeps, for each day, every (message, recipient) pair opened
 * or clicked that day with its flags (opened, opened by a person, by a machine, clicked). A period's unique figure is
 * the number of distinct pair keys with the flag over its days (plus the raw edges' pairs): a pair opened on several
 * days counts once, exactly as over the raw rows. The key is {@link pairKeySql}, 63 bits of an MD5 that DuckDB and
 * Trino both compute; `bounces` and `complaints` keep recipients by such a key too, never the address.
 */

export type RollupColumnType = 'VARCHAR' | 'BIGINT' | 'BOOLEAN' | 'TIMESTAMP';

export interface RollupTable {
  /** Table name: the folder under `rollups/`, and `rollup_<name>` as a DuckDB view or Glue table. */
  name: 'daily' | 'hourly' | 'pairs' | 'bounces' | 'complaints';
  /** The columns, in file order (the partition column `dt` is not in the file: it is the folder). */
  columns: readonly (readonly [string, RollupColumnType])[];
  /** What one row is. */
  grain: string;
}

const counts = METRIC_COUNT_NAMES.map((n) => [n, 'BIGINT'] as const);

/** The rollup tables. `daily` comes last: it is written last, the day's commit marker. */
export const ROLLUP_TABLES: readonly RollupTable[] = [
  {
    name: 'hourly',
    // is_simulator: the live figures (hourly rates per tenant) leave mailbox-simulator traffic out, as the
    // reputation policy does; the named queries sum both.
    grain: 'tenant, hour of the event time and whether the recipient is the mailbox simulator',
    columns: [['tenant_id', 'VARCHAR'], ['hour', 'TIMESTAMP'], ['is_simulator', 'BOOLEAN'], ...counts],
  },
  {
    name: 'pairs',
    grain: 'tenant, campaign, recipient domain and (message, recipient) pair opened or clicked that day',
    columns: [
      ['tenant_id', 'VARCHAR'],
      ['campaign_id', 'VARCHAR'],
      ['recipient_domain', 'VARCHAR'],
      ['pair_key', 'BIGINT'],
      ['o', 'BOOLEAN'],
      ['h', 'BOOLEAN'],
      ['m', 'BOOLEAN'],
      ['k', 'BOOLEAN'],
    ],
  },
  {
    name: 'bounces',
    grain: 'tenant, bounce type, subtype, SMTP status and recipient (by its key: no address in a rollup)',
    columns: [
      ['tenant_id', 'VARCHAR'],
      ['bounce_type', 'VARCHAR'],
      ['bounce_subtype', 'VARCHAR'],
      ['smtp_status', 'VARCHAR'],
      ['recipient_key', 'BIGINT'],
      ['bounces', 'BIGINT'],
      ['diagnostic_code', 'VARCHAR'],
    ],
  },
  {
    name: 'complaints',
    grain: 'tenant, feedback type, complaint subtype and recipient (by its key)',
    columns: [
      ['tenant_id', 'VARCHAR'],
      ['complaint_feedback_type', 'VARCHAR'],
      ['complaint_subtype', 'VARCHAR'],
      ['recipient_key', 'BIGINT'],
      ['complaints', 'BIGINT'],
    ],
  },
  {
    name: 'daily',
    grain: 'tenant, campaign and recipient domain',
    columns: [
      ['tenant_id', 'VARCHAR'],
      ['campaign_id', 'VARCHAR'],
      ['recipient_domain', 'VARCHAR'],
      ['subject', 'VARCHAR'],
      ...counts,
      ['unsubscribes', 'BIGINT'],
      ['unsubscribed_recipients', 'BIGINT'],
    ],
  },
];

/** The lake folder of a rollup table. */
export const rollupPrefix = (table: RollupTable['name']): string => `rollups/${table}/`;

const TOP_BIT_CLEARED = '9223372036854775807';

/** The encoding of a (message, recipient) pair that both keys hash (compact-layout's PAIR_KEY_SQL encodes the same). */
const PAIR_TEXT = `coalesce(CAST(length(message_id) AS VARCHAR) || ':' || message_id, '-') || '|' || coalesce('r' || recipient, '-')`;

/**
 * A 63-bit key of a text, the same in DuckDB and Trino: DuckDB's `md5_number_upper` is the first 8 bytes of the MD5
 * read little-endian (unsigned); Trino reverses those 8 bytes and reads them big-endian (signed). With the top bit
 * cleared both give one non-negative BIGINT. Two different texts of one group share a key with probability about
 * n² / 2^64 for n texts (about 5 in 100 million for a million): the only way a distinct count could be one short.
 */
export function textKeySql(dialect: 'duckdb' | 'trino', text: string): string {
  return dialect === 'duckdb'
    ? `CAST(md5_number_upper(${text}) & ${TOP_BIT_CLEARED} AS BIGINT)`
    : `bitwise_and(from_big_endian_64(reverse(substr(md5(to_utf8(${text})), 1, 8))), ${TOP_BIT_CLEARED})`;
}

/**
 * The rollup pair key over an `events` row. DuckDB derives it from the compacted layout's `pair_key` (the same MD5 of
 * the same encoding, ingest/compact-layout.ts) without hashing again; Trino hashes the strings.
 */
export function pairKeySql(dialect: 'duckdb' | 'trino'): string {
  return dialect === 'duckdb' ? `CAST(pair_key & ${TOP_BIT_CLEARED} AS BIGINT)` : textKeySql('trino', PAIR_TEXT);
}

/** The recipient key over an `events` row (NULL without a recipient, as `count(DISTINCT recipient)` skips those). */
export function recipientKeySql(dialect: 'duckdb' | 'trino'): string {
  return `CASE WHEN recipient IS NOT NULL THEN ${textKeySql(dialect, "'r' || recipient")} END`;
}

/**
 * The order of one rollup table's rows: by tenant first, so a file's row groups each hold a narrow range of tenants
 * (ingest/rollups-writer.ts writes them tenant-bounded) and a one-tenant query skips the others by their statistics.
 */
export function rollupOrderBy(table: RollupTable['name']): string {
  switch (table) {
    case 'hourly':
      return 'tenant_id, hour, is_simulator';
    case 'pairs':
      return 'tenant_id, pair_key';
    case 'bounces':
    case 'complaints':
      return 'tenant_id';
    case 'daily':
      return 'tenant_id, campaign_id, recipient_domain';
  }
}

/**
 * The SELECT that builds one rollup table for the day `:day` (`YYYY-MM-DD`) from `events` (DuckDB, which writes the
 * rollups locally and in the compaction function). The caller COPYs it to the day's file.
 */
export function rollupBuildSql(table: RollupTable['name']): string {
  const day = `event_time >= CAST(:day AS TIMESTAMP) AND event_time < CAST(:day AS TIMESTAMP) + INTERVAL 1 DAY`;
  switch (table) {
    case 'hourly':
      return `SELECT tenant_id, date_trunc('hour', event_time) AS hour, is_simulator, ${metricCountsSql()}
FROM events WHERE ${day}
GROUP BY tenant_id, date_trunc('hour', event_time), is_simulator
ORDER BY ${rollupOrderBy(table)}`;
    case 'pairs':
      return `SELECT tenant_id, campaign_id, recipient_domain, ${pairKeySql('duckdb')} AS pair_key,
  bool_or(event_type = 'open') AS o, bool_or(event_type = 'open' AND NOT machine_open) AS h,
  bool_or(event_type = 'open' AND machine_open) AS m, bool_or(event_type = 'click') AS k
FROM events WHERE ${day} AND event_type IN ('open', 'click')
GROUP BY tenant_id, campaign_id, recipient_domain, pair_key
ORDER BY ${rollupOrderBy(table)}`;
    case 'bounces':
      return `SELECT tenant_id, bounce_type, bounce_subtype, smtp_status, ${recipientKeySql('duckdb')} AS recipient_key,
  count(*) AS bounces, min(diagnostic_code) AS diagnostic_code
FROM events WHERE ${day} AND event_type = 'bounce'
GROUP BY ALL
ORDER BY ${rollupOrderBy(table)}`;
    case 'complaints':
      return `SELECT tenant_id, complaint_feedback_type, complaint_subtype, ${recipientKeySql('duckdb')} AS recipient_key,
  count(*) AS complaints
FROM events WHERE ${day} AND event_type = 'complaint'
GROUP BY ALL
ORDER BY ${rollupOrderBy(table)}`;
    case 'daily':
      return `SELECT tenant_id, campaign_id, recipient_domain, max(subject) AS subject,
  ${metricCountsSql()},
  count(*) FILTER (WHERE ${UNSUBSCRIBE}) AS unsubscribes,
  count(DISTINCT recipient) FILTER (WHERE ${UNSUBSCRIBE}) AS unsubscribed_recipients
FROM events WHERE ${day}
GROUP BY tenant_id, campaign_id, recipient_domain
ORDER BY ${rollupOrderBy(table)}`;
  }
}
