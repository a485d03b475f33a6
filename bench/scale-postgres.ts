import { join } from 'node:path';
import { ENGAGEMENT_COUNTS_SQL, ENGAGEMENT_FLAGS_SQL, METRIC_COUNT_NAMES, metricCountsSql } from '../queries/metrics';
import type { QueryRow } from '../queries/run-named-query';
import {
  compareAnswers,
  loadPostgres,
  median,
  PG_QUERIES,
  type PgKey,
  pgMetricsSelect,
  pgTime,
  pgValue,
  procCpuMs,
  timeRuns,
} from './postgres.bench';
import { findPostgresBin, startThrowawayPostgres } from './postgres-server';
import { DISK_RESERVE_BYTES, freeDisk, gb } from './scale-lake';

const RUNS = 5;
/** PostgreSQL's copy of the lake: 7.3 GB table + 1.6 GB indexes per 10 M events (docs/BENCHMARKS.md, postgres). */
const PG_BYTES_PER_EVENT = 890;
/** The CSV DuckDB exports for COPY, deleted after the load (about 450 B an event). */
const CSV_BYTES_PER_EVENT = 500;

/**
 * PostgreSQL's own rollups, as a team would add them: one row per tenant and day with the additive counts, and one
 * row per tenant, day and opened or clicked (message, recipient) pair (a 64-bit hash of the pair, PostgreSQL's
 * `hashtextextended`) with its flags, so unique opens and clicks stay exact over any run of days. B-tree indexes on
 * (tenant, day) and (day).
 */
const PG_ROLLUP_DDL = [
  'DROP TABLE IF EXISTS rollup_daily, rollup_pairs, bench_rollup_meta',
  `CREATE TABLE rollup_daily AS SELECT tenant_id, CAST(event_time AS date) AS day, ${metricCountsSql()}
   FROM events GROUP BY 1, 2`,
  `CREATE TABLE rollup_pairs AS SELECT tenant_id, CAST(event_time AS date) AS day,
     hashtextextended(coalesce(length(message_id) || ':' || message_id, '-') || '|' || coalesce('r' || recipient, '-'), 0) AS pk,
     ${ENGAGEMENT_FLAGS_SQL}
   FROM events WHERE event_type IN ('open', 'click') GROUP BY 1, 2, 3`,
  'CREATE INDEX rollup_daily_tenant_day ON rollup_daily (tenant_id, day)',
  'CREATE INDEX rollup_daily_day ON rollup_daily (day)',
  'CREATE INDEX rollup_pairs_tenant_day ON rollup_pairs (tenant_id, day)',
  'CREATE INDEX rollup_pairs_day ON rollup_pairs (day)',
  'VACUUM (ANALYZE) rollup_daily',
  'VACUUM (ANALYZE) rollup_pairs',
  'CREATE TABLE bench_rollup_meta (rows bigint)',
];

const ROLLUP_SCOPE = `($1::text IS NULL OR tenant_id = $1::text) AND day >= CAST($2::timestamp AS date) AND day < CAST($3::timestamp AS date)`;

/** tenant-summary and daily-timeseries over PostgreSQL's rollup tables, for whole days (the same figures as raw). */
function pgRollupSql(keys: PgKey[], orderBy: string): string {
  const list = keys.map((k) => k.name).join(', ');
  const sums = METRIC_COUNT_NAMES.map((c) => `CAST(sum(${c}) AS bigint) AS ${c}`).join(', ');
  return `WITH counts AS (
  SELECT ${list}, ${sums} FROM rollup_daily WHERE ${ROLLUP_SCOPE} GROUP BY ${list}
),
pairs AS (
  SELECT ${list}, bool_or(o) AS o, bool_or(h) AS h, bool_or(m) AS m, bool_or(k) AS k
  FROM rollup_pairs WHERE ${ROLLUP_SCOPE} GROUP BY ${list}, pk
),
engagement AS (SELECT ${list}, ${ENGAGEMENT_COUNTS_SQL} FROM pairs GROUP BY ${list})
${pgMetricsSelect(keys, orderBy)}`;
}

export const PG_ROLLUP_QUERIES: Record<string, string> = {
  'tenant-summary': pgRollupSql([{ name: 'tenant_id', row: 'tenant_id' }], 'c.tenant_id'),
  'daily-timeseries': pgRollupSql(
    [
      { name: 'day', row: 'day', out: `to_char(c.day, 'YYYY-MM-DD')` },
      { name: 'tenant_id', row: 'tenant_id' },
    ],
    'c.day, c.tenant_id',
  ),
};

/** One report the comparison asks each side for: all tenants or one, over whole days. */
export interface PgScenario {
  label: string;
  query: 'tenant-summary' | 'daily-timeseries';
  tenant: string | null;
  from: string;
  to: string;
}

/**
 * The scenarios, over whole days up to the lake's end: 30 days, but 20 for all tenants' daily series (500 tenants x
 * 20 days is the Reports API's 10,000-row limit, so the API's answer is whole and can be checked row by row).
 */
export function pgScenarios(tenant: string, lakeTo: string): PgScenario[] {
  const to = `${lakeTo}T00:00:00.000Z`;
  const back = (days: number) => new Date(Date.parse(to) - days * 86_400_000).toISOString();
  return [
    { label: 'tenant-summary, all tenants, 30 d', query: 'tenant-summary', tenant: null, from: back(30), to },
    { label: 'tenant-summary, 1 tenant, 30 d', query: 'tenant-summary', tenant, from: back(30), to },
    { label: 'daily-timeseries, all tenants, 20 d', query: 'daily-timeseries', tenant: null, from: back(20), to },
    { label: 'daily-timeseries, 1 tenant, 30 d', query: 'daily-timeseries', tenant, from: back(30), to },
  ];
}

/**
 * The same scenarios through the Reports API (`base`: a running server; the client key for one tenant, the
 * compliance key for all): one warm-up, then median of 5 requests, each answer checked against PostgreSQL's.
 */
export async function measureApiScenarios(
  base: string,
  scenarios: PgScenario[],
  answers: ReadonlyMap<string, PgAnswer>,
  get: (url: string, key: string) => Promise<string>,
): Promise<{ label: string; ms: number; rows: number }[]> {
  const out: { label: string; ms: number; rows: number }[] = [];
  for (const sc of scenarios) {
    const pgAnswer = answers.get(sc.label);
    if (!pgAnswer) continue;
    const url = `${base}/v1/reports/${sc.query}?from=${encodeURIComponent(sc.from)}&to=${encodeURIComponent(sc.to)}&limit=10000`;
    const key = sc.tenant ? 'bench-client' : 'bench-compliance';
    let rows: QueryRow[] = [];
    const times: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const t0 = performance.now();
      rows = (JSON.parse(await get(url, key)) as { rows: QueryRow[] }).rows;
      if (i > 0) times.push(performance.now() - t0);
    }
    out.push({ label: sc.label, ms: median(times), rows: compareAnswers(sc.query, rows, pgAnswer.rows) });
  }
  return out;
}

export interface PgAnswer {
  rows: QueryRow[];
  rawMs: number;
  rawCpuMs: number;
  rollupMs: number;
  rollupCpuMs: number;
}

/**
 * PostgreSQL at the lake's size, two ways in one run: the raw rows indexed (as bench/postgres.bench.ts) and its own
 * rollup tables. Each scenario's raw and rollup answers are checked equal; the answers are kept to check the reports
 * engine's against. Returns null (after one line) when the disk would not hold PostgreSQL's copy.
 */
export async function measurePostgres(opts: {
  cacheDir: string;
  label: string;
  lake: { dir: string; rows: number };
  scenarios: PgScenario[];
  log: (line: string) => void;
}): Promise<{ answers: Map<string, PgAnswer>; figures: Record<string, number | string>; lines: string[] } | null> {
  const { cacheDir, label, lake, scenarios, log } = opts;
  const bin = findPostgresBin();
  if (!bin) {
    log(`postgres ${label}: skipped: PostgreSQL server not installed (Debian: apt-get install postgresql)`);
    return null;
  }
  const dataDir = join(cacheDir, `pgdata-${label}`);
  const need = lake.rows * (PG_BYTES_PER_EVENT + CSV_BYTES_PER_EVENT) + DISK_RESERVE_BYTES;
  const free = freeDisk(cacheDir);
  if (need > free) {
    log(
      `postgres ${label}: skipped: its copy needs about ${gb(need)} (table, indexes, load CSV, ${gb(DISK_RESERVE_BYTES)} left free), ${gb(free)} free`,
    );
    return null;
  }
  const server = await startThrowawayPostgres(bin, dataDir);
  const figures: Record<string, number | string> = { postgres: server.version };
  const lines: string[] = [];
  const answers = new Map<string, PgAnswer>();
  try {
    const loaded = await loadPostgres(server, lake, cacheDir, log);
    if (loaded.loadSeconds !== null) figures['postgres load s'] = Math.round(loaded.loadSeconds);
    const client = await server.connect();
    try {
      const meta = await client
        .query(
          `SELECT to_regclass('bench_rollup_meta') IS NOT NULL AND (SELECT count(*) FROM bench_rollup_meta WHERE rows = $1) > 0 AS ok`,
          [lake.rows],
        )
        .catch(() => ({ rows: [{ ok: false }] }));
      if (!meta.rows[0].ok) {
        log(`postgres ${label}: building its rollup tables...`);
        const t0 = performance.now();
        for (const ddl of PG_ROLLUP_DDL) await client.query(ddl);
        await client.query('INSERT INTO bench_rollup_meta VALUES ($1)', [lake.rows]);
        figures['postgres rollup build s'] = Math.round((performance.now() - t0) / 1000);
      }
      const size = await client.query(
        `SELECT pg_total_relation_size('events') AS raw, pg_total_relation_size('rollup_daily') + pg_total_relation_size('rollup_pairs') AS roll,
                (SELECT count(*) FROM rollup_daily) AS daily, (SELECT count(*) FROM rollup_pairs) AS pairs`,
      );
      const s = size.rows[0];
      figures['postgres raw GB'] = Number((Number(s.raw) / 1e9).toFixed(2));
      figures['postgres rollups GB'] = Number((Number(s.roll) / 1e9).toFixed(2));
      lines.push(
        `PostgreSQL ${label} (${server.version}): events + indexes ${gb(Number(s.raw))}, rollup tables ${gb(Number(s.roll))} (${Number(s.daily).toLocaleString('en-US')} daily rows, ${Number(s.pairs).toLocaleString('en-US')} pair rows)${figures['postgres load s'] ? `, loaded in ${figures['postgres load s']} s` : ''}${figures['postgres rollup build s'] ? `, rollups built in ${figures['postgres rollup build s']} s` : ''}`,
      );
      const backend = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      const postmaster = server.postmasterPid();
      const cpu = () => procCpuMs(backend, 'self') + procCpuMs(postmaster, 'children');
      const run = async (sql: string, params: unknown[]) =>
        (await client.query(sql, params)).rows.map(
          (r: Record<string, unknown>) =>
            Object.fromEntries(Object.entries(r).map(([k, v]) => [k, pgValue(v)])) as QueryRow,
        );
      for (const sc of scenarios) {
        const params = [sc.tenant, pgTime(sc.from), pgTime(sc.to)];
        const raw = await timeRuns(RUNS, () => run(PG_QUERIES[sc.query]!, params), cpu);
        const roll = await timeRuns(RUNS, () => run(PG_ROLLUP_QUERIES[sc.query]!, params), cpu);
        compareAnswers(sc.query, roll.result, raw.result);
        const a: PgAnswer = {
          rows: raw.result,
          rawMs: median(raw.times),
          rawCpuMs: median(raw.cpu),
          rollupMs: median(roll.times),
          rollupCpuMs: median(roll.cpu),
        };
        answers.set(sc.label, a);
        log(
          `  PostgreSQL ${sc.label}: raw ${a.rawMs.toFixed(0)} ms (${a.rawCpuMs.toFixed(0)} CPU-ms), rollups ${a.rollupMs.toFixed(0)} ms (${a.rollupCpuMs.toFixed(0)} CPU-ms), ${raw.result.length} rows, equal`,
        );
      }
    } finally {
      await client.end();
    }
  } finally {
    server.stop();
  }
  return { answers, figures, lines };
}
