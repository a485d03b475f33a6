import type { DuckDBConnection } from '@duckdb/node-api';
import { METRIC_COUNT_NAMES } from '../../queries/metrics';
import {
  defineNamedQuery,
  type MetricKey,
  metricsSelect,
  NAMED_QUERIES,
  type NamedQuery,
  WHOLE_DAY_PARAMS,
} from '../../queries/named-queries';

/**
 * Tables the reports engine derives from its rollup tables when a day is loaded (docs/dashboards.md "Reports
 * engine"), so that tenant-summary and daily-timeseries over whole days read a few rows per tenant and day instead of
 * every (tenant, campaign, domain) row and every opened pair of the period:
 *
 * - `rollup_tenant_days`: per tenant and day, the additive counts of `rollup_daily` summed over campaigns and domains;
 * - `rollup_pair_firsts`: per tenant, day and `prev`, how many (message, recipient) pairs were opened (`uo`), opened
 *   by a person (`ho`), by a machine (`mo`) and clicked (`uc`) that day, where `prev` is the last earlier day on which
 *   the same pair had the same flag (null: never before). A pair counts once over a run of days [a, b): on the first
 *   of its days in the run, the one whose `prev` is before `a` (or null). So a period's unique opens are
 *   `sum(uo) WHERE dt IN [a, b) AND (prev IS NULL OR prev < a)`, exactly the distinct count of the pairs, and a day's
 *   are `sum(uo)` of that day. Pairs are told apart by tenant and pair key, as the raw rendering groups them.
 *
 * The store updates them after each load that changed `rollup_daily` or `rollup_pairs` ({@link updateDerived}), in
 * a transaction of their own that also records what they were derived from (`_derived_state`: a digest of the
 * loaded builds), so a restart after a crash between the two rebuilds them.
 */

const counts = METRIC_COUNT_NAMES;

/** The derived tables, the rollup table each comes from, their DDL, and their columns as information_schema lists them (to notice a changed layout). */
export const DERIVED_TABLES: readonly { name: string; source: string; ddl: string; columns: string }[] = [
  {
    name: 'rollup_tenant_days',
    source: 'daily',
    ddl: `CREATE OR REPLACE TABLE rollup_tenant_days (tenant_id VARCHAR, dt VARCHAR, ${counts.map((n) => `${n} BIGINT`).join(', ')})`,
    columns: ['tenant_id VARCHAR', 'dt VARCHAR', ...counts.map((n) => `${n} BIGINT`)].join(', '),
  },
  {
    name: 'rollup_pair_firsts',
    source: 'pairs',
    ddl: 'CREATE OR REPLACE TABLE rollup_pair_firsts (tenant_id VARCHAR, dt VARCHAR, prev VARCHAR, uo BIGINT, ho BIGINT, mo BIGINT, uc BIGINT)',
    columns: 'tenant_id VARCHAR, dt VARCHAR, prev VARCHAR, uo BIGINT, ho BIGINT, mo BIGINT, uc BIGINT',
  },
];

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The rows of `rollup_tenant_days` for some days (a filter over `rollup_daily`'s `dt`), in (tenant, day) order. */
const tenantDaysSql = (where: string) =>
  `SELECT tenant_id, dt, ${counts.map((n) => `CAST(sum(${n}) AS BIGINT) AS ${n}`).join(', ')}
FROM rollup_daily WHERE ${where}
GROUP BY tenant_id, dt
ORDER BY tenant_id, dt`;

/**
 * The rows of `rollup_pair_firsts` of the days from `from` on (null: every day). `prev` needs each pair's earlier
 * days, so the pairs seen from `from` on are looked up over all days (only those pairs: a late day rebuilt reads its
 * own pairs' history, not the whole table). Most pairs are opened or clicked on one day only: those are counted
 * straight from their one day; only the pairs of several days go through the window that finds each day's `prev`.
 */
function pairFirstsSql(from: string | null): string {
  const pairs =
    from === null
      ? 'rollup_pairs'
      : `(SELECT r.* FROM rollup_pairs r
  SEMI JOIN (SELECT DISTINCT tenant_id, pair_key FROM rollup_pairs WHERE dt >= ${sqlString(from)}) s
    ON s.tenant_id = r.tenant_id AND s.pair_key = r.pair_key)`;
  const prev = (flag: string) => `max(CASE WHEN ${flag} THEN dt END) OVER w`;
  const flags = 'bool_or(o) AS o, bool_or(h) AS h, bool_or(m) AS m, bool_or(k) AS k';
  return `WITH g AS (
  SELECT tenant_id, pair_key, min(dt) AS d0, max(dt) AS d1, ${flags}
  FROM ${pairs} x
  GROUP BY tenant_id, pair_key
),
p AS (
  SELECT x.tenant_id, x.dt, x.pair_key, ${flags}
  FROM ${pairs} x SEMI JOIN g ON g.tenant_id = x.tenant_id AND g.pair_key = x.pair_key AND g.d0 <> g.d1
  GROUP BY x.tenant_id, x.dt, x.pair_key
),
f AS (
  SELECT tenant_id, dt, o, h, m, k, ${prev('o')} AS po, ${prev('h')} AS ph, ${prev('m')} AS pm, ${prev('k')} AS pk
  FROM p
  WINDOW w AS (PARTITION BY tenant_id, pair_key ORDER BY dt ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
u AS (
  SELECT tenant_id, d0 AS dt, CAST(NULL AS VARCHAR) AS prev, count(*) FILTER (WHERE o) AS uo,
    count(*) FILTER (WHERE h) AS ho, count(*) FILTER (WHERE m) AS mo, count(*) FILTER (WHERE k) AS uc
  FROM g WHERE d0 = d1
  GROUP BY tenant_id, d0
  UNION ALL SELECT tenant_id, dt, po, 1, 0, 0, 0 FROM f WHERE o
  UNION ALL SELECT tenant_id, dt, ph, 0, 1, 0, 0 FROM f WHERE h
  UNION ALL SELECT tenant_id, dt, pm, 0, 0, 1, 0 FROM f WHERE m
  UNION ALL SELECT tenant_id, dt, pk, 0, 0, 0, 1 FROM f WHERE k
)
SELECT tenant_id, dt, prev, CAST(sum(uo) AS BIGINT) AS uo, CAST(sum(ho) AS BIGINT) AS ho,
  CAST(sum(mo) AS BIGINT) AS mo, CAST(sum(uc) AS BIGINT) AS uc
FROM u
${from === null ? '' : `WHERE dt >= ${sqlString(from)}\n`}GROUP BY tenant_id, dt, prev
ORDER BY tenant_id, dt, prev`;
}

/**
 * Brings the derived tables up to date after the rows of `dts` in `rollup_<table>` were replaced. `null`: every day
 * (a new or changed layout). `oldest`: the first day `rollup_pairs` holds, when the caller knows it (else it is
 * looked up): a reload from that day on recomputes everything, with no lookup of the pairs' history.
 */
export async function updateDerived(
  conn: DuckDBConnection,
  table: string,
  dts: readonly string[] | null,
  oldest?: string | null,
): Promise<void> {
  if (table === 'daily') {
    if (dts === null) {
      await conn.run('DELETE FROM rollup_tenant_days');
      await conn.run(`INSERT INTO rollup_tenant_days ${tenantDaysSql('true')}`);
    } else if (dts.length > 0) {
      const list = dts.map(sqlString).join(', ');
      await conn.run(`DELETE FROM rollup_tenant_days WHERE dt IN (${list})`);
      await conn.run(`INSERT INTO rollup_tenant_days ${tenantDaysSql(`dt IN (${list})`)}`);
    }
  }
  if (table === 'pairs') {
    if (dts !== null && dts.length === 0) return;
    const first = dts === null ? null : [...dts].sort()[0]!;
    const first_ =
      oldest !== undefined
        ? oldest
        : ((await conn.runAndReadAll('SELECT min(dt) AS d FROM rollup_pairs')).getRowObjectsJS()[0]?.d ?? null);
    const from = first === null || first_ === null || first <= String(first_) ? null : first;
    await conn.run(`DELETE FROM rollup_pair_firsts${from === null ? '' : ` WHERE dt >= ${sqlString(from)}`}`);
    await conn.run(`INSERT INTO rollup_pair_firsts ${pairFirstsSql(from)}`);
  }
}

/** Whole days [day_from, day_to) of the derived tables, one tenant or all (`:tenant` null). */
const DAYS_SCOPE = 'dt >= :day_from AND dt < :day_to AND (:tenant IS NULL OR tenant_id = :tenant)';

/** tenant-summary or daily-timeseries over whole days from the derived tables: the rollup rendering's rows. */
function wholeDaysText(keys: readonly MetricKey[], perDay: boolean, orderBy: string): string {
  const list = keys.map((k) => k.name).join(', ');
  const lead = keys.map((k) => `${k.rollup ?? k.name} AS ${k.name}`).join(', ');
  return `WITH counts AS (
  SELECT ${lead}, ${counts.map((n) => `CAST(sum(${n}) AS BIGINT) AS ${n}`).join(', ')}
  FROM rollup_tenant_days
  WHERE ${DAYS_SCOPE}
  GROUP BY ${list}
),
engagement AS (
  SELECT ${lead}, CAST(sum(uo) AS BIGINT) AS unique_opens, CAST(sum(ho) AS BIGINT) AS human_opens,
    CAST(sum(mo) AS BIGINT) AS machine_opens, CAST(sum(uc) AS BIGINT) AS unique_clicks
  FROM rollup_pair_firsts
  WHERE ${DAYS_SCOPE}${perDay ? '' : '\n  AND (prev IS NULL OR prev < :day_from)'}
  GROUP BY ${list}
)
${metricsSelect(keys, { orderBy })}`;
}

const TENANT_KEY: MetricKey = { name: 'tenant_id', row: 'tenant_id' };
const DAY_KEY: MetricKey = {
  name: 'day',
  row: 'CAST(event_time AS DATE)',
  rollup: 'CAST(dt AS DATE)',
  out: 'CAST({k} AS VARCHAR)',
};

/**
 * The reports answered from the derived tables when a period is whole days only (no raw edge to add), by name: the
 * same columns, rows and order as their rollup renderings (dashboards/adapters/duckdb-rollup-derived.int.test.ts).
 * DuckDB only: the derived tables are the engine's, not the lake's.
 */
export const WHOLE_DAY_RENDERINGS: ReadonlyMap<string, NamedQuery> = new Map(
  (
    [
      ['tenant-summary', wholeDaysText([TENANT_KEY], false, 'tenant_id')],
      ['daily-timeseries', wholeDaysText([DAY_KEY, TENANT_KEY], true, 'day, tenant_id')],
    ] as const
  ).map(([name, text]) => {
    const named = NAMED_QUERIES.get(name)!;
    const q = defineNamedQuery({
      name,
      description: named.description,
      params: [...named.params, ...WHOLE_DAY_PARAMS],
      columns: named.columns,
      text: () => text,
    });
    return [name, q] as const;
  }),
);
