import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { LAKE_COLUMNS } from '../ingest/lake-schema';
import { ENGAGEMENT_COUNTS_SQL, METRIC_COUNT_NAMES, metricCountsSql, UNSUBSCRIBE } from '../queries/metrics';
import { pairKeySql, ROLLUP_TABLES, type RollupTable, rollupBuildSql } from '../queries/rollups';
import { dirBytes } from './scale-lake';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** Athena's proxy target: a 30-day view reads under 1 % of the raw lake's bytes. */
export const TARGET_SHARE = 0.01;
/** Athena bills each query for at least 10 MB scanned (docs/BENCHMARKS.md, scale). */
const ATHENA_MIN_BILLED_BYTES = 10 * 1024 * 1024;

type Table = RollupTable['name'];

/**
 * Where the rollup files of a day are: the lake's own (`<lake>/rollups/<table>/dt=D/`, written by compaction) when
 * the day has them, else files built here with the contract's SQL (queries/rollups.ts, `rollupBuildSql`) over the
 * day's compacted event files, under `dir` (the same tables and rows; built once and kept).
 */
async function rollupFiles(
  conn: DuckDBConnection,
  lakeDir: string,
  dir: string,
  days: string[],
): Promise<{ files: Record<Table, string[]>; ownDays: number }> {
  const files = Object.fromEntries(ROLLUP_TABLES.map((t) => [t.name, [] as string[]])) as Record<Table, string[]>;
  let ownDays = 0;
  for (const day of days) {
    if (!existsSync(join(lakeDir, 'events', `dt=${day}`))) continue;
    // The lake's own rollups: the day's current build is its `daily` file (the greatest build name); every table's
    // file of that name belongs to it (ingest/rollups-writer.ts).
    const own = join(lakeDir, 'rollups', 'daily', `dt=${day}`);
    const build = existsSync(own)
      ? readdirSync(own)
          .filter((f) => f.endsWith('.parquet') && !f.startsWith('.'))
          .sort()
          .pop()
      : undefined;
    if (build) {
      ownDays++;
      for (const t of ROLLUP_TABLES) files[t.name].push(join(lakeDir, 'rollups', t.name, `dt=${day}`, build));
      continue;
    }
    if (!existsSync(join(dir, 'daily', `dt=${day}`, 'part.parquet'))) {
      await conn.run(
        `CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM read_parquet(${quote(join(lakeDir, 'events', `dt=${day}`, '*', '*.parquet'))}, union_by_name = true)`,
      );
      for (const t of ROLLUP_TABLES) {
        const out = join(dir, t.name, `dt=${day}`);
        mkdirSync(out, { recursive: true });
        const tmp = join(out, '.part.parquet');
        await conn.run(
          `COPY (${rollupBuildSql(t.name).replaceAll(':day', quote(day))}) TO ${quote(tmp)} (FORMAT parquet, COMPRESSION snappy)`,
        );
        renameSync(tmp, join(out, 'part.parquet'));
      }
    }
    for (const t of ROLLUP_TABLES) files[t.name].push(join(dir, t.name, `dt=${day}`, 'part.parquet'));
  }
  return { files, ownDays };
}

/** The event files of the hours [from, to) (Athena reads only the dt/hour partitions a period touches). */
function hourFiles(lakeDir: string, from: number, to: number): string[] {
  const out: string[] = [];
  for (let h = Math.floor(from / HOUR_MS) * HOUR_MS; h < to; h += HOUR_MS) {
    const d = join(lakeDir, 'events', `dt=${isoDay(h)}`, `hour=${new Date(h).toISOString().slice(11, 13)}`);
    if (existsSync(d))
      for (const f of readdirSync(d)) if (f.endsWith('.parquet') && !f.startsWith('.')) out.push(join(d, f));
  }
  return out;
}

/** One scan of a query: the files it reads and the SQL over them (`{src}` stands for the read_parquet call). */
interface Scan {
  files: string[];
  sql: string;
  /** Columns of the files this scan references (for the bytes check). */
  columns: readonly string[];
}

interface ProxyQuery {
  label: string;
  view: 'compliance' | 'client';
  /** A report of the report page (the five metric reports and the drill-down); else shown beside (live figures). */
  page: boolean;
  /** A metric report (the figure the target was first read against); the drill-down is not. */
  metric: boolean;
  scans: Scan[];
  /**
   * Scans run in order until this many rows have come back (the drill-down read newest day first, one query per day,
   * stopping at the page's row limit); absent: every scan runs.
   */
  stopAfterRows?: number;
}

const src = (files: string[], hive = false) =>
  files.length === 0
    ? null
    : `read_parquet([${files.map(quote).join(', ')}]${hive ? ', hive_partitioning = true' : ''})`;

/**
 * The raw events as Athena reads them: through the deduplicating view of queries/athena/ddl.ts (`eventsViewDdl`), a
 * row_number() window over each event's copies. Trino pushes a filter below a window only on the window's partition
 * columns: with `tenant_id` among them a tenant filter reaches the scan (row groups of other tenants are skipped by
 * their statistics); without it (the view before), every tenant's rows of the period are read. DuckDB follows the
 * same rule, so the proxy renders the view as Athena does, `"$path"` as DuckDB's `filename`.
 */
const viewSrc = (files: string[], byTenant: boolean) =>
  files.length === 0
    ? null
    : `(SELECT * EXCLUDE (copy_rank, filename) FROM (SELECT *, row_number() OVER (PARTITION BY dt, hour, ${byTenant ? 'tenant_id, ' : ''}event_id ORDER BY filename) AS copy_rank FROM read_parquet([${files.map(quote).join(', ')}], hive_partitioning = true, filename = true)) WHERE copy_rank = 1)`;

function referenced(sql: string, columns: readonly string[]): string[] {
  return columns.filter((c) => new RegExp(`\\b${c}\\b`).test(sql));
}

/** The page's row limit (dashboards/web/app.js asks for this many rows of a report). */
export const PAGE_ROW_LIMIT = 1000;

/**
 * The report queries of the two views, over the files Athena would read for a 30-day period to the minute: the
 * rollups of the 29 whole days and the raw event files of the two edge hours' ranges (through the events view).
 * `tenant` null is the compliance view's report page (all tenants). Each query's scans follow the exactness rule of
 * the rollup design (counts summed, pair keys united); the drill-down reads raw events, the whole period at once (as
 * the Athena engine runs it: one query, `ORDER BY event_time DESC`, results read up to the limit) and, beside it,
 * newest day first, one query per day until the page's limit of rows is reached.
 */
function proxyQueries(opts: {
  lakeDir: string;
  tenant: string | null;
  byTenant: boolean;
  from: number;
  to: number;
  rollups: Record<Table, string[]>;
  liveRollups: Record<Table, string[]>;
  liveRawFrom: number;
  liveTo: number;
}): ProxyQuery[] {
  const { lakeDir, tenant, from, to, rollups, byTenant } = opts;
  const view: ProxyQuery['view'] = tenant === null ? 'compliance' : 'client';
  const dayFrom = Math.ceil(from / DAY_MS) * DAY_MS;
  const dayTo = Math.floor(to / DAY_MS) * DAY_MS;
  const edges = [...hourFiles(lakeDir, from, dayFrom), ...hourFiles(lakeDir, dayTo, to)];
  const tenantOnly = tenant === null ? 'TRUE' : `tenant_id = ${quote(tenant)}`;
  const edgeScope = `${tenantOnly} AND ((event_time >= ${sqlTime(from)} AND event_time < ${sqlTime(dayFrom)}) OR (event_time >= ${sqlTime(dayTo)} AND event_time < ${sqlTime(to)}))`;
  const rollupCols = (t: Table) => ROLLUP_TABLES.find((x) => x.name === t)!.columns.map(([c]) => c);
  const sums = METRIC_COUNT_NAMES.map((c) => `sum(${c}) AS ${c}`).join(', ');
  const scan = (
    files: string[],
    sql: (from: string) => string,
    columns: readonly string[],
    read: 'rollup' | 'rollup-hive' | 'events' = 'rollup',
  ): Scan[] => {
    const s = read === 'events' ? viewSrc(files, byTenant) : src(files, read === 'rollup-hive');
    // The view's window reads each event's id besides what the query names.
    const named = referenced(sql('x'), columns);
    return s ? [{ files, sql: sql(s), columns: read === 'events' ? [...new Set([...named, 'event_id'])] : named }] : [];
  };
  /** A metric report grouped by `group` (rollup and raw column names): counts summed, unique pairs united. */
  const metric = (label: string, group: string[], raw: Record<string, string> = {}): ProxyQuery => {
    const g = group.join(', ');
    const rawG = group.map((c) => `${raw[c] ?? c} AS ${c}`).join(', ');
    const sel = g ? `${g}, ` : '';
    const by = g ? `GROUP BY ${g}` : '';
    const rawBy = g ? `GROUP BY ${group.map((c) => raw[c] ?? c).join(', ')}` : '';
    const dailyG = group.map((c) => (c === 'day' ? 'dt AS day' : c)).join(', ');
    const dailyBy = group.map((c) => (c === 'day' ? 'dt' : c)).join(', ');
    return {
      label,
      view,
      page: true,
      metric: true,
      scans: [
        ...scan(
          rollups.daily,
          (s) =>
            `SELECT ${dailyG ? `${dailyG}, ` : ''}${sums} FROM ${s} WHERE ${tenantOnly} ${dailyBy ? `GROUP BY ${dailyBy}` : ''}`,
          rollupCols('daily'),
          'rollup-hive',
        ),
        ...scan(
          rollups.pairs,
          (s) =>
            `SELECT ${group.includes('day') ? '' : sel}${ENGAGEMENT_COUNTS_SQL} FROM (SELECT ${group
              .filter((c) => c !== 'day')
              .map((c) => `${c}, `)
              .join(
                '',
              )}pair_key, bool_or(o) AS o, bool_or(h) AS h, bool_or(m) AS m, bool_or(k) AS k FROM ${s} WHERE ${tenantOnly} GROUP BY ALL) ${group.includes('day') ? '' : by}`,
          rollupCols('pairs'),
        ),
        ...scan(
          edges,
          (s) =>
            `SELECT ${rawG ? `${rawG}, ` : ''}${metricCountsSql()}, count(DISTINCT ${pairKeySql('duckdb')}) FILTER (WHERE event_type IN ('open', 'click')) AS pairs FROM ${s} WHERE ${edgeScope} ${rawBy}`,
          LAKE_COLUMNS,
          'events',
        ),
      ],
    };
  };
  const day = { day: 'CAST(event_time AS date)' };
  // The named query's select list and order (queries/named-queries.ts, bounced-recipients).
  const drill = (s: string, a: number, b: number) =>
    `SELECT event_time, tenant_id, event_type, recipient, bounce_type, bounce_subtype,
       CASE WHEN event_type = 'bounce' THEN coalesce(diagnostic_code, bounce_subtype) ELSE coalesce(complaint_feedback_type, complaint_subtype) END AS reason,
       campaign_id, message_id
     FROM ${s} WHERE ${tenantOnly} AND event_type IN ('bounce', 'complaint') AND event_time >= ${sqlTime(a)} AND event_time < ${sqlTime(b)}
     ORDER BY event_time DESC, recipient NULLS LAST, event_id LIMIT ${PAGE_ROW_LIMIT}`;
  // Newest first: ranges going back from the period's end, one query each, until the page's limit is reached; the
  // rows of all ranges in order are the one query's first rows (the ranges split the period by event_time).
  const newestFirst = (days: (i: number) => number): Scan[] => {
    const out: Scan[] = [];
    let b = to;
    for (let i = 0; b > from; i++) {
      const a = Math.max(from, Math.floor((b - 1) / DAY_MS) * DAY_MS - (days(i) - 1) * DAY_MS);
      const [x, y] = [a, b];
      out.push(...scan(hourFiles(lakeDir, x, y), (s) => drill(s, x, y), LAKE_COLUMNS, 'events'));
      b = a;
    }
    return out;
  };
  return [
    metric('tenant-summary', []),
    metric('daily-timeseries', ['day'], day),
    metric('campaign-report', ['campaign_id']),
    metric('domain-deliverability', ['recipient_domain']),
    {
      label: 'unsubscribes',
      view,
      page: true,
      metric: true,
      scans: [
        ...scan(
          rollups.daily,
          (s) => `SELECT dt, sum(unsubscribes), sum(unsubscribed_recipients) FROM ${s} WHERE ${tenantOnly} GROUP BY dt`,
          rollupCols('daily'),
          'rollup-hive',
        ),
        ...scan(
          edges,
          (s) =>
            `SELECT CAST(event_time AS date), count(*), count(DISTINCT recipient) FROM ${s} WHERE ${edgeScope} AND ${UNSUBSCRIBE} GROUP BY 1`,
          LAKE_COLUMNS,
          'events',
        ),
      ],
    },
    {
      label: 'bounced-recipients (drill-down: raw events of the 30 days, one query)',
      view,
      page: true,
      metric: false,
      scans: scan(hourFiles(lakeDir, from, to), (s) => drill(s, from, to), LAKE_COLUMNS, 'events'),
    },
    {
      label: `bounced-recipients newest first, a query per day until ${PAGE_ROW_LIMIT} rows (beside)`,
      view,
      page: false,
      metric: false,
      scans: newestFirst(() => 1),
      stopAfterRows: PAGE_ROW_LIMIT,
    },
    {
      label: `bounced-recipients newest first, ranges of 1, 2, 4, 8… days until ${PAGE_ROW_LIMIT} rows (beside)`,
      view,
      page: false,
      metric: false,
      scans: newestFirst((i) => 2 ** i),
      stopAfterRows: PAGE_ROW_LIMIT,
    },
    ...(tenant === null
      ? [
          {
            label: 'tenant list (live figures: hourly rollups of 7 days + raw hours not rolled up; beside)',
            view,
            page: false,
            metric: false,
            scans: [
              ...scan(
                opts.liveRollups.hourly,
                (s) => `SELECT tenant_id, hour, ${sums} FROM ${s} GROUP BY ALL`,
                rollupCols('hourly'),
              ),
              ...scan(
                hourFiles(lakeDir, opts.liveRawFrom, opts.liveTo),
                (s) => `SELECT tenant_id, date_trunc('hour', event_time), ${metricCountsSql()} FROM ${s} GROUP BY ALL`,
                LAKE_COLUMNS,
                'events',
              ),
            ],
          },
        ]
      : []),
  ];
}

const sqlTime = (ms: number) => `TIMESTAMP ${quote(new Date(ms).toISOString().replace('T', ' ').replace('Z', ''))}`;

/** Bytes this process has read through read(2)/pread(2) (page cache hits included): the OS's own count. */
function processReadBytes(): number {
  const io = readFileSync('/proc/self/io', 'utf8');
  return Number(/rchar:\s+(\d+)/.exec(io)?.[1] ?? 0);
}

/** A Parquet file's footer (metadata) length plus its 8-byte tail: what a reader reads before any column. */
function footerBytes(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    const tail = Buffer.alloc(8);
    readSync(fd, tail, 0, 8, size - 8);
    return tail.readUInt32LE(0) + 8;
  } finally {
    closeSync(fd);
  }
}

export interface AthenaFigures {
  rawLakeBytes: number;
  lines: string[];
  figures: Record<string, number | string>;
  /** Share of the raw lake's bytes read by the counted queries of each view. */
  viewShare: Record<string, number>;
}

/**
 * The Athena proxy: each view query's bytes read from Parquet, measured with DuckDB's profiler (`total_bytes_read`)
 * on the files Athena would read, with the external file cache off (every query reads its files), checked two ways:
 * against the OS's count of the bytes the process read during the query (/proc/self/io rchar) and against the bytes
 * the query must read by the files' own metadata (each touched file's footer + the compressed column chunks of the
 * columns it references, parquet_metadata); the OS count is the headline. Three runs: the client view (`tenant`)
 * through the events view as it was and as it is, and the compliance view (all tenants); each gives its metric
 * reports, its page total (the six reports the page sends) and what Athena would bill (10 MB at least a query).
 */
export async function measureAthenaProxy(opts: {
  lakeDir: string;
  cacheDir: string;
  label: string;
  tenant: string;
  lakeTo: string;
  log: (line: string) => void;
}): Promise<AthenaFigures> {
  const { lakeDir, tenant, log } = opts;
  const end = Date.parse(`${opts.lakeTo}T00:00:00Z`);
  // 30 days to the minute, ending inside the lake's last day (as "the last 30 days" from a dashboard).
  const from = end - 31 * DAY_MS + 13 * HOUR_MS + 27 * 60_000;
  const to = end - DAY_MS + 18 * HOUR_MS + 27 * 60_000;
  const wholeDays: string[] = [];
  for (let d = Math.ceil(from / DAY_MS) * DAY_MS; d < Math.floor(to / DAY_MS) * DAY_MS; d += DAY_MS)
    wholeDays.push(isoDay(d));
  const liveDays: string[] = [];
  for (let d = end - 8 * DAY_MS; d < end - DAY_MS; d += DAY_MS) liveDays.push(isoDay(d));
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  const lines: string[] = [];
  const figures: Record<string, number | string> = {};
  try {
    const rollDir = join(opts.cacheDir, `rollups-${opts.label}`);
    const t0 = performance.now();
    const r = await rollupFiles(conn, lakeDir, rollDir, [...new Set([...wholeDays, ...liveDays])].sort());
    const pick = (days: string[]) =>
      Object.fromEntries(
        Object.entries(r.files).map(([t, fs]) => [t, fs.filter((f) => days.some((d) => f.includes(`dt=${d}`)))]),
      ) as Record<Table, string[]>;
    const needed = new Set([...wholeDays, ...liveDays]).size;
    log(
      `  rollups of ${needed} days ready in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${r.ownDays} the lake's own, ${needed - r.ownDays} built here with rollupBuildSql`,
    );
    const rawLakeBytes = dirBytes(join(lakeDir, 'events'));
    await conn.run('SET enable_external_file_cache = false');
    const profile = join(opts.cacheDir, `.profile-${opts.label}.json`);
    const viewShare: Record<string, number> = {};
    lines.push(
      `Athena proxy ${opts.label}: raw lake ${(rawLakeBytes / 1e6).toFixed(0)} MB; a 30-day view (${new Date(from).toISOString().slice(0, 16)} to ${new Date(to).toISOString().slice(0, 16)}); client view: tenant ${tenant}, compliance view: all tenants`,
    );
    // The events view as it was (window by dt, hour, event_id: a tenant filter stays above it) for the client view,
    // and as it is (tenant_id among the window's partition columns) for both views; the compliance view has no
    // tenant filter, so both views read the same for it.
    const runs = [
      { byTenant: false, tenant: tenant as string | null, name: 'events view before (window by dt, hour, event_id)' },
      {
        byTenant: true,
        tenant: tenant as string | null,
        name: 'events view now (window by dt, hour, tenant_id, event_id)',
      },
      { byTenant: true, tenant: null, name: 'events view now' },
    ];
    for (const run of runs) {
      const queries = proxyQueries({
        lakeDir,
        tenant: run.tenant,
        byTenant: run.byTenant,
        from,
        to,
        rollups: pick(wholeDays),
        liveRollups: pick(liveDays),
        liveRawFrom: end - DAY_MS,
        liveTo: end + DAY_MS,
      });
      const key = `${run.tenant === null ? 'compliance' : 'client'}${run.byTenant ? '' : ' (view before)'}`;
      lines.push(
        `  ${run.tenant === null ? 'compliance view (all tenants)' : `client view (${run.tenant})`}, ${run.name}:`,
      );
      log(lines[lines.length - 1]!);
      const total = { metric: 0, page: 0, pageQueries: 0, billed: 0 };
      for (const q of queries) {
        const sum = { profiled: 0, osRead: 0, expected: 0, fileBytes: 0, footers: 0, files: 0, queries: 0, billed: 0 };
        let rows = 0;
        for (const s of q.scans) {
          if (q.stopAfterRows !== undefined && rows >= q.stopAfterRows) break;
          await conn.run(`PRAGMA enable_profiling = 'json'`);
          await conn.run(`PRAGMA profiling_output = ${quote(profile)}`);
          await conn.run(`SET custom_profiling_settings = '{"TOTAL_BYTES_READ": "true"}'`);
          const io0 = processReadBytes();
          rows += (await conn.runAndReadAll(s.sql)).currentRowCount;
          const io1 = processReadBytes();
          await conn.run('PRAGMA disable_profiling');
          sum.profiled += Number(
            (JSON.parse(readFileSync(profile, 'utf8')) as { total_bytes_read: number }).total_bytes_read,
          );
          sum.osRead += io1 - io0;
          sum.files += s.files.length;
          sum.queries++;
          const meta = (
            await conn.runAndReadAll(
              `SELECT coalesce(sum(total_compressed_size), 0) AS b FROM parquet_metadata([${s.files.map(quote).join(', ')}]) WHERE path_in_schema IN (${s.columns.map(quote).join(', ') || "''"})`,
            )
          ).getRowObjectsJS()[0] as { b: bigint | number };
          const foot = s.files.reduce((a, f) => a + footerBytes(f), 0);
          sum.footers += foot;
          sum.expected += Number(meta.b) + foot;
          sum.fileBytes += s.files.reduce((a, f) => a + statSync(f).size, 0);
        }
        // A metric report is one Athena statement (its scans united in one query); the drill-down newest first is one
        // per day it read. Athena bills at least 10 MB a query.
        const athenaQueries = q.stopAfterRows !== undefined ? sum.queries : Math.min(1, sum.queries);
        sum.billed = Math.max(sum.osRead, athenaQueries * ATHENA_MIN_BILLED_BYTES);
        // The OS's count is the headline: it is what the process really read (profiler and metadata beside it).
        const share = sum.osRead / rawLakeBytes;
        if (q.metric) total.metric += sum.osRead;
        if (q.page) {
          total.page += sum.osRead;
          total.pageQueries += athenaQueries;
          total.billed += sum.billed;
        }
        const k = `${key} ${q.label}`;
        figures[`${k} duckdb total_bytes_read`] = sum.profiled;
        figures[`${k} footers`] = sum.footers;
        figures[`${k} os rchar`] = sum.osRead;
        figures[`${k} expected bytes`] = sum.expected;
        figures[`${k} athena queries`] = athenaQueries;
        lines.push(
          `    ${q.label}: read ${(sum.osRead / 1e6).toFixed(2)} MB = ${(share * 100).toFixed(3)} % of the raw lake (OS count; ${athenaQueries} ${athenaQueries === 1 ? 'query' : 'queries'}${q.stopAfterRows !== undefined ? `, ${rows} rows` : ''}; ${sum.files} files of ${(sum.fileBytes / 1e6).toFixed(1)} MB; DuckDB total_bytes_read ${(sum.profiled / 1e6).toFixed(2)} MB; by the files' metadata: footers ${(sum.footers / 1e6).toFixed(2)} MB + referenced column chunks = ${(sum.expected / 1e6).toFixed(2)} MB)`,
        );
        log(lines[lines.length - 1]!);
      }
      const metricShare = total.metric / rawLakeBytes;
      const pageShare = total.page / rawLakeBytes;
      viewShare[`${key} metric reports`] = metricShare;
      viewShare[`${key} report page`] = pageShare;
      figures[`${key} metric reports share %`] = Number((metricShare * 100).toFixed(4));
      figures[`${key} report page share %`] = Number((pageShare * 100).toFixed(4));
      figures[`${key} report page billed share %`] = Number(((total.billed / rawLakeBytes) * 100).toFixed(4));
      lines.push(
        `    the page's five metric reports together: ${(total.metric / 1e6).toFixed(2)} MB = ${(metricShare * 100).toFixed(3)} %; the whole report page (the six reports as the page sends them, drill-down included: ${total.pageQueries} queries): ${(total.page / 1e6).toFixed(2)} MB = ${(pageShare * 100).toFixed(3)} % of the raw lake vs target < ${TARGET_SHARE * 100} %: ${pageShare < TARGET_SHARE ? 'met' : 'NOT met'}; billed by Athena (10 MB minimum a query): ${(total.billed / 1e6).toFixed(1)} MB = ${((total.billed / rawLakeBytes) * 100).toFixed(2)} %`,
      );
      log(lines[lines.length - 1]!);
    }
    return { rawLakeBytes, lines, figures, viewShare };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
