import type { DuckDBConnection } from '@duckdb/node-api';
import {
  COMPACT_LAYOUT,
  COMPACT_LAYOUT_KEY,
  copyCompacted,
  PAIR_KEY_COLUMN,
  PAIR_KEY_SQL,
} from '../ingest/compact-layout';
import { ErasureStoreError } from './errors';
import {
  addressRegexSql,
  DEVICE_COLUMNS,
  recipientRowSql,
  rowHoldsAddressSql,
  sqlString,
  TEXT_COLUMNS,
} from './lake-match';
import type { Pseudonymiser } from './request';

/** What one file held, and what its rewrite changed. */
export interface FileErasure {
  /** Rows of the file. */
  rows: number;
  /** Rows whose recipient is the address (their recipient, event id, IP and user agent are replaced). */
  recipientRows: number;
  /** Rows holding the address anywhere (recipient rows, and rows whose text mentions it). */
  holdingRows: number;
  /** (message id, recipient as stored) of the recipient rows. */
  subjects: { messageId: string; recipient: string }[];
}

async function rowsOf<T>(conn: DuckDBConnection, sql: string): Promise<T[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as T[];
}

/** What a Parquet file of the lake holds of the address (read only). */
export async function inspectParquetFile(
  conn: DuckDBConnection,
  file: string,
  address: string,
  tenant?: string,
): Promise<FileErasure> {
  const src = `read_parquet(${sqlString(file)}, hive_partitioning = false)`;
  const counts = (
    await rowsOf<{ n: bigint; h: bigint }>(
      conn,
      `SELECT count(*) AS n, count(*) FILTER (WHERE ${rowHoldsAddressSql(address, tenant)}) AS h FROM ${src}`,
    )
  )[0]!;
  const subjects = await rowsOf<{ message_id: string; recipient: string }>(
    conn,
    `SELECT message_id, recipient FROM ${src} WHERE ${recipientRowSql(address, tenant)}`,
  );
  return {
    rows: Number(counts.n),
    recipientRows: subjects.length,
    holdingRows: Number(counts.h),
    subjects: subjects.map((s) => ({ messageId: s.message_id, recipient: s.recipient })),
  };
}

/**
 * Writes `output`: the Parquet file `input` with the address forgotten and every count kept.
 * - On the address's rows (`recipient` is the address, any case; of `tenant` when given): `recipient` becomes its
 *   keyed pseudonym, `event_id` a keyed id (the old one is a digest of the address), `ip` and `user_agent` NULL.
 *   `recipient_domain`, the event type, time, message, tenant and every flag are kept, so every aggregate (sent,
 *   bounces, unique opens and clicks by (message, recipient), per domain) is exactly as before.
 * - In every text column of every row (of `tenant` when given): each form of the address is replaced by its text
 *   pseudonym (a diagnostic code or a link may quote it).
 * - Row order, every other column, `pair_key` (computed again from the new recipient, as compaction computes it) and
 *   the compacted layout's metadata are kept (and a file of the current layout keeps its event-type sections and tenant-bounded row groups);
 *   a file that had no `pair_key` still has none.
 * The result is checked before it is returned: as many rows as the input, none holding the address.
 */
export async function rewriteParquetFile(
  conn: DuckDBConnection,
  input: string,
  output: string,
  address: string,
  pseudonyms: Pseudonymiser,
  tenant?: string,
): Promise<FileErasure> {
  const found = await inspectParquetFile(conn, input, address, tenant);
  const columns = (
    await rowsOf<{ name: string }>(
      conn,
      `SELECT name FROM parquet_schema(${sqlString(input)}) WHERE num_children IS NULL`,
    )
  ).map((c) => c.name);
  const layout = (
    await rowsOf<{ v: string }>(
      conn,
      `SELECT CAST(value AS VARCHAR) AS v FROM parquet_kv_metadata(${sqlString(input)}) WHERE CAST(key AS VARCHAR) = ${sqlString(COMPACT_LAYOUT_KEY)}`,
    )
  )[0]?.v;

  const idRows = await rowsOf<{ event_id: string }>(
    conn,
    `SELECT DISTINCT event_id FROM read_parquet(${sqlString(input)}, hive_partitioning = false) WHERE ${recipientRowSql(address, tenant)} AND event_id IS NOT NULL`,
  );
  const stored = [...new Set(found.subjects.map((s) => s.recipient))];
  await conn.run('CREATE OR REPLACE TEMP TABLE _erase_ids (old VARCHAR, new VARCHAR)');
  await conn.run('CREATE OR REPLACE TEMP TABLE _erase_rcp (old VARCHAR, new VARCHAR)');
  const values = (pairs: [string, string][]) => pairs.map(([a, b]) => `(${sqlString(a)}, ${sqlString(b)})`).join(', ');
  for (let i = 0; i < idRows.length; i += 1000) {
    const chunk = idRows
      .slice(i, i + 1000)
      .map((r) => [r.event_id, pseudonyms.eventId(r.event_id)] as [string, string]);
    await conn.run(`INSERT INTO _erase_ids VALUES ${values(chunk)}`);
  }
  if (stored.length > 0) {
    await conn.run(`INSERT INTO _erase_rcp VALUES ${values(stored.map((s) => [s, pseudonyms.recipient(s)]))}`);
  }

  const own = recipientRowSql(address, tenant, 'r.');
  const inTenant = tenant ? `r.tenant_id = ${sqlString(tenant)}` : 'TRUE';
  const pattern = addressRegexSql(address);
  const replacement = sqlString(pseudonyms.text(address));
  const select = columns
    .filter((c) => c !== PAIR_KEY_COLUMN)
    .map((c) => {
      if (c === 'event_id') return `CASE WHEN ${own} THEN coalesce(i.new, r.event_id) ELSE r.event_id END AS event_id`;
      if (c === 'recipient')
        return `CASE WHEN ${own} THEN coalesce(p.new, r.recipient) ELSE r.recipient END AS recipient`;
      if (DEVICE_COLUMNS.includes(c)) {
        return `CASE WHEN ${own} THEN NULL WHEN ${inTenant} THEN regexp_replace(r.${c}, ${pattern}, ${replacement}, 'g') ELSE r.${c} END AS ${c}`;
      }
      if (TEXT_COLUMNS.includes(c)) {
        return `CASE WHEN ${inTenant} THEN regexp_replace(r.${c}, ${pattern}, ${replacement}, 'g') ELSE r.${c} END AS ${c}`;
      }
      return `r."${c.replaceAll('"', '""')}"`;
    });
  const pairKey = columns.includes(PAIR_KEY_COLUMN) ? `, ${PAIR_KEY_SQL} AS ${PAIR_KEY_COLUMN}` : '';
  const rewritten = `SELECT * EXCLUDE (_row)${pairKey}, _row FROM (
         SELECT ${select.join(', ')}, r.file_row_number AS _row
         FROM read_parquet(${sqlString(input)}, hive_partitioning = false, file_row_number = true) r
         LEFT JOIN _erase_ids i ON r.event_id = i.old
         LEFT JOIN _erase_rcp p ON r.recipient = p.old)`;
  if (layout === COMPACT_LAYOUT) {
    // A file of the current compacted layout keeps its event-type sections and tenant-bounded row groups (neither the
    // type nor the tenant column is changed), each group in the file's own row order.
    await conn.run(`CREATE OR REPLACE TEMP TABLE _erase_out AS ${rewritten}`);
    await copyCompacted(conn, '_erase_out', output, { orderBy: '_row', columns: '* EXCLUDE (_row)', layout });
    await conn.run('DROP TABLE _erase_out');
  } else {
    const metadata = layout !== undefined ? `, KV_METADATA {${COMPACT_LAYOUT_KEY}: ${sqlString(layout)}}` : '';
    await conn.run(
      `COPY (SELECT * EXCLUDE (_row) FROM (${rewritten}) ORDER BY _row)
       TO ${sqlString(output)} (FORMAT parquet, COMPRESSION snappy${metadata})`,
    );
  }
  const after = await inspectParquetFile(conn, output, address, tenant);
  if (after.rows !== found.rows || after.holdingRows !== 0) {
    throw new ErasureStoreError(
      `the rewrite of a lake file kept ${after.holdingRows} rows of the address or lost rows (${after.rows} of ${found.rows}); the file was left as it was`,
    );
  }
  return found;
}
