import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { compactLake } from '../ingest/compact';
import { COMPACT_LAYOUT } from '../ingest/compact-layout';
import { LAKE_COLUMNS } from '../ingest/lake-schema';
import { STREAMING_NODE_FLAGS } from '../lib/node-flags.mjs';
import { openLake } from '../queries/duckdb-lake';
import { runNamedQuery } from '../queries/run-named-query';
import type { Benchmark } from './index';
import { ensureSesRecords } from './postgres-data';
import { ensureShuffledRecords } from './shuffled-records';
import { measureTenantLocality, writeLayout3Copy } from './tenant-locality';

const here = dirname(fileURLToPath(import.meta.url));

/** Runs a command pinned to one core (taskset) and parses the JSON line it prints. */
function pinned(args: string[]): Record<string, unknown> {
  const cmd = existsSync('/usr/bin/taskset') ? ['/usr/bin/taskset', '-c', '0', ...args] : args;
  const out = execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** A lake of `copies` x the rows of `lake`, each copy with its own event and message ids, in the lake layout. */
async function multiplyLake(lake: string, target: string, copies: number): Promise<number> {
  mkdirSync(target, { recursive: true });
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  const c = await db.connect();
  const cols = LAKE_COLUMNS.map((col) =>
    col === 'event_id'
      ? `md5(event_id || CAST(i AS VARCHAR)) AS event_id`
      : col === 'message_id'
        ? `message_id || '-' || CAST(i AS VARCHAR) AS message_id`
        : col,
  ).join(', ');
  await c.run(
    `COPY (SELECT ${cols}, strftime(event_time, '%Y-%m-%d') AS dt, strftime(event_time, '%H') AS hour
           FROM read_parquet('${join(lake, 'events', '**', '*.parquet')}', union_by_name = true), range(${copies}) t(i))
     TO '${join(target, 'events')}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (dt, hour))`,
  );
  const n = (
    await c.runAndReadAll(`SELECT count(*) FROM read_parquet('${join(target, 'events', '**', '*.parquet')}')`)
  ).getRows()[0]![0];
  c.closeSync();
  db.closeSync();
  return Number(n);
}

interface IngestRun {
  seconds: number;
  cpuSeconds: number;
  maxRssKb: number;
  summary: { records: number; rows: number; failed: number; duplicates: number };
}

/** `sesflow ingest`'s code in a child pinned to one core, with the heap cap `sesflow ingest` uses. */
function ingestChild(input: string, lake: string): IngestRun {
  const child = join(here, 'ingest-child.ts');
  return pinned([
    process.execPath,
    ...STREAMING_NODE_FLAGS,
    '--import',
    'tsx',
    child,
    input,
    lake,
  ]) as unknown as IngestRun;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Event files of a lake and their rows: count, median and smallest. */
async function fileStats(lake: string): Promise<{ files: number; median: number; min: number }> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  const [files, median, min] = (
    await c.runAndReadAll(
      `SELECT count(*), median(n), min(n) FROM (SELECT count(*) n FROM read_parquet('${join(lake, 'events', '**', '*.parquet')}', filename = true) GROUP BY filename)`,
    )
  ).getRows()[0]!;
  c.closeSync();
  db.closeSync();
  return { files: Number(files), median: Number(median), min: Number(min) };
}

export const ingestBenchmark: Benchmark = {
  name: 'ingest',
  description:
    "NDJSON.gz -> Parquet lake on one core vs read+gunzip+JSON.parse only, in time and in random order (files, rows per file); peak RSS; tenant-summary over 10 M; one tenant's bytes read vs every tenant's",
  async run({ quick, log }) {
    const records = quick ? 100_000 : 1_000_000;
    const summaryRows = quick ? 1_000_000 : 10_000_000;
    log(`generating ${fmt(records)} seeded SES records (cached under bench/.data)...`);
    const input = await ensureSesRecords(records);
    log(`input: ${(statSync(input).size / 1e6).toFixed(1)} MB gzip`);
    const work = mkdtempSync(join(tmpdir(), 'sesflow-bench-ingest-'));
    try {
      const loadBefore = loadavg()[0]!;
      const parse = pinned([process.execPath, join(here, 'parse-only.mjs'), input]) as {
        records: number;
        seconds: number;
        cpuSeconds: number;
      };
      const lake = join(work, 'lake');
      const ingest = ingestChild(input, lake);
      // The same records in random time order (a backfill of an exported bucket), into a lake of their own.
      const shuffledInput = await ensureShuffledRecords(input);
      const parseShuffled = pinned([process.execPath, join(here, 'parse-only.mjs'), shuffledInput]) as typeof parse;
      const randomLake = join(work, 'random-lake');
      const random = ingestChild(shuffledInput, randomLake);
      const loadAfter = loadavg()[0]!;
      const parseRate = parse.records / parse.seconds;
      const ingestRate = ingest.summary.records / ingest.seconds;
      const timeFiles = await fileStats(lake);
      const randomFiles = await fileStats(randomLake);
      const timeRatio = ingestRate / parseRate;
      const randomRatio = random.summary.records / random.seconds / (parseShuffled.records / parseShuffled.seconds);
      log(
        `random order: ${fmt(randomFiles.files)} files (median ${fmt(randomFiles.median)} rows), ${(randomRatio * 100).toFixed(0)} % of parse-only, time order ${(timeRatio * 100).toFixed(0)} % (${timeFiles.files} files); CPU ${random.cpuSeconds.toFixed(1)} s vs ${ingest.cpuSeconds.toFixed(1)} s; parse-only CPU ${parseShuffled.cpuSeconds.toFixed(1)} s vs ${parse.cpuSeconds.toFixed(1)} s; peak RSS ${fmt(random.maxRssKb / 1024)} MB vs ${fmt(ingest.maxRssKb / 1024)} MB`,
      );
      // The same input again: a re-run writes nothing and must stay within the same memory.
      const rerun = ingestChild(input, lake);
      const big = join(work, 'big');
      const copies = Math.ceil(summaryRows / ingest.summary.rows);
      log(
        `ingest ${fmt(ingestRate)}/s vs parse-only ${fmt(parseRate)}/s; building a ${fmt(copies * ingest.summary.rows)}-row lake for tenant-summary...`,
      );
      const bigRows = await multiplyLake(lake, big, copies);
      const timeSummary = async () => {
        const times: number[] = [];
        let tenants = 0;
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          const db = await openLake(big);
          const rows = await runNamedQuery(db, 'tenant-summary', {});
          db.close();
          times.push(performance.now() - t0);
          tenants = rows.length;
        }
        times.sort((a, b) => a - b);
        return { median: times[2]!, min: times[0]!, max: times[4]!, tenants };
      };
      // As written (files of an unknown writer: every id is checked for duplicates), then as compaction leaves it.
      const raw = await timeSummary();
      const c0 = performance.now();
      await compactLake(big);
      const compactS = (performance.now() - c0) / 1000;
      const compacted = await timeSummary();
      // Tenant locality: one tenant's tenant-summary against every tenant's, in the compacted layout and in layout 3
      // (the same rows, one row group per hourly file).
      log('tenant locality: compacted lake, then a layout-3 copy of it...');
      const locality = await measureTenantLocality(big);
      const layout3Dir = join(work, 'layout3');
      await writeLayout3Copy(big, layout3Dir);
      const locality3 = await measureTenantLocality(layout3Dir);
      rmSync(layout3Dir, { recursive: true, force: true });
      const median = compacted.median;
      const tenants = compacted.tenants;
      return {
        name: 'ingest',
        lines: [
          `ingest (1 core):       ${fmt(ingestRate)} records/s (${fmt(ingest.summary.records)} records, ${fmt(ingest.summary.rows)} rows, ${ingest.seconds.toFixed(1)} s)`,
          `parse-only baseline:   ${fmt(parseRate)} records/s (${parse.seconds.toFixed(1)} s)`,
          `ratio ingest/parse:    ${((ingestRate / parseRate) * 100).toFixed(0)} %   (target >= 40 %)`,
          `CPU seconds:           ingest ${ingest.cpuSeconds.toFixed(1)} s, parse-only ${parse.cpuSeconds.toFixed(1)} s: ratio ${((parse.cpuSeconds / ingest.cpuSeconds) * 100).toFixed(0)} % (1-min load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after)`,
          `files, time order:     ${fmt(timeFiles.files)} files, median ${fmt(timeFiles.median)} rows, smallest ${fmt(timeFiles.min)}`,
          `random time order:     ${fmt(randomFiles.files)} files, median ${fmt(randomFiles.median)} rows, smallest ${fmt(randomFiles.min)}; ${fmt(random.summary.records / random.seconds)} records/s, ${(randomRatio * 100).toFixed(0)} % of parse-only (time order ${(timeRatio * 100).toFixed(0)} %; random/time ${((randomRatio / timeRatio) * 100).toFixed(0)} %, target >= 90 %); CPU ${random.cpuSeconds.toFixed(1)} s vs ${ingest.cpuSeconds.toFixed(1)} s; peak RSS ${fmt(random.maxRssKb / 1024)} MB (target < 300 MB)`,
          `peak RSS ingest:       ${fmt(ingest.maxRssKb / 1024)} MB first run, ${fmt(rerun.maxRssKb / 1024)} MB re-run (target < 300 MB); re-run wrote ${rerun.summary.rows} rows, skipped ${fmt(rerun.summary.duplicates)} duplicates`,
          `tenant-summary:        median ${median.toFixed(0)} ms over ${fmt(bigRows)} events, compacted lake (${tenants} tenants; open + query, 5 runs, min ${compacted.min.toFixed(0)} ms, max ${compacted.max.toFixed(0)} ms; compaction took ${compactS.toFixed(1)} s)`,
          `                       median ${raw.median.toFixed(0)} ms on the same lake before compaction (every id checked for duplicates; min ${raw.min.toFixed(0)} ms, max ${raw.max.toFixed(0)} ms)`,
          ...[
            [`compacted (layout ${COMPACT_LAYOUT})`, locality],
            ['layout 3 (baseline) ', locality3],
          ].map(([label, l]) => {
            const f = l as typeof locality;
            const read = f.oneBytes !== null && f.allBytes !== null ? (f.oneBytes / f.allBytes) * 100 : Number.NaN;
            return `one tenant, ${label}: tenant ${f.tenant} (${(f.share * 100).toFixed(1)} % of rows): read ${fmt((f.oneBytes ?? 0) / 1e6)} MB of ${fmt((f.allBytes ?? 0) / 1e6)} MB for every tenant (${read.toFixed(1)} %); tenant-summary ${f.oneMs.toFixed(0)} ms one tenant, ${f.allMs.toFixed(0)} ms all; ${fmt(f.rowGroups)} row groups in ${fmt(f.files)} files`;
          }),
        ],
        figures: {
          ingestRate,
          parseRate,
          ratio: ingestRate / parseRate,
          cpuRatio: parse.cpuSeconds / ingest.cpuSeconds,
          timeOrderFiles: timeFiles.files,
          timeOrderMedianRowsPerFile: timeFiles.median,
          randomOrderFiles: randomFiles.files,
          randomOrderMedianRowsPerFile: randomFiles.median,
          randomOrderRatio: randomRatio,
          randomOrderCpuSeconds: random.cpuSeconds,
          randomOrderPeakRssMb: random.maxRssKb / 1024,
          loadBefore,
          loadAfter,
          peakRssMb: ingest.maxRssKb / 1024,
          rerunPeakRssMb: rerun.maxRssKb / 1024,
          tenantSummaryMedianMs: median,
          tenantSummaryUncompactedMedianMs: raw.median,
          tenantSummaryEvents: bigRows,
          oneTenantBytes: locality.oneBytes ?? Number.NaN,
          allTenantBytes: locality.allBytes ?? Number.NaN,
          oneTenantBytesLayout3: locality3.oneBytes ?? Number.NaN,
          allTenantBytesLayout3: locality3.allBytes ?? Number.NaN,
          oneTenantMs: locality.oneMs,
          allTenantMs: locality.allMs,
          oneTenantMsLayout3: locality3.oneMs,
          allTenantMsLayout3: locality3.allMs,
        },
      };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};
