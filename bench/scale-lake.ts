import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { CHECKED_WRITERS } from '../ingest/lake-schema';

const here = dirname(fileURLToPath(import.meta.url));
const SESFLOW = join(here, '..', 'bin', 'sesflow.mjs');

/** The scale lake's shape (issue #17): 500 tenants, 90 days of traffic, ending at the top of the build day (UTC). */
export const SCALE_TENANTS = 500;
export const SCALE_DAYS = 90;
/** Lake rows per simulated message (traffic model: 1-3 recipients, several events each; measured at 1 M, 2.6). */
const ROWS_PER_MESSAGE = 2.62;
/** Disk per event, used before a lake exists to size one (measured: 160 B at 1 M, 128 B at 10 M; a lake's own wins). */
const COMPACTED_BYTES_PER_EVENT = 160;
const GZIP_INPUT_BYTES_PER_EVENT = 100;
/** Uncompacted ingest files are about 3.6x the compacted size (docs/BENCHMARKS.md, ingest). */
const UNCOMPACTED_FACTOR = 3.6;
/** Disk left to everyone else on the machine, whatever the build needs. */
export const DISK_RESERVE_BYTES = 5e9;

/** The cost of one build stage, summed over chunks: wall and CPU seconds, the largest peak RSS of one run. */
export interface StageCost {
  runs: number;
  wallS: number;
  cpuS: number;
  maxRssMb: number;
}

export interface ScaleLake {
  dir: string;
  /** Events asked for (1e6, 1e7, 1e8). */
  target: number;
  /** Rows in the lake after the last compaction (distinct events). */
  rows: number;
  /** First and last day (exclusive) the sends span, YYYY-MM-DD. */
  from: string;
  to: string;
  chunkDays: number;
  chunksDone: number;
  chunks: number;
  built: boolean;
  /** Build cost per stage (simulate, ingest, compact), and the disk it took. */
  cost: Record<'simulate' | 'ingest' | 'compact', StageCost>;
  build: { wallS: number; inputBytes: number; peakDiskBytes: number; lakeBytes: number; startedAt: string };
  /** The last re-compaction of a reused lake (null: built in this run). */
  recompact?: { wallS: number; cpuS: number; summary: string } | null;
}

/** `1M`, `10M`, `100M`, `250k` → a number of events. */
export function parseEventCount(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmM]?)$/.exec(text.trim());
  if (!m) throw new Error(`not an event count (like 1M, 10M, 100M): ${text}`);
  const n = Number(m[1]) * (m[2]?.toLowerCase() === 'm' ? 1e6 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1);
  if (!Number.isInteger(n) || n < 1000)
    throw new Error(`an event count must be a whole number of at least 1k: ${text}`);
  return n;
}

export const eventLabel = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);
export const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;

/** Free bytes on the file system holding `dir` (or its nearest existing parent). */
export function freeDisk(dir: string): number {
  let d = dir;
  while (!existsSync(d)) d = dirname(d);
  const s = statfsSync(d);
  return s.bavail * s.bsize;
}

/** Bytes of the files under `dir`. */
export function dirBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  }
  return total;
}

/**
 * Runs `sesflow <args>` under GNU time: wall and CPU seconds (user + system of the command and every process it
 * waited for, the capped-heap child of `ingest` and `compact` included) and the peak RSS of the largest of them.
 */
export function runSesflow(
  args: string[],
  timeFile: string,
): { stdout: string; wallS: number; cpuS: number; maxRssMb: number } {
  const stdout = execFileSync(
    '/usr/bin/time',
    ['-f', '%e %U %S %M', '-o', timeFile, process.execPath, SESFLOW, ...args],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const [wall, user, sys, rssKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { stdout, wallS: wall!, cpuS: user! + sys!, maxRssMb: rssKb! / 1024 };
}

const addCost = (c: StageCost, r: { wallS: number; cpuS: number; maxRssMb: number }) => {
  c.runs++;
  c.wallS += r.wallS;
  c.cpuS += r.cpuS;
  c.maxRssMb = Math.max(c.maxRssMb, r.maxRssMb);
};

/** Days (YYYY-MM-DD) holding any event file that is not a compacted one: what the last ingest touched. */
function uncompactedDays(lake: string): string[] {
  const events = join(lake, 'events');
  if (!existsSync(events)) return [];
  const days: string[] = [];
  for (const day of readdirSync(events).sort()) {
    if (!day.startsWith('dt=')) continue;
    const hours = readdirSync(join(events, day)).filter((h) => h.startsWith('hour='));
    const stale = hours.some((h) =>
      readdirSync(join(events, day, h)).some(
        (f) => f.endsWith('.parquet') && !f.startsWith(`${CHECKED_WRITERS.compacted}-`),
      ),
    );
    if (stale) days.push(day.slice(3));
  }
  return days;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const DAY_MS = 86_400_000;

/** Chunk length: a few days, fewer for bigger lakes, so a chunk's uncompacted files stay near 1-2 GB. */
function chunkDaysFor(target: number): number {
  if (target <= 2e6) return 10;
  if (target <= 2e7) return 5;
  return 2;
}

/** What the rest of a build needs on disk: the compacted lake still to come plus one chunk's input and ingest files. */
function bytesStillNeeded(lake: ScaleLake, bytesPerEvent: number): number {
  const left = Math.max(0, lake.target - lake.rows);
  const perChunk = lake.target / lake.chunks;
  return (
    left * bytesPerEvent +
    perChunk * (GZIP_INPUT_BYTES_PER_EVENT + UNCOMPACTED_FACTOR * bytesPerEvent) +
    DISK_RESERVE_BYTES
  );
}

/** Rows in the lake's event files (compaction leaves one clean file per hour, so these are distinct events). */
async function lakeRows(lakeDir: string): Promise<number> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  try {
    const glob = join(lakeDir, 'events', '*', '*', '*.parquet').replaceAll("'", "''");
    const rows = (await conn.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${glob}')`)).getRowObjectsJS();
    return Number((rows[0] as { n: bigint }).n);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/**
 * The scale lake of `target` events under `cacheDir`, built with `sesflow simulate` + `ingest` + `compact` in chunks
 * of a few days (each chunk's input deleted once compacted, so uncompacted files never pile up), or reused from an
 * earlier run, re-compacted first (`sesflow compact` brings a lake to the current layout and rollups). Returns null,
 * after logging one line, when the disk would not hold it.
 */
export async function ensureScaleLake(opts: {
  cacheDir: string;
  target: number;
  log: (line: string) => void;
}): Promise<ScaleLake | null> {
  const { cacheDir, target, log } = opts;
  const label = eventLabel(target);
  const dir = join(cacheDir, `lake-${label}`);
  const manifestFile = join(cacheDir, `lake-${label}.json`);
  const timeFile = join(cacheDir, `.time-${label}`);
  mkdirSync(cacheDir, { recursive: true });
  const save = (l: ScaleLake) => writeFileSync(manifestFile, `${JSON.stringify(l, null, 2)}\n`);
  let lake: ScaleLake;
  if (existsSync(manifestFile) && existsSync(dir)) {
    lake = JSON.parse(readFileSync(manifestFile, 'utf8')) as ScaleLake;
    if (lake.built) {
      log(
        `scale ${label}: reusing the lake built ${lake.build.startedAt} (${lake.rows.toLocaleString('en-US')} events); re-compacting it first`,
      );
      const r = runSesflow(['compact', '--lake', dir, '--format', 'json'], timeFile);
      lake.recompact = { wallS: r.wallS, cpuS: r.cpuS, summary: r.stdout.trim() };
      lake.build.lakeBytes = dirBytes(dir);
      log(`scale ${label}: re-compacted in ${r.wallS.toFixed(0)} s (${r.cpuS.toFixed(0)} CPU-s): ${r.stdout.trim()}`);
      save(lake);
      return lake;
    }
    log(`scale ${label}: resuming an interrupted build at chunk ${lake.chunksDone + 1} of ${lake.chunks}`);
  } else {
    const end = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const chunkDays = chunkDaysFor(target);
    lake = {
      dir,
      target,
      rows: 0,
      from: isoDay(end - SCALE_DAYS * DAY_MS),
      to: isoDay(end),
      chunkDays,
      chunksDone: 0,
      chunks: Math.ceil(SCALE_DAYS / chunkDays),
      built: false,
      cost: {
        simulate: { runs: 0, wallS: 0, cpuS: 0, maxRssMb: 0 },
        ingest: { runs: 0, wallS: 0, cpuS: 0, maxRssMb: 0 },
        compact: { runs: 0, wallS: 0, cpuS: 0, maxRssMb: 0 },
      },
      build: { wallS: 0, inputBytes: 0, peakDiskBytes: 0, lakeBytes: 0, startedAt: new Date().toISOString() },
      recompact: null,
    };
  }
  const need0 = bytesStillNeeded(lake, COMPACTED_BYTES_PER_EVENT);
  const free0 = freeDisk(cacheDir);
  if (need0 > free0) {
    log(
      `scale ${label}: build skipped: it needs about ${gb(need0)} (lake ${gb(target * COMPACTED_BYTES_PER_EVENT)} + one chunk + ${gb(DISK_RESERVE_BYTES)} left free), ${gb(free0)} free`,
    );
    return null;
  }
  log(
    `scale ${label}: building ${lake.chunks} chunks of ${lake.chunkDays} days (${lake.from} to ${lake.to}, ${SCALE_TENANTS} tenants) in ${dir}; ${gb(free0)} free, about ${gb(need0)} needed`,
  );
  save(lake);
  const t0 = performance.now();
  const wallBefore = lake.build.wallS;
  const start = Date.parse(`${lake.from}T00:00:00Z`);
  const endMs = Date.parse(`${lake.to}T00:00:00Z`);
  const inputDir = join(cacheDir, `input-${label}`);
  mkdirSync(inputDir, { recursive: true });
  for (let k = lake.chunksDone; k < lake.chunks; k++) {
    const c0 = start + k * lake.chunkDays * DAY_MS;
    const c1 = Math.min(endMs, c0 + lake.chunkDays * DAY_MS);
    const messages = Math.round(((target / ROWS_PER_MESSAGE) * (c1 - c0)) / (endMs - start));
    const bytesPerEvent = lake.rows > 0 ? dirBytes(dir) / lake.rows : COMPACTED_BYTES_PER_EVENT;
    const need = bytesStillNeeded(lake, bytesPerEvent);
    const free = freeDisk(cacheDir);
    if (need > free) {
      log(
        `scale ${label}: build stopped before chunk ${k + 1} of ${lake.chunks} (${isoDay(c0)}): the rest needs about ${gb(need)}, ${gb(free)} free; ${lake.chunksDone} chunks kept, resumed by the next run`,
      );
      save(lake);
      return null;
    }
    const input = join(inputDir, `chunk-${k}.ndjson.gz`);
    const sim = runSesflow(
      [
        'simulate',
        '--out',
        input,
        '--tenants',
        String(SCALE_TENANTS),
        '--messages',
        String(messages),
        '--seed',
        String(17_000 + k),
        '--start',
        new Date(c0).toISOString(),
        '--span-hours',
        String((c1 - c0) / 3_600_000),
        '--no-progress',
      ],
      timeFile,
    );
    addCost(lake.cost.simulate, sim);
    lake.build.inputBytes += statSync(input).size;
    const ing = runSesflow(['ingest', input, '--lake', dir, '--format', 'json', '--no-progress'], timeFile);
    addCost(lake.cost.ingest, ing);
    const peak = dirBytes(dir) + statSync(input).size;
    lake.build.peakDiskBytes = Math.max(lake.build.peakDiskBytes, peak);
    // Days the chunk's sends are over are compacted now; the last days, where its later events (deliveries, opens)
    // also landed, wait for the next chunk's events to be compacted with them (each day is compacted about once).
    const last = k === lake.chunks - 1;
    const days = uncompactedDays(dir).filter((d) => last || Date.parse(`${d}T00:00:00Z`) < c1 - DAY_MS);
    for (const day of days) {
      addCost(lake.cost.compact, runSesflow(['compact', '--lake', dir, '--dt', day, '--format', 'json'], timeFile));
    }
    rmSync(input, { force: true });
    const summary = JSON.parse(ing.stdout.trim()) as { rows: number; duplicates: number; failed: number };
    lake.rows += summary.rows;
    lake.chunksDone = k + 1;
    lake.build.wallS = wallBefore + (performance.now() - t0) / 1000;
    save(lake);
    log(
      `scale ${label}: chunk ${k + 1}/${lake.chunks} ${isoDay(c0)}: ${messages.toLocaleString('en-US')} messages -> ${summary.rows.toLocaleString('en-US')} rows (${summary.failed} failed, ${summary.duplicates} duplicates); simulate ${sim.wallS.toFixed(0)} s, ingest ${ing.wallS.toFixed(0)} s, compact ${days.length} days; lake ${gb(dirBytes(dir))}, peak ${gb(peak)}`,
    );
  }
  rmSync(inputDir, { recursive: true, force: true });
  lake.rows = await lakeRows(dir);
  lake.build.lakeBytes = dirBytes(dir);
  lake.built = true;
  save(lake);
  return lake;
}
