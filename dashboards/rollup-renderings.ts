import { ENGAGEMENT_COUNTS_SQL, ENGAGEMENT_FLAGS_SQL, METRIC_COUNT_NAMES, metricCountsSql } from '../queries/metrics';
import { defineNamedQuery, NAMED_QUERIES, type NamedQuery, PROVIDER_CASE } from '../queries/named-queries';
import { pairKeySql } from '../queries/rollups';
import type { Dialect } from '../queries/sql/placeholders';

/**
 * The metric reports (tenant-summary, daily-timeseries, campaign-report, domain-deliverability) answered from the
 * rollups (queries/rollups.ts) for the whole days `[:day_from, :day_to)` and from `events` for the rest of
 * `[:from, :to)`, with the named query's columns, rows and order (docs/queries.md "Answering from rollups"):
 * - additive counts: the rollup rows' sums plus the edge rows' counts;
 * - unique opens and clicks: distinct pair keys with the flag over `rollup_pairs` of the whole days UNION the edge
 *   rows' pair keys (a pair seen on several days counts once).
 * Each has a DuckDB and a Trino rendering (Athena reads the same rollup files through the Glue tables `rollup_*`,
 * whose `dt` is the day as text, as here). With `day_from` = `day_to` no rollup row is read: the raw-only answer.
 */

/** The whole days' parameters, beside the named query's own. */
const DAY_PARAMS = [
  { name: 'day_from', type: 'string', description: 'first whole day answered from rollups (YYYY-MM-DD)' },
  { name: 'day_to', type: 'string', description: 'day after the last whole day answered from rollups (YYYY-MM-DD)' },
] as const;

interface Key {
  name: string;
  /** Over an `events` row. */
  row: string;
  /** Over a rollup row (default: {@link row}: the rollups keep the same columns). */
  rollup?: string;
  out?: string;
  nullable?: boolean;
}

interface Spec {
  keys: readonly Key[];
  where?: string;
  subject?: boolean;
  orderBy: string;
}

const SPECS: Record<string, Spec> = {
  'tenant-summary': { keys: [{ name: 'tenant_id', row: 'tenant_id' }], orderBy: 'tenant_id' },
  'daily-timeseries': {
    keys: [
      { name: 'day', row: 'CAST(event_time AS DATE)', rollup: 'CAST(dt AS DATE)', out: 'CAST({k} AS VARCHAR)' },
      { name: 'tenant_id', row: 'tenant_id' },
    ],
    orderBy: 'day, tenant_id',
  },
  'campaign-report': {
    keys: [
      { name: 'tenant_id', row: 'tenant_id' },
      { name: 'campaign_id', row: 'campaign_id', nullable: true },
    ],
    where: '(:campaign IS NULL OR campaign_id = :campaign)',
    subject: true,
    orderBy: 'c.sent DESC, tenant_id, campaign_id NULLS LAST',
  },
  'domain-deliverability': {
    keys: [
      { name: 'recipient_domain', row: 'recipient_domain' },
      { name: 'provider', row: PROVIDER_CASE },
    ],
    where: `recipient_domain IS NOT NULL AND (:provider IS NULL OR ${PROVIDER_CASE} = :provider)`,
    orderBy: 'c.sent DESC, recipient_domain',
  },
};

function rollupText(d: Dialect, spec: Spec): string {
  const list = spec.keys.map((k) => k.name).join(', ');
  const rollupKeys = spec.keys.map((k) => `${k.rollup ?? k.row} AS ${k.name}`).join(', ');
  const rowKeys = spec.keys.map((k) => `${k.row} AS ${k.name}`).join(', ');
  const where = spec.where ? ` AND ${spec.where}` : '';
  const subject = spec.subject ? ', max(subject) AS subject' : '';
  const days = `(:tenant IS NULL OR tenant_id = :tenant) AND dt >= :day_from AND dt < :day_to${where}`;
  const wholeDays = `event_time >= CAST(:day_from AS TIMESTAMP) AND event_time < CAST(:day_to AS TIMESTAMP)`;
  const join = spec.keys
    .map((k) =>
      k.nullable
        ? `coalesce(e.${k.name}, '') = coalesce(c.${k.name}, '') AND (e.${k.name} IS NULL) = (c.${k.name} IS NULL)`
        : `e.${k.name} = c.${k.name}`,
    )
    .join(' AND ');
  const out = spec.keys.map((k) => `${k.out ? k.out.replaceAll('{k}', `c.${k.name}`) : `c.${k.name}`} AS ${k.name}`);
  const flags = ['o', 'h', 'm', 'k'];
  return `WITH edge AS ${d === 'duckdb' ? 'NOT MATERIALIZED ' : ''}(
  SELECT * FROM events
  WHERE (:tenant IS NULL OR tenant_id = :tenant)
    AND event_time >= CAST(:from AS TIMESTAMP) AND event_time < CAST(:to AS TIMESTAMP)
    AND NOT (${wholeDays})${where}${
      // Athena: the partition filter prunes the days outside the period (the time comparison alone scans them all).
      d === 'trino' ? '\n    AND dt >= substr(:from, 1, 10) AND dt <= substr(:to, 1, 10)' : ''
    }
),
counts AS (
  SELECT ${list}, ${METRIC_COUNT_NAMES.map((n) => `sum(${n}) AS ${n}`).join(', ')}${subject}
  FROM (
    SELECT ${rollupKeys}, ${METRIC_COUNT_NAMES.join(', ')}${spec.subject ? ', subject' : ''}
    FROM rollup_daily WHERE ${days}
    UNION ALL
    SELECT ${rowKeys}, ${metricCountsSql()}${subject}
    FROM edge GROUP BY ${spec.keys.map((k) => k.row).join(', ')}
  ) x
  GROUP BY ${list}
),
pairs AS (
  SELECT ${list}, ${flags.map((f) => `bool_or(${f}) AS ${f}`).join(', ')}
  FROM (
    SELECT ${rollupKeys}, pair_key, ${flags.join(', ')} FROM rollup_pairs WHERE ${days}
    UNION ALL
    SELECT ${rowKeys}, ${pairKeySql(d)} AS pair_key, ${ENGAGEMENT_FLAGS_SQL}
    FROM edge WHERE event_type IN ('open', 'click')
    GROUP BY ${spec.keys.map((k) => k.row).join(', ')}, ${pairKeySql(d)}
  ) x
  GROUP BY ${list}, pair_key
),
engagement AS (
  SELECT ${list}, ${ENGAGEMENT_COUNTS_SQL}
  FROM pairs
  GROUP BY ${list}
)
SELECT ${out.join(', ')},${spec.subject ? ' c.subject,' : ''}
  ${METRIC_COUNT_NAMES.slice(0, 6)
    .map((n) => `c.${n}`)
    .join(', ')},
  coalesce(e.unique_opens, 0) AS unique_opens, coalesce(e.human_opens, 0) AS human_opens,
  coalesce(e.machine_opens, 0) AS machine_opens, c.clicks, coalesce(e.unique_clicks, 0) AS unique_clicks,
  ${METRIC_COUNT_NAMES.slice(7)
    .map((n) => `c.${n}`)
    .join(', ')},
  CAST(c.hard_bounces AS DOUBLE) / NULLIF(c.sent, 0) AS bounce_rate,
  CAST(c.complaints AS DOUBLE) / NULLIF(c.delivered, 0) AS complaint_rate,
  CAST(coalesce(e.unique_opens, 0) AS DOUBLE) / NULLIF(c.delivered, 0) AS open_rate,
  CAST(coalesce(e.unique_clicks, 0) AS DOUBLE) / NULLIF(c.delivered, 0) AS click_rate
FROM counts c
LEFT JOIN engagement e ON ${join}
ORDER BY ${spec.orderBy}`;
}

/** The rollup renderings by report name: the named query's parameters, `day_from` and `day_to`. */
export const ROLLUP_RENDERINGS: ReadonlyMap<string, NamedQuery> = new Map(
  Object.entries(SPECS).map(([name, spec]) => {
    const named = NAMED_QUERIES.get(name);
    if (!named) throw new Error(`no named query ${name}`);
    return [
      name,
      defineNamedQuery({
        ...named,
        params: [...named.params, ...DAY_PARAMS],
        text: (d) => rollupText(d, spec),
      }),
    ];
  }),
);
