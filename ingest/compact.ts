import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
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

/**
 * Merges each partition's small files into one and drops duplicate event_ids (Firehose delivers at least once).
 * Crash-safe: the merged file is written under a temporary name, renamed into place, and only then are the old files
 * deleted. A crash between the two leaves the rows twice, which the `events` view hides and the next run removes;
 * nothing is ever lost. A partition with one file and no duplicates is left alone.
 */
export async function compactLake(
  lakeDir: string,
  options: { dt?: string; onPartition?: (done: number, total: number) => void } = {},
): Promise<CompactSummary> {
  const summary: CompactSummary = {
    partitions: 0,
    filesBefore: 0,
    filesAfter: 0,
    rowsBefore: 0,
    rowsAfter: 0,
    duplicatesDropped: 0,
  };
  const partitions = listPartitions(lakeDir, options.dt);
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
      if (files.length === 1 && n === d) {
        // Checked and clean: named as a compacted file, so the `events` view need not look at it again.
        if (parseLakeFileName(files[0]!)?.writer !== CHECKED_WRITERS.compacted) {
          renameSync(
            join(dir, files[0]!),
            join(dir, `${CHECKED_WRITERS.compacted}-${fileStamp(new Date())}-${randomUUID()}.parquet`),
          );
        }
        summary.filesAfter += 1;
        options.onPartition?.(i + 1, partitions.length);
        continue;
      }
      const tmp = join(dir, `.tmp-${randomUUID()}.parquet`);
      await conn.run(
        `COPY (SELECT ${LAKE_COLUMNS.join(', ')} FROM read_parquet(${list}, union_by_name = true)
               QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY event_time) = 1
               ORDER BY event_time)
         TO ${quote(tmp)} (FORMAT parquet, COMPRESSION zstd)`,
      );
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
