import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { createDuckDbRollupReportEngine } from '../dashboards/adapters/duckdb-report-engine';
import { DuckDbReportsStore } from '../dashboards/adapters/duckdb-reports-store';
import type { ReportParams } from '../dashboards/api/ports';
import { startDashboardServer } from '../dashboards/server';
import { LAKE_COLUMN_TYPES, LAKE_COLUMNS } from '../ingest/lake-schema';
import { type LakeDb, openLake } from '../queries/duckdb-lake';
import { metricCtes } from '../queries/metrics';
import { NAMED_QUERIES } from '../queries/named-queries';
import { type QueryRow, runNamedQuery } from '../queries/run-named-query';
import type { Benchmark, BenchResult } from './index';
import { BENCH_DATA_DIR, type BenchLake, ensureBenchLake } from './postgres-data';
import { findPostgresBin, shareWithServer, startThrowawayPostgres, type ThrowawayPostgres } from './postgres-server';

const TARGET_RATIO = 5;
const TARGET_API_P95_MS = 200;
const API_REQUESTS = 20;
const RUNS = 5;

/**
 * PostgreSQL laid out as the peers do: one row per event, all lake columns, typed, with a primary key on the event id
 * and B-tree indexes for the tenant-and-time, time and message lookups. Loaded once and kept (the data directory
 * lives with the cached lake under bench/.data).
 */
const PG_TYPES = { string: 'text', timestamp: 'timestamp', boolean: 'boolean', bigint: 'bigint' } as const;
const PG_DDL = `CREATE TABLE events (${LAKE_COLUMNS.map((c) => `${c} ${PG_TYPES[LAKE_COLUMN_TYPES[c]]}`).join(', ')})`;
const PG_INDEXES = [
  'ALTER TABLE events ADD PRIMARY KEY (event_id)',
  'CREATE INDEX events_tenant_time ON events (tenant_id, event_time)',
  'CREATE INDEX events_time ON events (event_time)',
  'CREATE INDEX events_message ON events (message_id)',
];

/** The tenant and time filters, bound as $1 (tenant), $2 (from), $3 (to); null means "all". */
const PG_SCOPE = `($1::text IS NULL OR tenant_id = $1::text)
    AND ($2::timestamp IS NULL OR event_time >= $2::timestamp)
    AND ($3::timestamp IS NULL OR event_time < $3::timestamp)`;

/**
 * The metric figures in PostgreSQL SQL, the same definitions and the same two-stage distinct counting as
 * queries/named-queries.ts (distinct (message, recipient) pairs first, then pairs per group), which is also the
 * faster form on PostgreSQL than `count(DISTINCT ...)` (a sort per group).
 */
function pgMetricsSql(keys: PgKey[], orderBy: string): string {
  const list = keys.map((k) => k.name).join(', ');
  return `WITH scoped AS NOT MATERIALIZED (
  SELECT ${keys.map((k) => `${k.row} AS ${k.name}`).join(', ')},
    event_type, message_id, recipient, machine_open, bounce_type, bounce_subtype, complaint_subtype, complaint_feedback_type
  FROM events
  WHERE ${PG_SCOPE}
),
${metricCtes(list, 'message_id, recipient')}
${pgMetricsSelect(keys, orderBy)}`;
}

/** A group key of the PostgreSQL metric queries: its name, its expression over a row, its output form. */
export interface PgKey {
  name: string;
  row: string;
  out?: string;
}

/**
 * The final SELECT of the PostgreSQL metric queries over their `counts` and `engagement` CTEs (the rates derived
 * from the counts), shared by the raw-row queries and the rollup-table ones (bench/scale-postgres.ts).
 */
export function pgMetricsSelect(keys: PgKey[], orderBy: string): string {
  // Plain equality, so PostgreSQL can hash-join (IS NOT DISTINCT FROM made it a nested loop: 97 M comparisons for
  // 500 tenants x 20 days); the group keys (tenant, day) are never NULL in the lake, and every answer is compared.
  const join = keys.map((k) => `e.${k.name} = c.${k.name}`).join(' AND ');
  return `SELECT ${keys.map((k) => `${k.out ?? `c.${k.name}`} AS ${k.name}`).join(', ')}, c.sent, c.delivered, c.hard_bounces, c.soft_bounces, c.complaints,
  c.opens, coalesce(e.unique_opens, 0) AS unique_opens, coalesce(e.human_opens, 0) AS human_opens,
  coalesce(e.machine_opens, 0) AS machine_opens, c.clicks, coalesce(e.unique_clicks, 0) AS unique_clicks,
  c.rejects, c.delivery_delays, c.rendering_failures, c.subscriptions,
  CAST(c.hard_bounces AS DOUBLE PRECISION) / NULLIF(c.sent, 0) AS bounce_rate,
  CAST(c.complaints AS DOUBLE PRECISION) / NULLIF(c.delivered, 0) AS complaint_rate,
  CAST(coalesce(e.unique_opens, 0) AS DOUBLE PRECISION) / NULLIF(c.delivered, 0) AS open_rate,
  CAST(coalesce(e.unique_clicks, 0) AS DOUBLE PRECISION) / NULLIF(c.delivered, 0) AS click_rate
FROM counts c
LEFT JOIN engagement e ON ${join}
ORDER BY ${orderBy}`;
}

/** PostgreSQL twins of the named queries, by name. */
export const PG_QUERIES: Record<string, string> = {
  'tenant-summary': pgMetricsSql([{ name: 'tenant_id', row: 'tenant_id' }], 'c.tenant_id'),
  'daily-timeseries': pgMetricsSql(
    [
      // Grouped by the date, formatted once per group (as the named query does).
      { name: 'day', row: 'CAST(event_time AS date)', out: `to_char(c.day, 'YYYY-MM-DD')` },
      { name: 'tenant_id', row: 'tenant_id' },
    ],
    'c.day, c.tenant_id',
  ),
};

/** Key columns of each query's rows (rows are matched on them when the two engines' answers are compared). */
const KEYS: Record<string, string[]> = { 'tenant-summary': ['tenant_id'], 'daily-timeseries': ['day', 'tenant_id'] };

interface Scenario {
  label: string;
  query: string;
  /** Named-query parameters (the tenant as the server's scope); the same values are bound on PostgreSQL. */
  params: { tenant?: string; from?: string; to?: string };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * Runs `fn` once to warm up (both engines are measured with the data in the OS page cache), then `runs` times,
 * recording wall time and the CPU time `cpuMs` reports for each run. The machine is shared: wall time depends on how
 * much of the 2 CPUs each engine got, CPU time does not.
 */
export async function timeRuns<T>(
  runs: number,
  fn: () => Promise<T>,
  cpuMs: () => number,
): Promise<{ times: number[]; cpu: number[]; result: T }> {
  let result = await fn();
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    result = await fn();
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 100)); // lets the postmaster reap the query's parallel workers
    cpu.push(cpuMs() - c0);
  }
  return { times, cpu, result };
}

/** CPU milliseconds of a process from /proc/<pid>/stat: its own (utime + stime), or its reaped children's. */
export function procCpuMs(pid: number, which: 'self' | 'children'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  const ticks = which === 'self' ? Number(f[11]) + Number(f[12]) : Number(f[13]) + Number(f[14]);
  return ticks * 10; // USER_HZ = 100 on Linux
}

/** DuckDB runs in this process: its CPU time is ours. */
const ownCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export function pgValue(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v); // bigint counts come back as text
  return String(v);
}

/**
 * Checks the two engines gave the same answer: the same keys, and every figure both have equal (rates to 1e-9).
 * Returns the number of rows compared; throws on the first difference.
 */
export function compareAnswers(query: string, duck: QueryRow[], pgRows: QueryRow[]): number {
  const keys = KEYS[query]!;
  const keyOf = (r: QueryRow) => keys.map((k) => String(r[k])).join('|');
  if (duck.length !== pgRows.length)
    throw new Error(`${query}: DuckDB gave ${duck.length} rows, PostgreSQL ${pgRows.length}`);
  const byKey = new Map(pgRows.map((r) => [keyOf(r), r]));
  const shared = Object.keys(duck[0] ?? {}).filter((c) => pgRows[0] && c in pgRows[0]);
  for (const need of ['sent', 'delivered', 'hard_bounces', 'complaints', 'unique_opens', 'unique_clicks']) {
    if (duck.length && !shared.includes(need)) throw new Error(`${query}: column ${need} missing from one answer`);
  }
  for (const d of duck) {
    const p = byKey.get(keyOf(d));
    if (!p) throw new Error(`${query}: PostgreSQL has no row for ${keyOf(d)}`);
    for (const c of shared) {
      const a = d[c];
      const b = p[c];
      const same =
        typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a)) : a === b;
      if (!same) throw new Error(`${query}: ${keyOf(d)} ${c} is ${a} on DuckDB, ${b} on PostgreSQL`);
    }
  }
  return duck.length;
}

export async function loadPostgres(
  server: ThrowawayPostgres,
  lake: Pick<BenchLake, 'dir' | 'rows'>,
  workDir: string,
  log: (line: string) => void,
): Promise<{ loadSeconds: number | null; tableBytes: number; indexBytes: number }> {
  const client = await server.connect();
  try {
    const hasMeta = (await client.query(`SELECT to_regclass('bench_meta') IS NOT NULL AS e`)).rows[0].e === true;
    const meta = hasMeta ? await client.query('SELECT rows FROM bench_meta WHERE lake = $1', [lake.dir]) : { rows: [] };
    let loadSeconds: number | null = null;
    if (Number((meta.rows[0] as { rows?: string } | undefined)?.rows ?? -1) !== lake.rows) {
      const t0 = performance.now();
      await client.query('DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS bench_meta');
      await client.query(PG_DDL);
      const csv = join(workDir, 'pg-load.csv');
      log(`exporting ${fmt(lake.rows)} lake rows to CSV (DuckDB)...`);
      const db = await openLake(lake.dir);
      try {
        await db.query(
          `COPY (SELECT ${LAKE_COLUMNS.join(', ')} FROM events) TO '${csv.replaceAll("'", "''")}' (FORMAT csv, HEADER false)`,
        );
      } finally {
        db.close();
      }
      shareWithServer(csv);
      log(`CSV ${(statSync(csv).size / 1e9).toFixed(1)} GB; COPY into PostgreSQL...`);
      await client.query(`COPY events FROM '${csv.replaceAll("'", "''")}' WITH (FORMAT csv)`);
      rmSync(csv, { force: true });
      log('building indexes...');
      for (const ddl of PG_INDEXES) await client.query(ddl);
      await client.query('VACUUM (ANALYZE) events');
      await client.query('CREATE TABLE bench_meta (lake text, rows bigint)');
      await client.query('INSERT INTO bench_meta VALUES ($1, $2)', [lake.dir, lake.rows]);
      await client.query('CHECKPOINT');
      loadSeconds = (performance.now() - t0) / 1000;
      log(`PostgreSQL loaded in ${loadSeconds.toFixed(0)} s`);
    }
    const size = await client.query(
      `SELECT pg_table_size('events') AS t, pg_indexes_size('events') AS i, (SELECT count(*) FROM events) AS n`,
    );
    const n = Number(size.rows[0].n);
    if (n !== lake.rows) throw new Error(`PostgreSQL holds ${n} rows, the lake ${lake.rows}`);
    return { loadSeconds, tableBytes: Number(size.rows[0].t), indexBytes: Number(size.rows[0].i) };
  } finally {
    await client.end();
  }
}

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

/**
 * Reports API p50 / p95 over HTTP on the same lake (the dashboard server as `npm start` runs it: DuckDB with the
 * lake cache), after the cache is loaded; the requests of a client key (one tenant, 30 days) and of a compliance key.
 */
async function measureApi(
  lakeDir: string,
  tenant: string,
  from: string,
  to: string,
  log: (line: string) => void,
): Promise<{ lines: string[]; figures: Record<string, number>; worst: number }> {
  const t0 = performance.now();
  const server = await startDashboardServer({
    port: 0,
    lakeDir,
    apiKeys: {
      'bench-compliance': { keyId: 'bench-c', role: 'compliance', tenantId: null },
      'bench-client': { keyId: 'bench-a', role: 'client', tenantId: tenant },
    },
    rateLimit: { capacity: 1_000_000, refillPerSecond: 1_000_000 },
    liveCacheMs: 0,
  });
  const lines: string[] = [];
  const figures: Record<string, number> = {};
  let worst = 0;
  try {
    // node:http, not fetch: fetch gives up on an answer that takes over 300 s (the first request loads the cache).
    const get = (path: string, key: string) =>
      new Promise<void>((resolve, reject) => {
        const req = request(server.url + path, { headers: { 'x-api-key': key } }, (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`${path} answered ${res.statusCode}`)),
          );
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    const range = `from=${from.slice(0, 10)}&to=${to.slice(0, 10)}`;
    await get(`/v1/reports/tenant-summary?${range}`, 'bench-client'); // loads the lake cache
    const loadMs = performance.now() - t0;
    figures['api cache load ms'] = Number(loadMs.toFixed(0));
    log(`dashboard server up and its lake cache loaded in ${(loadMs / 1000).toFixed(1)} s`);
    // The same 30 days starting and ending inside a day, as an API caller may ask (and the default period does).
    const minutes = `from=${new Date(Date.parse(from) + 13 * 3_600_000 + 27 * 60_000).toISOString()}&to=${new Date(Date.parse(to) - 5 * 3_600_000 - 33 * 60_000).toISOString()}`;
    // [label, path, key, counts toward the target (the two reports of the issue) or shown beside it]
    const endpoints: [string, string, string, boolean][] = [
      ['API tenant-summary, client, 30 d', `/v1/reports/tenant-summary?${range}`, 'bench-client', true],
      ['API daily-timeseries, client, 30 d', `/v1/reports/daily-timeseries?${range}`, 'bench-client', true],
      ['API tenant-summary, all tenants, 30 d', `/v1/reports/tenant-summary?${range}`, 'bench-compliance', true],
      ['API daily-timeseries, all tenants, 30 d', `/v1/reports/daily-timeseries?${range}`, 'bench-compliance', true],
      ['API tenant-summary, client, 30 d (minutes)', `/v1/reports/tenant-summary?${minutes}`, 'bench-client', true],
      ['API tenant-summary, all, 30 d (minutes)', `/v1/reports/tenant-summary?${minutes}`, 'bench-compliance', true],
      [
        'API daily-timeseries, all, 30 d (minutes)',
        `/v1/reports/daily-timeseries?${minutes}`,
        'bench-compliance',
        true,
      ],
      // The other reports the client view loads with its summary (named queries on the cached rows).
      ['(beside) campaign-report, client, 30 d', `/v1/reports/campaign-report?${range}`, 'bench-client', false],
      [
        '(beside) domain-deliverability, client, 30 d',
        `/v1/reports/domain-deliverability?${range}`,
        'bench-client',
        false,
      ],
      ['(beside) bounce-breakdown, client, 30 d', `/v1/reports/bounce-breakdown?${range}`, 'bench-client', false],
    ];
    for (const [label, path, key, counts] of endpoints) {
      const times: number[] = [];
      for (let i = 0; i < API_REQUESTS + 3; i++) {
        const s = performance.now();
        await get(path, key);
        if (i >= 3) times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      const p50 = percentile(times, 50);
      const p95 = percentile(times, 95);
      if (counts) worst = Math.max(worst, p95);
      figures[`${label} p50 ms`] = Number(p50.toFixed(1));
      figures[`${label} p95 ms`] = Number(p95.toFixed(1));
      lines.push(`${label.padEnd(42)} p50 ${p50.toFixed(0).padStart(6)} ms   p95 ${p95.toFixed(0).padStart(6)} ms`);
      log(lines[lines.length - 1]!);
    }
  } finally {
    await server.close();
  }
  return { lines, figures, worst };
}

const DAY_MS = 86_400_000;

/**
 * The same scenarios through sesflow's reports engine as the dashboards run it (dashboards/adapters/
 * duckdb-reports-store.ts: the lake's rollup tables loaded into DuckDB, the raw events of the open edges read per
 * request; a lake without rollups is answered from its raw events), in this process, against PostgreSQL's answers
 * and times from the same run. Loading the rollups is timed apart.
 * An all-time scenario is asked for the whole days holding every event (the same rows as no time filter).
 */
async function measureReportsEngine(
  lakeDir: string,
  scenarios: readonly Scenario[],
  pgAnswers: ReadonlyMap<string, { rows: QueryRow[]; ms: number; cpu: number }>,
  log: (line: string) => void,
): Promise<{ lines: string[]; figures: Record<string, number>; worst: number }> {
  const db = await openLake(lakeDir);
  const lines: string[] = [];
  const figures: Record<string, number> = {};
  let worst = Number.POSITIVE_INFINITY;
  try {
    const [span] = await db.query<{ lo: Date; hi: Date }>(
      'SELECT min(event_time) AS lo, max(event_time) AS hi FROM events',
    );
    const allFrom = Math.floor(span!.lo.getTime() / DAY_MS) * DAY_MS;
    const allTo = (Math.floor(span!.hi.getTime() / DAY_MS) + 1) * DAY_MS;
    const c0 = ownCpuMs();
    const t0 = performance.now();
    const store = await DuckDbReportsStore.open({ lakeDir, minIntervalMs: 60_000 });
    await store.refresh(true);
    const engine = createDuckDbRollupReportEngine(store);
    const loadMs = performance.now() - t0;
    figures['engine cache load ms'] = Math.round(loadMs);
    figures['engine cache load cpu ms'] = Math.round(ownCpuMs() - c0);
    log(`reports engine: rollups loaded in ${(loadMs / 1000).toFixed(1)} s (once, when the dashboards start)`);
    for (const s of scenarios) {
      const pgAnswer = pgAnswers.get(s.label);
      if (!pgAnswer) continue;
      const params: ReportParams = {
        tenant: s.params.tenant ?? null,
        from: s.params.from ? Date.parse(s.params.from) : allFrom,
        to: s.params.to ? Date.parse(s.params.to) : allTo,
        limit: 1_000_000,
      };
      const run = await timeRuns(RUNS, async () => (await engine.run(s.query, params)).rows as QueryRow[], ownCpuMs);
      const rows = compareAnswers(s.query, run.result, pgAnswer.rows);
      const d = median(run.times);
      const dc = median(run.cpu);
      const ratio = pgAnswer.ms / d;
      worst = Math.min(worst, ratio);
      figures[`${s.label} engine median ms`] = Number(d.toFixed(1));
      figures[`${s.label} engine ratio`] = Number(ratio.toFixed(1));
      figures[`${s.label} engine cpu ms`] = Math.round(dc);
      lines.push(
        `${`engine: ${s.label}`.padEnd(42)} ${`${d.toFixed(0)} ms`.padStart(14)} ${`${pgAnswer.ms.toFixed(0)} ms`.padStart(12)} ${`${ratio.toFixed(0)}x`.padStart(7)}  ${`${(dc / 1000).toFixed(2)} s`.padStart(9)} ${`${(pgAnswer.cpu / 1000).toFixed(1)} s`.padStart(9)} ${`${(pgAnswer.cpu / Math.max(dc, 1)).toFixed(0)}x`.padStart(6)}  ${rows}`,
      );
      log(lines[lines.length - 1]!);
    }
    lines.push(
      `reports engine = the dashboards' rollup engine, rollups loaded once in ${(loadMs / 1000).toFixed(1)} s (${((figures['engine cache load cpu ms'] ?? 0) / 1000).toFixed(0)} CPU-s), not counted above; answers compared with PostgreSQL's (equal)`,
    );
    store.close();
  } finally {
    db.close();
  }
  return { lines, figures, worst };
}

/**
 * tenant-summary and daily-timeseries over 10 M events: the lake on DuckDB (runNamedQuery over the Parquet files) and
 * the same rows in PostgreSQL, in the same run, on the same machine, each answer checked against the other.
 */
export const postgresBenchmark: Benchmark = {
  name: 'postgres',
  description: 'tenant-summary and daily-timeseries over 10 M events: DuckDB on the lake vs PostgreSQL (target >= 5x)',
  async run({ quick, log }): Promise<BenchResult> {
    const bin = findPostgresBin();
    if (!bin) throw new Error('PostgreSQL server not installed (Debian: apt-get install postgresql)');
    const minRows = quick ? 1_000_000 : 10_000_000;
    const workDir = join(BENCH_DATA_DIR, 'postgres');
    const lake = await ensureBenchLake({ workDir, records: quick ? 100_000 : 1_000_000, minRows, log });
    log(`lake: ${fmt(lake.rows)} events, ${lake.weeks} weeks (cached under bench/.data/postgres)`);
    const dataDir = join(workDir, `pgdata-${minRows}`);
    const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
    const server = await startThrowawayPostgres(bin, dataDir);
    const lines: string[] = [];
    const figures: Record<string, number | string> = {
      events: lake.rows,
      cpus: cpus().length,
      postgres: server.version,
      'load average before': loadavg()[0]!.toFixed(2),
    };
    let duck: LakeDb | null = null;
    let client: pg.Client | null = null;
    let apiScope = { tenant: '', from: '', to: '' };
    try {
      const loaded = await loadPostgres(server, lake, workDir, log);
      if (loaded.loadSeconds !== null) figures['postgres load s'] = Number(loaded.loadSeconds.toFixed(0));
      figures['postgres table GB'] = Number((loaded.tableBytes / 1e9).toFixed(2));
      figures['postgres index GB'] = Number((loaded.indexBytes / 1e9).toFixed(2));
      log(
        `PostgreSQL (${server.version}, ${fresh ? 'new cluster' : 'cached cluster'}): table ${(loaded.tableBytes / 1e9).toFixed(1)} GB + indexes ${(loaded.indexBytes / 1e9).toFixed(1)} GB`,
      );

      const t0 = performance.now();
      duck = await openLake(lake.dir);
      const openMs = performance.now() - t0;
      figures['duckdb open ms'] = Number(openMs.toFixed(0));
      client = await server.connect();
      const backend = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      const postmaster = server.postmasterPid();
      // The query's CPU time: its backend's, plus its parallel workers' (reaped by the postmaster when they end).
      const pgCpuMs = () => procCpuMs(backend, 'self') + procCpuMs(postmaster, 'children');

      const [largest] = await duck.query<{ tenant_id: string; n: bigint; last: Date }>(
        `SELECT tenant_id, count(*) AS n, max(event_time) AS last FROM events GROUP BY 1 ORDER BY 2 DESC LIMIT 1`,
      );
      const end = new Date(
        Date.UTC(largest!.last.getUTCFullYear(), largest!.last.getUTCMonth(), largest!.last.getUTCDate() + 1),
      );
      const from = new Date(end.getTime() - 30 * 86_400_000).toISOString();
      const tenant = largest!.tenant_id;
      const scenarios: Scenario[] = [
        { label: 'tenant-summary, all tenants, all time', query: 'tenant-summary', params: {} },
        {
          label: `tenant-summary, 1 tenant, 30 days`,
          query: 'tenant-summary',
          params: { tenant, from, to: end.toISOString() },
        },
        {
          // Not on day boundaries, as a dashboard asks ("the last 30 days" to the minute): the reports engine reads
          // the rows of the two partial days and the aggregates of the whole days between.
          label: 'tenant-summary, all tenants, 30 d (minutes)',
          query: 'tenant-summary',
          params: {
            from: new Date(Date.parse(from) + 13 * 3_600_000 + 27 * 60_000).toISOString(),
            to: new Date(end.getTime() - 5 * 3_600_000 - 33 * 60_000).toISOString(),
          },
        },
        { label: 'daily-timeseries, all tenants, all time', query: 'daily-timeseries', params: {} },
        {
          label: `daily-timeseries, 1 tenant, 30 days`,
          query: 'daily-timeseries',
          params: { tenant, from, to: end.toISOString() },
        },
      ].filter((s) => NAMED_QUERIES.has(s.query));
      const missing = ['tenant-summary', 'daily-timeseries'].filter((q) => !NAMED_QUERIES.has(q));
      if (missing.length) log(`not in queries/named-queries.ts yet, skipped: ${missing.join(', ')}`);

      lines.push(
        `${'wall time (median)'.padEnd(42)} ${'DuckDB (lake)'.padStart(14)} ${'PostgreSQL'.padStart(12)} ${'ratio'.padStart(7)}  ${'CPU DuckDB'.padStart(9)} ${'CPU PG'.padStart(9)} ${'ratio'.padStart(6)}  rows`,
      );
      let worstRatio = Number.POSITIVE_INFINITY;
      const pgAnswers = new Map<string, { rows: QueryRow[]; ms: number; cpu: number }>();
      for (const s of scenarios) {
        const { tenant: scopeTenant, ...range } = s.params;
        const duckRun = await timeRuns(
          RUNS,
          () => runNamedQuery(duck!, s.query, range, { tenant: scopeTenant ?? null }),
          ownCpuMs,
        );
        const pgParams = [s.params.tenant ?? null, pgTime(s.params.from), pgTime(s.params.to)];
        const pgRun = await timeRuns(
          RUNS,
          async () =>
            (await client!.query(PG_QUERIES[s.query]!, pgParams)).rows.map((r: Record<string, unknown>) =>
              Object.fromEntries(Object.entries(r).map(([k, v]) => [k, pgValue(v)])),
            ),
          pgCpuMs,
        );
        pgAnswers.set(s.label, { rows: pgRun.result as QueryRow[], ms: median(pgRun.times), cpu: median(pgRun.cpu) });
        const rows = compareAnswers(s.query, duckRun.result, pgRun.result as QueryRow[]);
        const d = median(duckRun.times);
        const p = median(pgRun.times);
        const ratio = p / d;
        worstRatio = Math.min(worstRatio, ratio);
        figures[`${s.label} duckdb median ms`] = Number(d.toFixed(1));
        figures[`${s.label} postgres median ms`] = Number(p.toFixed(1));
        figures[`${s.label} ratio`] = Number(ratio.toFixed(2));
        const dc = median(duckRun.cpu);
        const pc = median(pgRun.cpu);
        figures[`${s.label} duckdb cpu ms`] = Math.round(dc);
        figures[`${s.label} postgres cpu ms`] = Math.round(pc);
        lines.push(
          `${s.label.padEnd(42)} ${`${d.toFixed(0)} ms`.padStart(14)} ${`${p.toFixed(0)} ms`.padStart(12)} ${`${ratio.toFixed(1)}x`.padStart(7)}  ${`${(dc / 1000).toFixed(1)} s`.padStart(9)} ${`${(pc / 1000).toFixed(1)} s`.padStart(9)} ${`${(pc / dc).toFixed(1)}x`.padStart(6)}  ${rows}`,
        );
        log(lines[lines.length - 1]!);
      }
      figures['worst ratio'] = Number(worstRatio.toFixed(2));
      duck.close();
      duck = null;
      const engine = await measureReportsEngine(lake.dir, scenarios, pgAnswers, log);
      Object.assign(figures, engine.figures);
      lines.push(...engine.lines);
      figures['load average after'] = loadavg()[0]!.toFixed(2);
      lines.push(
        `medians of ${RUNS} runs after a warm-up; answers of both engines compared row by row (equal); tenant ${tenant}, 30 days to ${end.toISOString().slice(0, 10)}`,
      );
      lines.push(
        `DuckDB opens the ${fmt(lake.rows)}-event lake (views + dedup of event ids) in ${openMs.toFixed(0)} ms, not counted above`,
      );
      lines.push(
        `1-minute load average: ${figures['load average before']} before, ${figures['load average after']} after (${cpus().length} CPUs)`,
      );
      lines.push(
        `worst ratio, named queries on the lake files: ${worstRatio.toFixed(1)}x vs target >= ${TARGET_RATIO}x: ${worstRatio >= TARGET_RATIO ? 'met' : 'NOT met'}`,
      );
      lines.push(
        `worst ratio, the reports engine (lake cache): ${engine.worst.toFixed(1)}x vs target >= ${TARGET_RATIO}x: ${engine.worst >= TARGET_RATIO ? 'met' : 'NOT met'}`,
      );
      apiScope = { tenant, from, to: end.toISOString() };
    } finally {
      duck?.close();
      await client?.end();
      server.stop();
    }
    // With PostgreSQL stopped: the Reports API over the same lake.
    const api = await measureApi(lake.dir, apiScope.tenant, apiScope.from, apiScope.to, log);
    Object.assign(figures, api.figures);
    figures['api worst p95 ms'] = Number(api.worst.toFixed(1));
    figures['load average after api'] = loadavg()[0]!.toFixed(2);
    lines.push(...api.lines);
    lines.push(
      `API: ${API_REQUESTS} sequential requests per endpoint after 3 warm-ups; worst p95 ${api.worst.toFixed(0)} ms vs target ${TARGET_API_P95_MS} ms: ${api.worst < TARGET_API_P95_MS ? 'met' : 'NOT met'} (load average ${figures['load average after api']})`,
    );
    return { name: 'postgres', lines, figures };
  },
};

/** The named queries' timestamp form (UTC, no zone) for PostgreSQL's `timestamp`. */
export function pgTime(iso: string | undefined): string | null {
  return iso === undefined ? null : new Date(iso).toISOString().replace('T', ' ').replace('Z', '');
}
