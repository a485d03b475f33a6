import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * The layout compaction writes, and what DuckDB reads back from it (queries/duckdb-lake.ts, the dashboards' lake cache).
 *
 * A compacted file holds the lake columns plus `pair_key`, sorted by (tenant_id, event_time), Snappy-compressed:
 * - its row groups are tenant-bounded ({@link tenantRowGroups}): consecutive tenants share a row group of at most
 *   {@link TENANT_ROW_GROUP_ROWS} rows, never split across two unless one tenant alone holds more; a tenant larger
 *   than that has row groups of its own. Each row group's `tenant_id` statistics (min, max) then name a narrow range
 *   of tenants, and a one-tenant query (`WHERE tenant_id = ?`) reads only the row groups of that tenant: DuckDB and
 *   Athena skip the others by their statistics, so one tenant's month reads about its own share of the bytes (plus
 *   the footers) instead of every tenant's (1.0 % against 94 % for a tenant of 1.3 % of a 10 M-event lake). The cost is
 *   many small row groups: an all-tenant report read 1.6-2.4x the bytes and took 1.35-3x the time of version 3
 *   (DuckDB's default row groups: an hourly file of under 122,880 rows was one row group), docs/BENCHMARKS.md,
 *   "Tenant locality";
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
export const COMPACT_LAYOUT = '4';
export const COMPACT_LAYOUT_KEY = 'sesflow_layout';

/**
 * The most rows a row group shared by several tenants holds: DuckDB's vector size. The grouped write
 * ({@link copyTenantGrouped}) hands DuckDB's Parquet writer one sorted branch per group and has it close a row group at
 * the end of each chunk it receives (`ROW_GROUP_SIZE 1`); a chunk holds at most this many rows and never spans two
 * branches, so no row group is larger or crosses a group boundary.
 */
export const TENANT_ROW_GROUP_ROWS = 2048;

/** A run of consecutive tenants (in `tenant_id` order, NULL last) written as one row group or, alone, as several. */
export interface TenantGroup {
  /** First and last tenant of the run; null for the rows without a tenant (a group of their own, last). */
  first: string | null;
  last: string | null;
  rows: number;
}

/**
 * Packs tenants (sorted by tenant_id, NULL last, with their row counts) into row-group runs: a tenant joins the
 * current run while the run stays within `maxRows`; a tenant of more rows than that is a run of its own (written as
 * several row groups, all its own). Rows without a tenant are a run of their own.
 */
export function tenantRowGroups(
  tenants: readonly { tenant: string | null; rows: number }[],
  maxRows = TENANT_ROW_GROUP_ROWS,
): TenantGroup[] {
  const out: TenantGroup[] = [];
  let open: TenantGroup | undefined;
  for (const { tenant, rows } of tenants) {
    if (rows <= 0) continue;
    if (tenant === null) {
      open = undefined;
      out.push({ first: null, last: null, rows });
    } else if (open && open.rows + rows <= maxRows) {
      open.last = tenant;
      open.rows += rows;
    } else {
      open = { first: tenant, last: tenant, rows };
      out.push(open);
    }
  }
  return out;
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * Writes a DuckDB relation (`relation`: a table or view name) to a Parquet file in the compacted layout: tenant-bounded
 * row groups ({@link tenantRowGroups}), rows ordered by `orderBy` within each group, Snappy, the layout version in the
 * key-value metadata. `orderBy` must list `tenant_id` first (or keep an order already sorted by tenant, as an erasure
 * rewrite does), so the file as a whole stays sorted by tenant. `columns` is the select list (default every column).
 * The rollup writer uses the same row groups with its own compression and layout key (`compression`, `layoutKey`).
 */
export async function copyTenantGrouped(
  conn: DuckDBConnection,
  relation: string,
  target: string,
  options: { orderBy: string; columns?: string; layout?: string; layoutKey?: string; compression?: 'snappy' | 'zstd' },
): Promise<void> {
  const counts = (
    await conn.runAndReadAll(
      `SELECT tenant_id AS tenant, count(*) AS rows FROM ${relation} GROUP BY tenant_id ORDER BY tenant_id NULLS LAST`,
    )
  ).getRowObjectsJS() as { tenant: string | null; rows: bigint }[];
  const groups = tenantRowGroups(counts.map((c) => ({ tenant: c.tenant, rows: Number(c.rows) })));
  const columns = options.columns ?? '*';
  const branches = groups.map((g) => {
    const where =
      g.first === null
        ? 'tenant_id IS NULL'
        : `tenant_id >= ${sqlString(g.first)} AND tenant_id <= ${sqlString(g.last!)}`;
    return `(SELECT ${columns} FROM ${relation} WHERE ${where} ORDER BY ${options.orderBy})`;
  });
  // An empty relation still gets a file with the schema (no row group).
  const body = branches.length > 0 ? branches.join('\nUNION ALL\n') : `SELECT ${columns} FROM ${relation}`;
  await conn.run(
    `COPY (${body}) TO ${sqlString(target)}
     (FORMAT parquet, COMPRESSION ${options.compression ?? 'snappy'}, ROW_GROUP_SIZE 1,
      KV_METADATA {${options.layoutKey ?? COMPACT_LAYOUT_KEY}: ${sqlString(options.layout ?? COMPACT_LAYOUT)}})`,
  );
}
