import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { COMPACT_LAYOUT_KEY } from '../ingest/compact-layout';
import { CHECKED_WRITERS, fileStamp } from '../ingest/lake-schema';
import { openLake } from '../queries/duckdb-lake';
import { runNamedQuery } from '../queries/run-named-query';

/** Bytes this process has read through read()/pread() (DuckDB reads local Parquet files so); null off Linux. */
function bytesRead(): number | null {
  if (!existsSync('/proc/self/io')) return null;
  return Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
}

/** What one tenant-summary read and took, for one tenant or all. */
export interface LocalityFigures {
  tenant: string;
  /** The tenant's share of the lake's rows. */
  share: number;
  /** Bytes DuckDB read for tenant-summary of that tenant, and of every tenant (null off Linux). */
  oneBytes: number | null;
  allBytes: number | null;
  /** Median milliseconds of 5 runs of each (lake opened once). */
  oneMs: number;
  allMs: number;
  /** Row groups of the lake's files. */
  rowGroups: number;
  files: number;
}

/**
 * tenant-summary over a local lake for the tenant of median size, and for every tenant: DuckDB's bytes read (from the
 * files, its file cache off; footers come from the Parquet metadata cache, read once when the lake is opened) and time.
 */
export async function measureTenantLocality(lakeDir: string): Promise<LocalityFigures> {
  const db = await openLake(lakeDir);
  try {
    await db.connection.run('SET enable_external_file_cache = false');
    const tenants = await db.query<{ tenant: string; share: number }>(
      `SELECT tenant_id AS tenant, count(*) / sum(count(*)) OVER () AS share FROM events_raw GROUP BY 1 ORDER BY 2`,
    );
    const { tenant, share } = tenants[Math.floor(tenants.length / 2)]!;
    const [meta] = await db.query<{ groups: bigint; files: bigint }>(
      `SELECT count(*) AS groups, count(DISTINCT file_name) AS files
       FROM parquet_metadata('${join(lakeDir, 'events', '**', '*.parquet')}') WHERE path_in_schema = 'tenant_id'`,
    );
    const run = async (scope: string | null) => {
      const times: number[] = [];
      let bytes: number | null = null;
      for (let i = 0; i < 5; i++) {
        const b0 = bytesRead();
        const t0 = performance.now();
        await runNamedQuery(db, 'tenant-summary', {}, { tenant: scope });
        times.push(performance.now() - t0);
        const b1 = bytesRead();
        if (i === 0 && b0 !== null && b1 !== null) bytes = b1 - b0;
      }
      times.sort((a, b) => a - b);
      return { ms: times[2]!, bytes };
    };
    const one = await run(tenant);
    const all = await run(null);
    return {
      tenant,
      share,
      oneBytes: one.bytes,
      allBytes: all.bytes,
      oneMs: one.ms,
      allMs: all.ms,
      rowGroups: Number(meta!.groups),
      files: Number(meta!.files),
    };
  } finally {
    db.close();
  }
}

/**
 * A copy of a compacted lake in the layout compaction wrote before tenant-bounded row groups (layout 3: each hourly
 * file sorted by tenant and time, DuckDB's default row groups), file names and metadata as compaction gives them: the
 * baseline of the tenant-locality figures.
 */
export async function writeLayout3Copy(lakeDir: string, target: string): Promise<void> {
  mkdirSync(target, { recursive: true });
  // One thread: one file per partition, in the order given.
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  try {
    await c.run(
      `COPY (SELECT * EXCLUDE (dt, hour), dt, hour FROM read_parquet('${join(lakeDir, 'events', '**', '*.parquet')}', hive_partitioning = true)
             ORDER BY dt, hour, tenant_id, event_time, event_id)
       TO '${join(target, 'events')}' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (dt, hour),
         KV_METADATA {${COMPACT_LAYOUT_KEY}: '3'})`,
    );
  } finally {
    c.closeSync();
    db.closeSync();
  }
  const events = join(target, 'events');
  for (const day of readdirSync(events)) {
    for (const hour of readdirSync(join(events, day))) {
      const dir = join(events, day, hour);
      for (const f of readdirSync(dir)) {
        const name = `${CHECKED_WRITERS.compacted}-${fileStamp(new Date())}-${randomUUID()}.parquet`;
        renameSync(join(dir, f), join(dir, name));
      }
    }
  }
}
