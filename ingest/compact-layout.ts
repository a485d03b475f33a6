/**
 * The layout compaction writes, and what DuckDB reads back from it (queries/duckdb-lake.ts, the dashboards' lake cache).
 *
 * A compacted file holds the lake columns plus `pair_key`, sorted by (tenant_id, event_time), Snappy-compressed:
 * - sorted by tenant, a one-tenant report skips most of each file's rows: DuckDB filters the sorted `tenant_id`
 *   column first and decodes the other columns only where it matches, and the row groups of a file large enough to
 *   hold several (a day's worth of rows) carry narrow tenant ranges, which DuckDB and Athena skip by their
 *   statistics. Row groups are DuckDB's default size: smaller ones (2,048 rows, tried) and ZSTD made every report
 *   slower (1.5-1.7x CPU for an all-tenant report, measured), the per-row-group and decompression costs outweighing
 *   what skipping saves in hourly files of a few thousand rows;
 * - `pair_key` is a 64-bit key of the (message_id, recipient) pair of an open or click row (NULL on other rows): the
 *   unique opens and clicks (distinct pairs, DESIGN.md) group by this integer instead of two long strings, which was
 *   most of the cost of every metrics report. Files written before compaction lack the column; DuckDB computes the
 *   same value from the strings for them ({@link PAIR_KEY_SQL}), so a pair counts once wherever its rows are.
 *
 * The key is the upper 64 bits of the MD5 of an unambiguous encoding of the pair (the message id with its length,
 * then the recipient; a NULL of either encoded apart from any text). MD5 is fixed forever, unlike DuckDB's own
 * `hash()`, which may change between DuckDB versions: files compacted by one version and rows hashed by another
 * must agree. Two different pairs of one group (tenant, day, campaign, domain) share a key with probability about
 * n² / 2^65 for n pairs: about 3 in 100 million for a million pairs, the only way a count could be one short. Athena
 * does not read the column: the Trino rendering of the named queries groups by the two strings (exact).
 */
export const PAIR_KEY_COLUMN = 'pair_key';

/** The DuckDB expression of a row's pair key (over the lake columns of one row). */
export const PAIR_KEY_SQL = `CASE WHEN event_type IN ('open', 'click') THEN md5_number_upper(
  coalesce(CAST(length(message_id) AS VARCHAR) || ':' || message_id, '-') || '|' || coalesce('r' || recipient, '-')) END`;

/**
 * The layout version, written in each compacted file's key-value metadata (`sesflow_layout`). A compacted file of an
 * older layout (or none) is rewritten by the next compaction, so `sesflow compact` brings an existing lake up to date.
 */
export const COMPACT_LAYOUT = '3';
export const COMPACT_LAYOUT_KEY = 'sesflow_layout';
