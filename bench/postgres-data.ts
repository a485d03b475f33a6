import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip, createGzip } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { compactLake } from '../ingest/compact';
import { COMPACT_LAYOUT } from '../ingest/compact-layout';
import { ingestNdjson } from '../ingest/ingest-stream';
import { LAKE_COLUMNS } from '../ingest/lake-schema';
import { generateTraffic } from '../local/traffic-model';

const here = dirname(fileURLToPath(import.meta.url));
/** Cached inputs of every benchmark (git-ignored). */
export const BENCH_DATA_DIR = join(here, '.data');

/**
 * Seeded realistic SES records from the traffic model (50 tenants, 7 days from 2026-10-01), NDJSON.gz, cached. The
 * same file the ingest benchmark makes, so either one reuses the other's.
 */
export async function ensureSesRecords(records: number): Promise<string> {
  mkdirSync(BENCH_DATA_DIR, { recursive: true });
  const file = join(BENCH_DATA_DIR, `ses-records-${records}.ndjson.gz`);
  if (existsSync(file)) return file;
  const tmp = `${file}.tmp`;
  const gz = createGzip({ level: 6 });
  const out = createWriteStream(tmp);
  gz.pipe(out);
  let n = 0;
  for (const rec of generateTraffic({
    seed: 2026,
    tenants: 50,
    messages: Math.ceil(records / 2),
    start: new Date('2026-10-01T00:00:00Z'),
    spanHours: 7 * 24,
    maxRecords: records,
  })) {
    if (!gz.write(`${JSON.stringify(rec)}\n`)) await new Promise<void>((r) => gz.once('drain', () => r()));
    n++;
  }
  gz.end();
  await new Promise<void>((r) => out.once('close', () => r()));
  if (n !== records) throw new Error(`generated ${n} records, wanted ${records}`);
  renameSync(tmp, file);
  return file;
}

export interface BenchLake {
  dir: string;
  /** Rows in the lake (all distinct event ids). */
  rows: number;
  /** Rows of the one-week base lake the real ingest wrote. */
  baseRows: number;
  weeks: number;
  /** `sesflow compact` has run over it (each partition checked and named as a compacted file). */
  compacted?: boolean;
  /** The compaction layout of its files (ingest/compact-layout.ts); an older one is compacted again. */
  layout?: string;
}

/**
 * A lake of at least `minRows` events, cached under `workDir`:
 * 1. `records` traffic-model SES records (one week, 50 tenants) go through the real ingest (Firehose transform,
 *    Parquet writer, event-time partitions) into a base lake;
 * 2. the base week is repeated over the following weeks until `minRows` is reached, each copy shifted by whole weeks
 *    (event and mail times) with its own event and message ids, written in the lake layout (`dt=/hour=` partitions,
 *    one Parquet file per hour);
 * 3. `sesflow compact` (compactLake) checks every partition for duplicate ids and names its file as compacted, which
 *    is the state of a lake in steady operation (the `events` view then has no duplicates to look for).
 * A marker file records a finished build, so an interrupted one is redone.
 */
export async function ensureBenchLake(opts: {
  workDir: string;
  records: number;
  minRows: number;
  log: (line: string) => void;
}): Promise<BenchLake> {
  const marker = join(opts.workDir, `lake-${opts.minRows}.json`);
  if (existsSync(marker)) {
    const cached = JSON.parse(readFileSync(marker, 'utf8')) as BenchLake;
    if (cached.compacted && cached.layout === COMPACT_LAYOUT) return cached;
    return finish(cached, marker, opts.log);
  }
  mkdirSync(opts.workDir, { recursive: true });
  const input = await ensureSesRecords(opts.records);
  const base = join(opts.workDir, `base-lake-${opts.records}`);
  rmSync(base, { recursive: true, force: true });
  const t0 = performance.now();
  const summary = await ingestNdjson(createReadStream(input, { highWaterMark: 256 * 1024 }).pipe(createGunzip()), {
    lakeDir: base,
    sourceName: 'bench',
  });
  if (summary.failed > 0) throw new Error(`${summary.failed} records failed the transform`);
  opts.log(
    `base lake: ${summary.rows.toLocaleString('en-US')} rows from ${summary.records.toLocaleString('en-US')} records in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  const weeks = Math.ceil(opts.minRows / summary.rows);
  const dir = join(opts.workDir, `lake-${opts.minRows}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  const c = await db.connect();
  const shifted = (col: string) => `${col} + to_days(CAST(7 * w AS INTEGER)) AS ${col}`;
  const cols = LAKE_COLUMNS.map((col) => {
    if (col === 'event_id')
      return `CASE WHEN w = 0 THEN event_id ELSE md5(event_id || '-' || CAST(w AS VARCHAR)) END AS event_id`;
    if (col === 'message_id')
      return `CASE WHEN w = 0 THEN message_id ELSE message_id || '-w' || CAST(w AS VARCHAR) END AS message_id`;
    if (col === 'event_time' || col === 'mail_time') return shifted(col);
    return col;
  }).join(', ');
  const t1 = performance.now();
  await c.run(`SET preserve_insertion_order = false`);
  await c.run(
    `COPY (SELECT *, strftime(event_time, '%Y-%m-%d') AS dt, strftime(event_time, '%H') AS hour FROM (
             SELECT ${cols} FROM read_parquet('${join(base, 'events', '**', '*.parquet')}', union_by_name = true),
             range(${weeks}) t(w)))
     TO '${join(dir, 'events')}' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (dt, hour))`,
  );
  const rows = Number(
    (
      await c.runAndReadAll(`SELECT count(*) FROM read_parquet('${join(dir, 'events', '**', '*.parquet')}')`)
    ).getRows()[0]![0],
  );
  c.closeSync();
  db.closeSync();
  opts.log(
    `lake: ${rows.toLocaleString('en-US')} rows over ${weeks} weeks in ${((performance.now() - t1) / 1000).toFixed(0)} s`,
  );
  return finish({ dir, rows, baseRows: summary.rows, weeks }, marker, opts.log);
}

/** Compacts the lake (step 3) and records the finished build in the marker file. */
async function finish(lake: BenchLake, marker: string, log: (line: string) => void): Promise<BenchLake> {
  const t0 = performance.now();
  const c = await compactLake(lake.dir);
  if (c.duplicatesDropped !== 0 || c.rowsAfter !== lake.rows) {
    throw new Error(`compaction found ${c.duplicatesDropped} duplicates in a lake built without any`);
  }
  log(`compacted: ${c.partitions} partitions checked in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const done: BenchLake = { ...lake, compacted: true, layout: COMPACT_LAYOUT };
  const tmp = `${marker}.tmp`;
  writeFileSync(tmp, JSON.stringify(done));
  renameSync(tmp, marker);
  return done;
}
