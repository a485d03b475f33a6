import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PAIR_KEY_COLUMN, PAIR_KEY_SQL } from '../../ingest/compact-layout';
import { duckdbColumnList, LAKE_COLUMNS } from '../../ingest/lake-schema';
import { duckTimestamp, type LakeDb, partitionMayHoldDuplicates } from '../../queries/duckdb-lake';
import { ENGAGEMENT_FLAGS_SQL, METRIC_COUNTS, metricCountsSql } from '../../queries/metrics';
import type { ReportParams, ReportResult } from '../api/ports';
import { plainRow } from './serial-lake';

/**
 * The table the local reports read: named `events` like the lake's deduplicating view, which it replaces on the
 * dashboards' own connection, so named queries written against `events` run unchanged.
 */
export const CACHE_TABLE = 'events';

const DAY_MS = 86_400_000;
const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** A file's modification time in ms (-1: gone). */
function mtimeOf(file: string): number {
  return statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -1;
}

/** Every Parquet file under `dir` (none when it does not exist), listed without blocking the event loop. */
async function listParquet(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir, { recursive: true });
  } catch {
    return [];
  }
  // A name starting with a dot is a file being written (compaction's temporary file), not part of the lake yet.
  return names.filter((n) => n.endsWith('.parquet') && !basename(n).startsWith('.')).map((n) => join(dir, n));
}

/** The additive figures of the metric reports (queries/metrics.ts, as the named queries count them). */
const COUNTS = METRIC_COUNTS;
const COUNT_SQL = metricCountsSql();
/** Flags of a (message, recipient) pair: opened, opened by a person, by a machine, clicked. */
const FLAGS = ['o', 'h', 'm', 'k'] as const;
const FLAG_SQL = ENGAGEMENT_FLAGS_SQL;
const UNIQUE = { o: 'unique_opens', h: 'human_opens', m: 'machine_opens', k: 'unique_clicks' } as const;

/** The output columns of tenant-summary after its key, in the named query's order, from `c` (counts) and `u` (uniques). */
function metricColumns(c: string, u: string): string {
  const n = (x: string) => `CAST(${c}.${x} AS BIGINT) AS ${x}`;
  const uq = (x: string) => `CAST(coalesce(${u}.${x}, 0) AS BIGINT) AS ${x}`;
  return `${['sent', 'delivered', 'hard_bounces', 'soft_bounces', 'complaints', 'opens'].map(n).join(', ')},
  ${uq('unique_opens')}, ${uq('human_opens')}, ${uq('machine_opens')}, ${n('clicks')}, ${uq('unique_clicks')},
  ${['rejects', 'delivery_delays', 'rendering_failures', 'subscriptions'].map(n).join(', ')},
  CAST(${c}.hard_bounces AS DOUBLE) / NULLIF(${c}.sent, 0) AS bounce_rate,
  CAST(${c}.complaints AS DOUBLE) / NULLIF(${c}.delivered, 0) AS complaint_rate,
  CAST(coalesce(${u}.unique_opens, 0) AS DOUBLE) / NULLIF(${c}.delivered, 0) AS open_rate,
  CAST(coalesce(${u}.unique_clicks, 0) AS DOUBLE) / NULLIF(${c}.delivered, 0) AS click_rate`;
}

/**
 * The scoped rows of a report's two edges (the partial days before the first and after the last whole day), as two
 * plain time ranges so that DuckDB's zone maps skip the rest. Parameters: tenant, from, first day, last day, to.
 */
const EDGE_ROWS = `SELECT * FROM ${CACHE_TABLE}
    WHERE (CAST($tenant AS VARCHAR) IS NULL OR tenant_id = $tenant)
      AND event_time >= CAST($from AS TIMESTAMP) AND event_time < CAST($d0 AS TIMESTAMP)
    UNION ALL
    SELECT * FROM ${CACHE_TABLE}
    WHERE (CAST($tenant AS VARCHAR) IS NULL OR tenant_id = $tenant)
      AND event_time >= CAST($d1 AS TIMESTAMP) AND event_time < CAST($to AS TIMESTAMP)`;
const DAYS = `(CAST($tenant AS VARCHAR) IS NULL OR tenant_id = $tenant)
      AND day >= CAST($day0 AS DATE) AND day < CAST($day1 AS DATE)`;

/**
 * tenant-summary from the aggregates: counts are the whole days' sums plus the edges' rows. A pair counts once over
 * the period, so the whole days' unique figures (sums of per-day distinct pairs) are corrected for the pairs seen on
 * several days (`pair_multi`: each counted once, not once a day), and an edge pair counts only if the whole days do
 * not already have it with that flag. An edge pair also seen on a whole day was seen on two days at least, so its days
 * are in `pair_multi`, which is looked up instead of `pair_day` (a tenth of its rows here; measured over 10 M events,
 * all tenants, 30 days starting and ending inside a day: median 85 ms, against 125 ms joining `pair_day`).
 */
const TENANT_SUMMARY_SQL = `WITH edge AS NOT MATERIALIZED (${EDGE_ROWS}),
counts AS (
  SELECT tenant_id, ${COUNTS.map(([n]) => `sum(${n}) AS ${n}`).join(', ')}
  FROM (
    SELECT tenant_id, ${COUNTS.map(([n]) => n).join(', ')} FROM agg_day WHERE ${DAYS}
    UNION ALL
    SELECT tenant_id, ${COUNT_SQL} FROM edge GROUP BY tenant_id
  ) x
  GROUP BY tenant_id
),
day_sums AS (
  SELECT tenant_id, ${FLAGS.map((f) => `sum(${UNIQUE[f]}) AS ${f}`).join(', ')}
  FROM agg_day WHERE ${DAYS} GROUP BY tenant_id
),
multi AS (
  SELECT tenant_id, ${FLAGS.map((f) => `sum(${f} - CAST(${f} > 0 AS BIGINT)) AS ${f}`).join(', ')}
  FROM (
    SELECT tenant_id, pair_key, ${FLAGS.map((f) => `count(*) FILTER (WHERE ${f}) AS ${f}`).join(', ')}
    FROM pair_multi WHERE ${DAYS}
    GROUP BY tenant_id, pair_key
  ) p
  GROUP BY tenant_id
),
edge_pairs AS (
  SELECT tenant_id, pair_key, ${FLAG_SQL}
  FROM edge WHERE event_type IN ('open', 'click') GROUP BY tenant_id, pair_key
),
seen AS (
  SELECT tenant_id, pair_key, ${FLAGS.map((f) => `bool_or(${f}) AS ${f}`).join(', ')}
  FROM pair_multi
  WHERE ${DAYS} AND pair_key IN (SELECT pair_key FROM edge_pairs)
  GROUP BY tenant_id, pair_key
),
edge_new AS (
  SELECT e.tenant_id, ${FLAGS.map((f) => `count(*) FILTER (WHERE e.${f} AND NOT coalesce(s.${f}, false)) AS ${f}`).join(', ')}
  FROM edge_pairs e LEFT JOIN seen s ON s.tenant_id = e.tenant_id AND s.pair_key = e.pair_key
  GROUP BY e.tenant_id
),
uniques AS (
  SELECT c.tenant_id, ${FLAGS.map(
    (f) => `coalesce(d.${f}, 0) - coalesce(m.${f}, 0) + coalesce(n.${f}, 0) AS ${UNIQUE[f]}`,
  ).join(', ')}
  FROM counts c
  LEFT JOIN day_sums d ON d.tenant_id = c.tenant_id
  LEFT JOIN multi m ON m.tenant_id = c.tenant_id
  LEFT JOIN edge_new n ON n.tenant_id = c.tenant_id
)
SELECT c.tenant_id AS tenant_id, ${metricColumns('c', 'u')}
FROM counts c JOIN uniques u ON u.tenant_id = c.tenant_id
ORDER BY tenant_id
LIMIT $limit`;

/** daily-timeseries from the aggregates: whole days as stored, the partial days at the edges from their rows. */
const DAILY_SQL = `WITH edge AS NOT MATERIALIZED (${EDGE_ROWS}),
edge_counts AS (
  SELECT CAST(event_time AS DATE) AS day, tenant_id, ${COUNT_SQL}
  FROM edge GROUP BY ALL
),
edge_pairs AS (
  SELECT CAST(event_time AS DATE) AS day, tenant_id, pair_key, ${FLAG_SQL}
  FROM edge WHERE event_type IN ('open', 'click') GROUP BY ALL
),
edge_uniques AS (
  SELECT day, tenant_id, ${FLAGS.map((f) => `count(*) FILTER (WHERE ${f}) AS ${UNIQUE[f]}`).join(', ')}
  FROM edge_pairs GROUP BY day, tenant_id
),
rows AS (
  SELECT day, tenant_id, ${COUNTS.map(([n]) => n).join(', ')}, ${FLAGS.map((f) => UNIQUE[f]).join(', ')}
  FROM agg_day WHERE ${DAYS}
  UNION ALL
  SELECT c.day, c.tenant_id, ${COUNTS.map(([n]) => `c.${n}`).join(', ')}, ${FLAGS.map((f) => `coalesce(u.${UNIQUE[f]}, 0)`).join(', ')}
  FROM edge_counts c LEFT JOIN edge_uniques u ON u.day = c.day AND u.tenant_id = c.tenant_id
)
SELECT CAST(r.day AS VARCHAR) AS day, r.tenant_id AS tenant_id, ${metricColumns('r', 'r')}
FROM rows r
ORDER BY r.day, r.tenant_id
LIMIT $limit`;

/**
 * Keeps the lake's deduplicated rows in a DuckDB table and loads only the Parquet files that appeared since the
 * last look (at most once per `minIntervalMs`). Reading hundreds of small hourly files and deduplicating them on
 * every request costs about a second; the table answers in milliseconds. A file that disappears (compaction) or is
 * rewritten in place (an erasure: privacy/) triggers a full reload. Exactness is kept: a new row whose event_id is already loaded is skipped. Each load is
 * sorted by tenant and time, so DuckDB's zone maps let a one-tenant report skip the other tenants' row groups.
 *
 * Beside the rows, kept up to date with them (the days a load touches are computed again), per tenant and day:
 * - `agg_day`: the additive figures and the day's unique opens and clicks (distinct pairs of that day);
 * - `pair_day`: each (message, recipient) pair's flags on each day it was opened or clicked (by `pair_key`);
 * - `pair_multi`: the rows of `pair_day` of pairs seen on more than one day (a few percent of pairs).
 * From them {@link report} answers tenant-summary and daily-timeseries for any period without reading the rows of
 * its whole days: ~25 days of 50 tenants in milliseconds instead of aggregating millions of rows per request.
 */
export class DuckDbLakeCache {
  /** Loaded files and their modification time when loaded (a file rewritten in place, an erasure, is loaded again). */
  private readonly loaded = new Map<string, number>();
  private lastCheck = 0;
  private ready = false;
  /** A background listing under way, and the files the last one found (not loaded yet). */
  private listing: Promise<void> | null = null;
  private listed: string[] | null = null;

  constructor(
    private readonly lake: LakeDb,
    private readonly lakeDir: string,
    private readonly minIntervalMs = 1_000,
  ) {}

  /**
   * Brings the tables up to date with the files on disk. Call inside the lake's serial queue. Listing a lake of
   * 1,500 hourly folders takes 100-400 ms on a busy machine, too long to make a request wait for: once loaded, the
   * folders are listed in the background (at most once per `minIntervalMs`) and what a listing found is loaded by
   * the next call. With `minIntervalMs` 0 every call lists and loads before it returns.
   */
  async refresh(nowMs = Date.now()): Promise<void> {
    let files: string[] | null = null;
    if (!this.ready || this.minIntervalMs === 0) {
      this.lastCheck = nowMs;
      files = await listParquet(join(this.lakeDir, 'events'));
    } else {
      files = this.listed;
      this.listed = null;
      if (!this.listing && nowMs - this.lastCheck >= this.minIntervalMs) {
        this.lastCheck = nowMs;
        this.listing = listParquet(join(this.lakeDir, 'events'))
          .then((found) => {
            this.listed = found;
          })
          .finally(() => {
            this.listing = null;
          });
      }
      if (!files) return;
    }
    // A file listed a moment ago may be gone by the time it is read (compaction replaced it): the statement that read
    // it changed nothing, and the lake is listed again (up to twice), which sees what replaced it.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.load(files);
        return;
      } catch (err) {
        if (attempt >= 2 || files.every((f) => existsSync(f))) throw err;
        files = await listParquet(join(this.lakeDir, 'events'));
      }
    }
  }

  /** Loads the files of a listing: all of them again when a loaded file is gone, else those not loaded yet. */
  private async load(files: readonly string[]): Promise<void> {
    const conn = this.lake.connection;
    const present = new Set(files);
    const vanished = [...this.loaded].some(([f, mtime]) => !present.has(f) || mtimeOf(f) !== mtime);
    if (!this.ready || vanished) {
      if (!this.ready) {
        const views = await conn.runAndReadAll(
          "SELECT count(*) AS n FROM duckdb_views() WHERE view_name = 'events' AND NOT internal",
        );
        if (Number(views.getRowObjectsJS()[0]?.n ?? 0) > 0) await conn.run('DROP VIEW events');
      }
      await conn.run(`CREATE OR REPLACE TABLE ${CACHE_TABLE} (${duckdbColumnList()}, ${PAIR_KEY_COLUMN} UBIGINT)`);
      await conn.run(
        `CREATE OR REPLACE TABLE agg_day (tenant_id VARCHAR, day DATE, ${COUNTS.map(([n]) => `${n} BIGINT`).join(', ')},
           ${FLAGS.map((f) => `${UNIQUE[f]} BIGINT`).join(', ')})`,
      );
      const pairCols = `tenant_id VARCHAR, day DATE, pair_key UBIGINT, ${FLAGS.map((f) => `${f} BOOLEAN`).join(', ')}`;
      await conn.run(`CREATE OR REPLACE TABLE pair_day (${pairCols})`);
      await conn.run(`CREATE OR REPLACE TABLE pair_multi (${pairCols})`);
      this.loaded.clear();
      this.ready = true;
    }
    const fresh = files.filter((f) => !this.loaded.has(f));
    if (fresh.length === 0) return;
    const cols = LAKE_COLUMNS.join(', ');
    const before = Number((await conn.runAndReadAll(`SELECT count(*) AS n FROM ${CACHE_TABLE}`)).getRows()[0]![0]);
    // Copies of one event share a partition (folder): the new files may repeat each other's rows only when a folder
    // of theirs may hold duplicates (queries/duckdb-lake.ts); otherwise the window that keeps one copy is skipped.
    const byFolder = new Map<string, string[]>();
    for (const f of files) byFolder.set(dirname(f), [...(byFolder.get(dirname(f)) ?? []), basename(f)]);
    const mayRepeat = [...new Set(fresh.map((f) => dirname(f)))].some((d) =>
      partitionMayHoldDuplicates(byFolder.get(d) ?? []),
    );
    // File paths come from readdir, never from a request; quoted as SQL strings all the same. Copies of one event
    // have the same event time (its id is derived from it), so the check against loaded rows (none at the first
    // load) looks only at the loaded rows of the new rows' time span.
    await conn.run(
      `INSERT INTO ${CACHE_TABLE}
       WITH n AS (
         SELECT ${cols} FROM read_parquet([${fresh.map(sqlString).join(', ')}], hive_partitioning = false, union_by_name = true)
         ${mayRepeat ? 'QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY event_time) = 1' : ''}
       ),
       span AS (SELECT min(event_time) AS lo, max(event_time) AS hi FROM n)
       SELECT ${cols}, ${PAIR_KEY_SQL} AS ${PAIR_KEY_COLUMN} FROM n
       ${
         before === 0
           ? ''
           : `WHERE NOT EXISTS (
         SELECT 1 FROM ${CACHE_TABLE} d, span
         WHERE d.event_time >= span.lo AND d.event_time <= span.hi AND d.event_id = n.event_id AND d.event_time = n.event_time)`
       }
       ORDER BY tenant_id, event_time`,
    );
    for (const f of fresh) this.loaded.set(f, mtimeOf(f));
    await this.updateAggregates(before);
  }

  /** Computes again the aggregates of every (tenant, day) that rows from row number `firstNew` on belong to. */
  private async updateAggregates(firstNew: number): Promise<void> {
    const conn = this.lake.connection;
    const all = firstNew === 0;
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE _touched AS
       SELECT DISTINCT tenant_id, CAST(event_time AS DATE) AS day FROM ${CACHE_TABLE} WHERE rowid >= ${firstNew}`,
    );
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE _touched_pairs AS
       SELECT DISTINCT tenant_id, pair_key FROM ${CACHE_TABLE} WHERE rowid >= ${firstNew} AND pair_key IS NOT NULL`,
    );
    const span = (await conn.runAndReadAll('SELECT min(day) AS lo, max(day) AS hi FROM _touched')).getRowObjectsJS()[0];
    if (!span?.lo) return;
    // The rows of the touched (tenant, day)s: the table's zone maps on event_time skip the rest of the time span.
    const touchedRows = all
      ? CACHE_TABLE
      : `(SELECT * FROM ${CACHE_TABLE} e SEMI JOIN _touched t ON e.tenant_id = t.tenant_id AND CAST(e.event_time AS DATE) = t.day
          WHERE e.event_time >= (SELECT CAST(min(day) AS TIMESTAMP) FROM _touched)
            AND e.event_time < (SELECT CAST(max(day) AS TIMESTAMP) + INTERVAL 1 DAY FROM _touched))`;
    if (!all) {
      for (const t of ['agg_day', 'pair_day']) {
        await conn.run(`DELETE FROM ${t} USING _touched t WHERE ${t}.tenant_id = t.tenant_id AND ${t}.day = t.day`);
      }
    }
    await conn.run(
      `INSERT INTO pair_day
       SELECT tenant_id, CAST(event_time AS DATE) AS day, pair_key, ${FLAG_SQL}
       FROM ${touchedRows} r WHERE event_type IN ('open', 'click')
       GROUP BY ALL ORDER BY tenant_id, day`,
    );
    await conn.run(
      `INSERT INTO agg_day
       WITH c AS (
         SELECT tenant_id, CAST(event_time AS DATE) AS day, ${COUNT_SQL} FROM ${touchedRows} r GROUP BY ALL
       ),
       u AS (
         SELECT p.tenant_id, p.day, ${FLAGS.map((f) => `count(*) FILTER (WHERE ${f}) AS ${UNIQUE[f]}`).join(', ')}
         FROM pair_day p ${all ? '' : 'SEMI JOIN _touched t ON p.tenant_id = t.tenant_id AND p.day = t.day'}
         GROUP BY ALL
       )
       SELECT c.tenant_id, c.day, ${COUNTS.map(([n]) => `c.${n}`).join(', ')},
         ${FLAGS.map((f) => `coalesce(u.${UNIQUE[f]}, 0)`).join(', ')}
       FROM c LEFT JOIN u ON u.tenant_id = c.tenant_id AND u.day = c.day
       ORDER BY c.tenant_id, c.day`,
    );
    // A pair's days change only when it has new rows: only those pairs are looked at again.
    if (!all) {
      await conn.run(
        `DELETE FROM pair_multi USING _touched_pairs t
         WHERE pair_multi.tenant_id = t.tenant_id AND pair_multi.pair_key = t.pair_key`,
      );
    }
    await conn.run(
      `INSERT INTO pair_multi
       WITH p AS (
         SELECT * FROM pair_day ${all ? '' : 'SEMI JOIN _touched_pairs USING (tenant_id, pair_key)'}
       ),
       multi AS (SELECT tenant_id, pair_key FROM p GROUP BY ALL HAVING count(*) > 1)
       SELECT p.* FROM p SEMI JOIN multi USING (tenant_id, pair_key)
       ORDER BY tenant_id, day`,
    );
  }

  /**
   * tenant-summary or daily-timeseries from the aggregates, with the named query's columns, rows and order; null when
   * the period holds no whole day (the caller runs the named query on the rows, which are few then) or for another
   * report. Call inside the lake's serial queue, after {@link refresh}.
   */
  async report(name: string, p: ReportParams): Promise<ReportResult | null> {
    const sql = name === 'tenant-summary' ? TENANT_SUMMARY_SQL : name === 'daily-timeseries' ? DAILY_SQL : null;
    if (!sql || !this.ready) return null;
    const d0 = Math.ceil(p.from / DAY_MS) * DAY_MS;
    const d1 = Math.floor(p.to / DAY_MS) * DAY_MS;
    if (d1 - d0 < DAY_MS) return null;
    const values: Record<string, string | number | null> = {
      tenant: p.tenant,
      from: duckTimestamp(p.from),
      d0: duckTimestamp(d0),
      d1: duckTimestamp(d1),
      day0: new Date(d0).toISOString().slice(0, 10),
      day1: new Date(d1).toISOString().slice(0, 10),
      to: duckTimestamp(p.to),
      limit: p.limit,
    };
    const reader = await this.lake.connection.runAndReadAll(sql, values as never);
    return { columns: reader.columnNames(), rows: reader.getRowObjectsJS().map(plainRow) };
  }
}
