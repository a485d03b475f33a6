import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { COMPACT_LAYOUT, COMPACT_LAYOUT_KEY, copyCompacted, PAIR_KEY_COLUMN, PAIR_KEY_SQL } from './compact-layout';
import { CHECKED_WRITERS, fileStamp, LAKE_COLUMNS, parseLakeFileName } from './lake-schema';

export interface CompactSummary {
  partitions: number;
  filesBefore: number;
  filesAfter: number;
  rowsBefore: number;
  rowsAfter: number;
  duplicatesDropped: number;
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * The end of a partition's hour (`…/dt=YYYY-MM-DD/hour=HH`), in ms since the epoch; null for a folder not named so.
 */
export function partitionHourEnd(dir: string): number | null {
  const m = /dt=(\d{4}-\d{2}-\d{2})[\\/]hour=(\d{2})$/.exec(dir);
  if (!m) return null;
  const start = Date.parse(`${m[1]}T${m[2]}:00:00Z`);
  return Number.isFinite(start) ? start + 3_600_000 : null;
}

/** Partition folders `events/dt=…/hour=…` of a local lake, optionally of one day only. */
export function listPartitions(lakeDir: string, dt?: string): string[] {
  const events = join(lakeDir, 'events');
  if (!existsSync(events)) return [];
  const out: string[] = [];
  for (const day of readdirSync(events).sort()) {
    if (!day.startsWith('dt=') || (dt && day !== `dt=${dt}`)) continue;
    for (const hour of readdirSync(join(events, day)).sort()) {
      if (hour.startsWith('hour=')) out.push(join(events, day, hour));
    }
  }
  return out;
}

/** The layout version a compacted file was written with (its `sesflow_layout` metadata; null: none). */
async function fileLayout(conn: DuckDBConnection, file: string): Promise<string | null> {
  const rows = (
    await conn.runAndReadAll(
      `SELECT CAST(value AS VARCHAR) AS v FROM parquet_kv_metadata(${quote(file)}) WHERE CAST(key AS VARCHAR) = ${quote(COMPACT_LAYOUT_KEY)}`,
    )
  ).getRowObjectsJS() as { v: string }[];
  return rows[0]?.v ?? null;
}

/**
 * Merges each partition's small files into one and drops duplicate event_ids (Firehose delivers at least once).
 * The merged file has the compacted layout (ingest/compact-layout.ts): the lake columns plus `pair_key`, in
 * event-type sections (bounces and complaints, clicks, the rest), each sorted by tenant and event time in
 * tenant-bounded row groups. Crash-safe: the merged file is written under a temporary name,
 * renamed into place, and only then are the old files deleted. A crash between the two leaves the rows twice, which the
 * `events` view hides and the next run removes; nothing is ever lost. A partition holding one compacted file of the
 * current layout is left alone; a lone clean file of any other writer or of an older layout is rewritten.
 */
export async function compactLake(
  lakeDir: string,
  options: {
    dt?: string;
    /** Only partitions whose hour ended at or before this time (the hours Firehose is done writing, mostly). */
    closedBefore?: Date;
    onPartition?: (done: number, total: number) => void;
  } = {},
): Promise<CompactSummary> {
  const summary: CompactSummary = {
    partitions: 0,
    filesBefore: 0,
    filesAfter: 0,
    rowsBefore: 0,
    rowsAfter: 0,
    duplicatesDropped: 0,
  };
  const cutoff = options.closedBefore?.getTime();
  const partitions = listPartitions(lakeDir, options.dt).filter((dir) => {
    if (cutoff === undefined) return true;
    const end = partitionHourEnd(dir);
    return end !== null && end <= cutoff;
  });
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  try {
    for (const [i, dir] of partitions.entries()) {
      const files = readdirSync(dir).filter((f) => f.endsWith('.parquet'));
      if (files.length === 0) continue;
      summary.partitions++;
      summary.filesBefore += files.length;
      const list = `[${files.map((f) => quote(join(dir, f))).join(', ')}]`;
      const counts = (
        await conn.runAndReadAll(
          `SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM read_parquet(${list}, union_by_name = true)`,
        )
      ).getRowObjectsJS()[0] as { n: bigint; d: bigint };
      const n = Number(counts.n);
      const d = Number(counts.d);
      summary.rowsBefore += n;
      summary.rowsAfter += d;
      summary.duplicatesDropped += n - d;
      if (
        files.length === 1 &&
        n === d &&
        parseLakeFileName(files[0]!)?.writer === CHECKED_WRITERS.compacted &&
        (await fileLayout(conn, join(dir, files[0]!))) === COMPACT_LAYOUT
      ) {
        // Checked, clean and in the current layout: nothing to do.
        summary.filesAfter += 1;
        options.onPartition?.(i + 1, partitions.length);
        continue;
      }
      const tmp = join(dir, `.tmp-${randomUUID()}.parquet`);
      // Any pair_key an input file carries is computed again from the strings: the same function, one definition.
      // The window that drops duplicates sorts every row with all its columns: only run when there are any.
      await conn.run(
        `CREATE OR REPLACE TEMP TABLE _compacted AS
         SELECT ${LAKE_COLUMNS.join(', ')}, ${PAIR_KEY_SQL} AS ${PAIR_KEY_COLUMN}
         FROM read_parquet(${list}, union_by_name = true)
         ${n === d ? '' : 'QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY event_time) = 1'}`,
      );
      await copyCompacted(conn, '_compacted', tmp, { orderBy: 'tenant_id, event_time, event_id' });
      await conn.run('DROP TABLE _compacted');
      renameSync(tmp, join(dir, `${CHECKED_WRITERS.compacted}-${fileStamp(new Date())}-${randomUUID()}.parquet`));
      for (const f of files) rmSync(join(dir, f), { force: true });
      summary.filesAfter += 1;
      options.onPartition?.(i + 1, partitions.length);
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return summary;
}
