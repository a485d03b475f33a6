import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { copyTenantGrouped, PAIR_KEY_COLUMN, PAIR_KEY_SQL } from './compact-layout';
import { FsLakeStore } from './fs-lake-store';
import { LAKE_COLUMNS, LAKE_PREFIX } from './lake-schema';
import type { LakeObjectVersion, LakeStore, VersionedListing } from './lake-store';
import { ROLLUP_TABLES, type RollupTable, rollupBuildSql, rollupOrderBy, rollupPrefix } from './rollups';

/**
 * The rollup writer: for each closed day of the lake, the rollup tables of ingest/rollups.ts built over the day's
 * deduplicated rows, one Parquet file per table and day (`rollups/<table>/dt=YYYY-MM-DD/<build>.parquet`).
 *
 * A build is named `sesflow~rollup-<yyyy-MM-dd-HH-mm-ss-SSS>-<digest>.parquet`, the same name in every table: the time
 * the day's raw files were listed, and a digest of that listing (each file's key, size and version: S3 ETag and
 * last-modified time, a local file's mtime). The files of one build are written table by table, `daily` last, each
 * whole or not at all (a local store writes a dot-named temporary file and renames it; an S3 PUT is atomic); the
 * files of older builds are deleted after. So:
 * - a day without a `daily` file is not rolled up;
 * - a day's current build is its `daily` file (the greatest name, if a crash left two); in every table, only the file
 *   of that name belongs to it (a crash or a build under way may leave another for a moment: readers ignore it);
 * - a day is stale when its raw files are no longer those the build read (the digest differs): a late event, a
 *   compaction, an erasure that rewrote a file under the same key; or when the rollup tables' definition or the files'
 *   layout ({@link ROLLUP_LAYOUT}) changed. Any raw file newer than the `daily` file is such a
 *   change, and so is one added between the listing and the end of the build, which a comparison of times would miss.
 *   A stale day is built again at the next compaction; a day whose raw files are all gone (retention) keeps its rollup.
 */

/** The writer name at the start of every rollup file name. */
export const ROLLUP_WRITER = 'sesflow~rollup';

const BUILD_NAME = /^sesflow~rollup-(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3})-([0-9a-f]{16})\.parquet$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
/** A build newer than a day's current one, listed longer ago than this, stopped (a build takes minutes at most). */
const LEFTOVER_AFTER_MS = 3_600_000;

/** A store the writer can use: a lake directory or bucket that lists its objects with versions. */
export type RollupStore = LakeStore & VersionedListing;

/** One day's rollup as the lake holds it now. */
export interface RollupDay {
  /** `YYYY-MM-DD`. */
  day: string;
  /** The current build's file name (the `daily` file), or null: not rolled up. */
  build: string | null;
  /** Rolled up, and built from the raw files the lake holds now (or from raw files since deleted by retention). */
  fresh: boolean;
  /** The day's raw event files, with their versions. */
  raw: LakeObjectVersion[];
  /** Every rollup file of the day, all tables and builds (keys). */
  rollupKeys: string[];
}

/** What a run of the writer did. */
export interface RollupSummary {
  /** Days rolled up for the first time. */
  built: number;
  /** Days rolled up again (stale: a late event, a compaction, an erasure since the last build). */
  rebuilt: number;
  /** Closed days already up to date. */
  fresh: number;
  /** Rollup files written and deleted (older builds, leftovers). */
  filesWritten: number;
  filesDeleted: number;
}

/**
 * The rollup files' layout version. 1: one row group per file (every tenant's rows in it, so a tenant filter skipped
 * nothing). 2: tenant-bounded row groups, as compacted event files have (ingest/compact-layout.ts,
 * `copyTenantGrouped`): consecutive tenants share a row group of at most 2,048 rows, a larger tenant has its own, so
 * DuckDB and Athena read one tenant's row groups only, skipping the others by their `tenant_id` statistics (min and
 * max, written for VARCHAR). Written in each file's key-value metadata ({@link ROLLUP_LAYOUT_KEY}) and part of every
 * build's digest: a build of an older layout is stale, read as raw events by both engines until the next compaction
 * builds it again, once (a day whose raw files are gone keeps its older build: the rows are the same).
 */
export const ROLLUP_LAYOUT = '2';
/** The key-value metadata key of a rollup file's layout version. */
export const ROLLUP_LAYOUT_KEY = 'sesflow_rollup_layout';

/**
 * The rollup tables' definition (columns and build SQL) and files' layout: part of every build's digest, so a change
 * of either makes every day stale, and the next compaction builds each again (a day whose raw files are gone keeps
 * its build).
 */
const contract = (layout: string): string =>
  createHash('sha256')
    .update(JSON.stringify([layout, ROLLUP_TABLES.map((t) => [t.name, t.columns, rollupBuildSql(t.name)])]))
    .digest('hex');
const CONTRACT = contract(ROLLUP_LAYOUT);

/**
 * The digest of a day's raw listing (and of the rollup contract) that names a build. `layout` is for tests that
 * write a build of an older layout; the writer and readers always use the current one.
 */
export function rawListingDigest(raw: readonly LakeObjectVersion[], layout = ROLLUP_LAYOUT): string {
  const h = createHash('sha256');
  h.update(`${layout === ROLLUP_LAYOUT ? CONTRACT : contract(layout)}\n`);
  for (const o of raw) h.update(`${o.key}\t${o.size}\t${o.version}\n`);
  return h.digest('hex').slice(0, 16);
}

/** The file name of a build over `raw` listed at `at` (of the current layout unless `layout` says otherwise). */
export function rollupBuildName(raw: readonly LakeObjectVersion[], at: Date, layout = ROLLUP_LAYOUT): string {
  const stamp = at.toISOString().slice(0, 23).replace('T', '-').replaceAll(':', '-').replace('.', '-');
  return `${ROLLUP_WRITER}-${stamp}-${rawListingDigest(raw, layout)}.parquet`;
}

/** The key of one table's file of a build. */
export function rollupKey(table: RollupTable['name'], day: string, build: string): string {
  return `${rollupPrefix(table)}dt=${day}/${build}`;
}

const dayOf = (key: string, prefix: string): string | null => {
  if (!key.startsWith(prefix)) return null;
  const m = /^dt=(\d{4}-\d{2}-\d{2})\//.exec(key.slice(prefix.length));
  return m ? m[1]! : null;
};

/**
 * Every day of the lake (days with raw events or a rollup) and the state of its rollup, from three listings: the raw
 * events, the `daily` files, and every rollup file. With `day`, that day only.
 */
export async function rollupDays(store: RollupStore, day?: string): Promise<Map<string, RollupDay>> {
  const out = new Map<string, RollupDay>();
  const entry = (d: string): RollupDay => {
    let e = out.get(d);
    if (!e) {
      e = { day: d, build: null, fresh: false, raw: [], rollupKeys: [] };
      out.set(d, e);
    }
    return e;
  };
  const under = (prefix: string) => (day ? `${prefix}dt=${day}/` : prefix);
  for (const o of await store.listVersions(under(LAKE_PREFIX.events))) {
    const d = dayOf(o.key, LAKE_PREFIX.events);
    if (d && /\/hour=\d{2}\/[^/]+\.parquet$/.test(o.key)) entry(d).raw.push(o);
  }
  for (const t of ROLLUP_TABLES) {
    for (const key of await store.list(under(rollupPrefix(t.name)))) {
      const d = dayOf(key, rollupPrefix(t.name));
      if (!d) continue;
      const e = entry(d);
      e.rollupKeys.push(key);
      const name = key.slice(key.lastIndexOf('/') + 1);
      if (t.name === 'daily' && BUILD_NAME.test(name) && (e.build === null || name > e.build)) e.build = name;
    }
  }
  for (const e of out.values()) {
    const digest = e.build ? BUILD_NAME.exec(e.build)![2] : null;
    e.fresh = digest !== null && (e.raw.length === 0 || digest === rawListingDigest(e.raw));
  }
  return out;
}

/** Whether all of a day's hours ended at or before `closedBefore`. */
export function dayClosed(day: string, closedBefore: Date): boolean {
  return Date.parse(`${day}T00:00:00Z`) + DAY_MS <= closedBefore.getTime();
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * Writes a relation holding one rollup table's rows (`relation`: a table or view name) to `target` in the current
 * layout ({@link ROLLUP_LAYOUT}): sorted by the table's order, tenant-bounded row groups, zstd, the layout key.
 */
export async function writeRollupFile(
  conn: DuckDBConnection,
  relation: string,
  table: RollupTable['name'],
  target: string,
): Promise<void> {
  await copyTenantGrouped(conn, relation, target, {
    orderBy: rollupOrderBy(table),
    compression: 'zstd',
    layout: ROLLUP_LAYOUT,
    layoutKey: ROLLUP_LAYOUT_KEY,
  });
}

/**
 * Builds every table of one day from the files listed (and only those: a file delivered since waits for the next
 * build, which the digest asks for), into `outDir/<table>.parquet`. `paths` are local copies of the raw files.
 */
async function buildDay(conn: DuckDBConnection, day: string, paths: readonly string[], outDir: string): Promise<void> {
  if (!DAY.test(day)) throw new Error(`not a day: ${day}`);
  const list = `[${paths.map(quote).join(', ')}]`;
  const source = `read_parquet(${list}, union_by_name = true, hive_partitioning = false)`;
  const counts = (
    await conn.runAndReadAll(`SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM ${source}`)
  ).getRowObjectsJS()[0] as { n: bigint; d: bigint };
  // One row per event_id, as the `events` view: copies of one event (Firehose delivers at least once, a compaction
  // that crashed leaves its inputs) are dropped; the pair key is computed from the strings, as compaction does.
  await conn.run(
    `CREATE OR REPLACE TEMP VIEW events AS
     SELECT ${LAKE_COLUMNS.join(', ')}, ${PAIR_KEY_SQL} AS ${PAIR_KEY_COLUMN} FROM ${source}
     ${counts.n === counts.d ? '' : 'QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY event_time) = 1'}`,
  );
  for (const t of ROLLUP_TABLES) {
    const sql = rollupBuildSql(t.name).replaceAll(':day', quote(day));
    await conn.run(`CREATE OR REPLACE TEMP TABLE _rollup AS ${sql}`);
    await writeRollupFile(conn, '_rollup', t.name, join(outDir, `${t.name}.parquet`));
  }
  await conn.run('DROP TABLE IF EXISTS _rollup');
}

/**
 * Builds the given days' rollups now, whatever their state (erasure, and the writer's own runs): each day's raw files
 * read (in place for a local lake, else copied into `scratchDir`), every table built, the files written `daily` last,
 * and then the day's other rollup files deleted. A day without raw files is left as it is.
 */
export async function rebuildRollupDays(
  store: RollupStore,
  days: readonly string[],
  options: { scratchDir?: string; onDay?: (day: string) => void; now?: () => Date } = {},
): Promise<{ days: number; filesWritten: number; filesDeleted: number }> {
  const out = { days: 0, filesWritten: 0, filesDeleted: 0 };
  if (days.length === 0) return out;
  for (const d of days) if (!DAY.test(d)) throw new Error(`not a day (YYYY-MM-DD): ${d}`);
  const now = options.now ?? (() => new Date());
  const scratch = mkdtempSync(join(options.scratchDir ?? tmpdir(), 'sesflow-rollup-'));
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  try {
    for (const day of [...new Set(days)].sort()) {
      const state = (await rollupDays(store, day)).get(day);
      if (!state || state.raw.length === 0) continue;
      const build = rollupBuildName(state.raw, now());
      const dir = join(scratch, day);
      mkdirSync(dir, { recursive: true });
      try {
        let paths: string[];
        if (store instanceof FsLakeStore) {
          paths = state.raw.map((o) => store.path(o.key));
        } else {
          paths = [];
          for (const [i, o] of state.raw.entries()) {
            const p = join(dir, `raw-${i}.parquet`);
            writeFileSync(p, await store.get(o.key));
            paths.push(p);
          }
        }
        await buildDay(conn, day, paths, dir);
        // `daily` last (ROLLUP_TABLES ends with it): the day's commit marker.
        const written = new Set<string>();
        for (const t of ROLLUP_TABLES) {
          const key = rollupKey(t.name, day, build);
          await store.put(key, readFileSync(join(dir, `${t.name}.parquet`)));
          written.add(key);
          out.filesWritten++;
        }
        for (const key of state.rollupKeys) {
          if (written.has(key)) continue;
          await store.delete(key);
          out.filesDeleted++;
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      out.days++;
      options.onDay?.(day);
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
    rmSync(scratch, { recursive: true, force: true });
  }
  return out;
}

/**
 * Rolls up the lake after a compaction: every day whose hours have all closed (`closedBefore`, default now) and that
 * has no rollup or a stale one is built (reading only that day's partitions); files a crash left beside a fresh
 * day's current build are deleted. With `dt`, that day only.
 */
export async function rollUpLake(
  store: RollupStore,
  options: {
    closedBefore?: Date;
    dt?: string;
    scratchDir?: string;
    onDay?: (day: string, kind: 'built' | 'rebuilt') => void;
    now?: () => Date;
  } = {},
): Promise<RollupSummary> {
  if (options.dt && !DAY.test(options.dt)) throw new Error(`not a day (YYYY-MM-DD): ${options.dt}`);
  const closedBefore = options.closedBefore ?? options.now?.() ?? new Date();
  const summary: RollupSummary = { built: 0, rebuilt: 0, fresh: 0, filesWritten: 0, filesDeleted: 0 };
  const todo: RollupDay[] = [];
  for (const state of (await rollupDays(store, options.dt)).values()) {
    if (state.raw.length === 0 && state.build === null) continue;
    if (state.fresh) {
      summary.fresh++;
      // Files of another build than the current one: an older build a crash did not delete, or a build that
      // stopped before its daily file (one still under way elsewhere, listed less than an hour ago, is left alone).
      const stale = new Date((options.now?.() ?? new Date()).getTime() - LEFTOVER_AFTER_MS);
      for (const key of state.rollupKeys) {
        const name = key.slice(key.lastIndexOf('/') + 1);
        if (name === state.build || (name > state.build! && name > rollupBuildName([], stale))) continue;
        await store.delete(key);
        summary.filesDeleted++;
      }
      continue;
    }
    if (dayClosed(state.day, closedBefore)) todo.push(state);
  }
  const kind = new Map(todo.map((s) => [s.day, s.build === null ? ('built' as const) : ('rebuilt' as const)]));
  const done = await rebuildRollupDays(
    store,
    todo.map((s) => s.day),
    {
      scratchDir: options.scratchDir,
      now: options.now,
      onDay: (day) => {
        const k = kind.get(day)!;
        summary[k]++;
        options.onDay?.(day, k);
      },
    },
  );
  summary.filesWritten += done.filesWritten;
  summary.filesDeleted += done.filesDeleted;
  return summary;
}

/** The local lake's days, as {@link rollupDays} (for readers of a lake directory). */
export function localRollupDays(lakeDir: string): Promise<Map<string, RollupDay>> {
  return rollupDays(new FsLakeStore(lakeDir));
}
