import {
  COUNTED_COMPLAINT_OF_A_COMPLAINT,
  engagementCte,
  METRIC_COUNT_NAMES,
  METRIC_COUNTS,
  metricCtes,
  SUPPRESSED_BOUNCE_SUBTYPES,
  UNSUBSCRIBE,
} from './metrics';
import { pairKeySql, recipientKeySql } from './rollups';
import { compileNamed, type Dialect } from './sql/placeholders';

/**
 * Named queries: one definition each, run locally on DuckDB and in AWS on Athena (Trino SQL) with the same results.
 *
 * Rules every definition follows (docs/queries.md):
 * - SQL reads the relation `events`: one row per event_id (the deduplicating view locally, its Athena twin in AWS);
 * - values are named placeholders (`:tenant`), compiled to positional `?` and always bound (DuckDB prepared
 *   statements, Athena ExecutionParameters), never spliced, and they appear only in WHERE clauses (an Athena rule);
 * - only SQL common to DuckDB and Trino: `count(*) FILTER (WHERE …)`, `bool_or`, `CAST(… AS DOUBLE)` before a
 *   division (Trino divides integers as integers), `NULLIF`, `||`, `coalesce`, window functions; no `QUALIFY`, no `::` casts, no `ILIKE`, no `strftime`/`date_format`. The few differences are
 *   rendered per dialect from the same definition: DuckDB's `NOT MATERIALIZED` on a shared CTE, and on Athena the
 *   partition filter on `dt` that lets partition projection prune the days outside the time range;
 * - the tenant scope is a parameter the server fills in (`tenant`), never a caller's string in the SQL.
 *
 * An aggregate query also has a rollup rendering ({@link NamedQuery.rollup}) from the same definition: the whole days
 * [`day_from`, `day_to`) read from the rollup tables (queries/rollups.ts), the rest of the period from `events`.
 */

export type ParamType = 'string' | 'timestamp' | 'integer';

export interface ParamSpec {
  name: string;
  type: ParamType;
  description: string;
  required?: boolean;
}

export type ColumnType = 'string' | 'integer' | 'double' | 'timestamp' | 'boolean';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  description: string;
}

export type ParamValues = Readonly<Record<string, string | number | null>>;

export interface NamedQuery {
  name: string;
  description: string;
  params: readonly ParamSpec[];
  /** The result columns, in order. */
  columns: readonly ColumnSpec[];
  /** The one definition: SQL over `events` with named placeholders (`:tenant`), rendered for a dialect. */
  text(dialect: Dialect): string;
  /** The DuckDB rendering with positional `?` placeholders (what the local lake and the dashboards run). */
  sql: string;
  /**
   * The values for {@link sql}'s placeholders, in order, from the validated parameters. A null value binds SQL NULL
   * (optional filters are written `(:p IS NULL OR column = :p)`).
   */
  bind(params: ParamValues): (string | number | null)[];
  /**
   * The rollup rendering of an aggregate query (none for the drill-down queries, which always read raw events): the
   * same rows as {@link text}, with the whole days [`day_from`, `day_to`) read from the rollup tables (`rollup_daily`,
   * `rollup_pairs`, `rollup_bounces`, `rollup_complaints`) and the rest of [`from`, `to`) from `events`. Its params are
   * this query's plus {@link WHOLE_DAY_PARAMS}, which the server sets (queries/rollup-split.ts picks them); both null
   * or equal: no whole day, everything from `events`.
   */
  rollup?: NamedQuery;
}

/** The definition of a named query: what {@link defineNamedQuery} is given. */
export interface NamedQueryDefinition extends Omit<NamedQuery, 'sql' | 'bind' | 'rollup'> {
  /** The rollup rendering's SQL (aggregate queries only), with the same placeholders plus `:day_from`, `:day_to`. */
  rollupText?(dialect: Dialect): string;
}

/**
 * The whole days a rollup rendering reads from the rollups, `YYYY-MM-DD`, [day_from, day_to). Set by the server
 * (from the days rolled up and not stale), never by a caller.
 */
export const WHOLE_DAY_PARAMS: readonly ParamSpec[] = [
  { name: 'day_from', type: 'string', description: 'first whole day read from the rollups, YYYY-MM-DD (server-set)' },
  { name: 'day_to', type: 'string', description: 'the day after the last one read from the rollups (server-set)' },
];

/** Builds a named query: `sql` and `bind` are derived from the DuckDB rendering of the one definition. */
export function defineNamedQuery(def: NamedQueryDefinition): NamedQuery {
  const { rollupText, ...rest } = def;
  const compiled = compileNamed(def.text('duckdb'));
  const declared = new Set(def.params.map((p) => p.name));
  for (const d of ['duckdb', 'trino'] as const) {
    for (const n of compileNamed(def.text(d)).names) {
      if (!declared.has(n)) throw new Error(`named query ${def.name} uses :${n}, which it does not declare`);
    }
  }
  return {
    ...rest,
    sql: compiled.sql,
    bind: (params) => compiled.names.map((n) => params[n] ?? null),
    ...(rollupText
      ? { rollup: defineNamedQuery({ ...rest, params: [...def.params, ...WHOLE_DAY_PARAMS], text: rollupText }) }
      : {}),
  };
}

const oneTenantCache = new WeakMap<NamedQuery, NamedQuery>();

/**
 * A query's DuckDB rendering for one tenant (`:tenant` set): the tenant scope written as a plain equality, which
 * DuckDB pushes into each table scan as a filter its row groups' min/max statistics can skip on (the general
 * `(:tenant IS NULL OR tenant_id = :tenant)` reads every row group). Same rows as {@link NamedQuery.sql} whenever
 * `tenant` is not null.
 */
export function oneTenant(q: NamedQuery): NamedQuery {
  const cached = oneTenantCache.get(q);
  if (cached) return cached;
  const compiled = compileNamed(q.text('duckdb').replaceAll(TENANT_WHERE, 'tenant_id = :tenant'));
  const out: NamedQuery = {
    ...q,
    sql: compiled.sql,
    bind: (params) => compiled.names.map((n) => params[n] ?? null),
  };
  oneTenantCache.set(q, out);
  return out;
}

/** Filters shared by every report: tenant (server-applied), event-time range. */
export const SCOPE_PARAMS: readonly ParamSpec[] = [
  { name: 'tenant', type: 'string', description: 'tenant id (set by the server: a client only ever sees its own)' },
  { name: 'from', type: 'timestamp', description: 'event time from (inclusive, ISO 8601, UTC)' },
  { name: 'to', type: 'timestamp', description: 'event time to (exclusive, ISO 8601, UTC)' },
];

/**
 * The WHERE clause of the shared filters. On Athena the same range also filters the partition column `dt` (the
 * day of the event time, `YYYY-MM-DD`), so partition projection reads only the days in range: the event-time
 * comparison alone is exact but would scan every partition.
 */
export function scopeWhere(d: Dialect): string {
  return `${TENANT_WHERE}
  AND ${timeWhere(d)}`;
}

/** The server's tenant scope. */
const TENANT_WHERE = '(:tenant IS NULL OR tenant_id = :tenant)';

/** The event-time range, and on Athena the same range on the partition column `dt`. */
function timeWhere(d: Dialect): string {
  const exact = `(:from IS NULL OR event_time >= CAST(:from AS TIMESTAMP))
  AND (:to IS NULL OR event_time < CAST(:to AS TIMESTAMP))`;
  if (d === 'duckdb') return exact;
  return `${exact}
  AND (:from IS NULL OR dt >= substr(:from, 1, 10))
  AND (:to IS NULL OR dt <= substr(:to, 1, 10))`;
}

/**
 * The rows of `events` a rollup rendering reads: the period's edges [from, day_from) and [day_to, to), or the whole
 * period when there is no whole day (`day_from` null, or equal to `day_to`: the two bounds are set together). On
 * Athena the edges filter `dt` too, so partition projection reads only the edge days, never the whole days'. The
 * tenant is filtered once, over the union of edges and rollups (see {@link ROLLUP_DAYS}).
 */
function edgeWhere(d: Dialect): string {
  const exact = `${timeWhere(d)}
  AND (:day_from IS NULL OR event_time < CAST(:day_from AS TIMESTAMP) OR event_time >= CAST(:day_to AS TIMESTAMP))`;
  if (d === 'duckdb') return exact;
  return `${exact}
  AND (:day_from IS NULL OR dt < :day_from OR dt >= :day_to)`;
}

/** The rollup rows of the whole days (`dt` is the partition column of every rollup table, a day as text). */
const ROLLUP_DAYS = 'dt >= :day_from AND dt < :day_to';

/**
 * Mailbox provider of a recipient domain. Yahoo's group includes AOL (Yahoo runs AOL Mail); Outlook/Hotmail
 * includes Live and MSN and the country domains (`hotmail.co.uk`).
 */
export const PROVIDER_CASE = `CASE
    WHEN recipient_domain IN ('gmail.com', 'googlemail.com') THEN 'Gmail'
    WHEN recipient_domain IN ('outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'windowslive.com')
      OR recipient_domain LIKE 'hotmail.%' OR recipient_domain LIKE 'outlook.%' OR recipient_domain LIKE 'live.%' THEN 'Outlook/Hotmail'
    WHEN recipient_domain IN ('yahoo.com', 'ymail.com', 'rocketmail.com', 'aol.com')
      OR recipient_domain LIKE 'yahoo.%' THEN 'Yahoo'
    WHEN recipient_domain IN ('icloud.com', 'me.com', 'mac.com') THEN 'Apple iCloud'
    ELSE 'other' END`;

const COUNT_NAMES = METRIC_COUNT_NAMES;

/** The figures every metrics report gives, after its key columns. */
export const METRIC_COLUMNS: readonly ColumnSpec[] = [
  { name: 'sent', type: 'integer', description: 'recipients of Send events' },
  { name: 'delivered', type: 'integer', description: 'recipients of Delivery events' },
  { name: 'hard_bounces', type: 'integer', description: 'Permanent bounces, suppression-list subtypes excluded' },
  { name: 'soft_bounces', type: 'integer', description: 'Transient and Undetermined bounces' },
  { name: 'complaints', type: 'integer', description: 'complaints, suppression-list and not-spam excluded' },
  { name: 'opens', type: 'integer', description: 'Open events' },
  { name: 'unique_opens', type: 'integer', description: 'distinct (message, recipient) opened' },
  { name: 'human_opens', type: 'integer', description: 'distinct (message, recipient) opened by a person' },
  { name: 'machine_opens', type: 'integer', description: 'distinct (message, recipient) opened by a machine' },
  { name: 'clicks', type: 'integer', description: 'Click events' },
  { name: 'unique_clicks', type: 'integer', description: 'distinct (message, recipient) clicked' },
  { name: 'rejects', type: 'integer', description: 'Reject events' },
  { name: 'delivery_delays', type: 'integer', description: 'DeliveryDelay events' },
  { name: 'rendering_failures', type: 'integer', description: 'Rendering Failure events' },
  { name: 'subscriptions', type: 'integer', description: 'Subscription events' },
  { name: 'bounce_rate', type: 'double', description: 'hard_bounces / sent (null when nothing was sent)' },
  { name: 'complaint_rate', type: 'double', description: 'complaints / delivered (null when nothing was delivered)' },
  { name: 'open_rate', type: 'double', description: 'unique_opens / delivered' },
  { name: 'click_rate', type: 'double', description: 'unique_clicks / delivered' },
];

/** A group key of a metric report, in both renderings. */
export interface MetricKey {
  /** Output column name. */
  name: string;
  /**
   * Expression over an `events` row. In the rollup rendering it is computed over the union of edge rows and rollup
   * rows, which carry `tenant_id`, `campaign_id` and `recipient_domain` (unless the key has a {@link rollup} form).
   */
  row: string;
  /** Expression over a rollup row, for a key the rollups hold in another form (the day: the partition `dt`). */
  rollup?: string;
  /** Expression over the grouped key `k.<name>` for the output (default: the key itself). */
  out?: string;
  /** The key can be NULL (a text key: null and '' are told apart). */
  nullable?: boolean;
  /**
   * The key is a function of the key of this name (the provider of a recipient domain): not grouped on, computed
   * once per group in the output ({@link row} over the other key's column), so the rows carry and hash one key less.
   */
  of?: string;
}

/** The keys grouped on (those not derived from another key). */
const grouped = (keys: readonly MetricKey[]) => keys.filter((k) => !k.of);

/** How a metric report filters and orders its groups. */
export interface MetricsOptions {
  /** More filters over the rows (and, in the rollup rendering, over the rollup rows: same column names). */
  where?: string;
  /** More output columns after the keys: `agg` over `column`, which `events` and `rollup_daily` both hold. */
  extra?: { name: string; agg: string; column: string }[];
  orderBy: string;
}

/**
 * The metric figures grouped by `keys`, in both renderings (raw: {@link metricsText}; rollups:
 * {@link metricsRollupText}). Unique opens and clicks are distinct (message, recipient) pairs, counted in
 * two stages (pairs first, then pairs per group): exact, and several times faster on DuckDB than
 * `count(DISTINCT message_id || recipient)`. On DuckDB a pair is its 64-bit `pair_key` (written by compaction,
 * computed for other files: ingest/compact-layout.ts), an integer far cheaper to read and group by than the two
 * strings; Trino groups by the strings themselves. The scoped rows are a CTE read twice; DuckDB is told to inline it
 * (two filtered scans cost less than one materialisation), Trino always inlines.
 */
function metricsText(d: Dialect, keys: readonly MetricKey[], opts: MetricsOptions): string {
  const list = grouped(keys)
    .map((k) => k.name)
    .join(', ');
  const extra = opts.extra ?? [];
  const pair = d === 'duckdb' ? 'pair_key' : 'message_id, recipient';
  return `WITH scoped AS ${d === 'duckdb' ? 'NOT MATERIALIZED ' : ''}(
  SELECT ${grouped(keys)
    .map((k) => `${k.row} AS ${k.name}`)
    .join(', ')},
    event_type, ${pair}, machine_open, bounce_type, bounce_subtype, complaint_subtype,
    complaint_feedback_type${extra.map((x) => `, ${x.column}`).join('')}
  FROM events
  WHERE ${scopeWhere(d)}${opts.where ? `\n  AND ${opts.where}` : ''}
),
${metricCtes(list, pair, extra.map((x) => `,\n    ${x.agg} AS ${x.name}`).join(''))}
${metricsSelect(keys, opts)}`;
}

/**
 * The rollup rendering of {@link metricsText}: the same groups and figures from one relation `src`, the union of
 * - the edge rows of `events` (see {@link edgeWhere}), each carrying its own counts (1 or 0 per figure) and, for an
 *   open or click, its pair key ({@link pairKeySql}) and flags;
 * - `rollup_daily` of the whole days: the counts per tenant, campaign and recipient domain;
 * - `rollup_pairs` of the whole days: each (message, recipient) pair opened or clicked on a day, with its flags.
 * Counts are sums; unique figures count distinct pair keys per group over edges and whole days together (a pair seen
 * on several days, or on a whole day and an edge, counts once), exactly as the raw rendering counts pairs.
 */
function metricsRollupText(d: Dialect, keys: readonly MetricKey[], opts: MetricsOptions): string {
  const list = grouped(keys)
    .map((k) => k.name)
    .join(', ');
  const extra = opts.extra ?? [];
  const split = keys.filter((k) => k.rollup);
  const lead = (source: 'row' | 'rollup') =>
    ['tenant_id', 'campaign_id', 'recipient_domain', ...split.map((k) => `${k[source]} AS ${k.name}`)].join(', ');
  const nul = (type: string) => `CAST(NULL AS ${type})`;
  const counts = METRIC_COUNT_NAMES.join(', ');
  const materialised = d === 'duckdb' ? 'NOT MATERIALIZED ' : '';
  return `WITH src AS ${materialised}(
  SELECT ${lead('row')}${extra.map((x) => `, ${x.column}`).join('')},
    ${METRIC_COUNTS.map(([n, w]) => `CASE WHEN ${w} THEN 1 ELSE 0 END AS ${n}`).join(',\n    ')},
    CASE WHEN event_type IN ('open', 'click') THEN ${pairKeySql(d)} END AS pair_key,
    event_type = 'open' AS o, event_type = 'open' AND NOT machine_open AS h,
    event_type = 'open' AND machine_open AS m, event_type = 'click' AS k
  FROM events
  WHERE ${edgeWhere(d)}
  UNION ALL
  SELECT ${lead('rollup')}${extra.map((x) => `, ${x.column}`).join('')}, ${counts},
    ${nul('BIGINT')}, ${nul('BOOLEAN')}, ${nul('BOOLEAN')}, ${nul('BOOLEAN')}, ${nul('BOOLEAN')}
  FROM rollup_daily
  WHERE ${ROLLUP_DAYS}
  UNION ALL
  SELECT ${lead('rollup')}${extra.map(() => `, ${nul('VARCHAR')}`).join('')}, ${METRIC_COUNT_NAMES.map(() => '0').join(', ')},
    pair_key, o, h, m, k
  FROM rollup_pairs
  WHERE ${ROLLUP_DAYS}
),
scoped AS ${materialised}(
  SELECT ${grouped(keys)
    .map((k) => (k.rollup ? k.name : `${k.row} AS ${k.name}`))
    .join(', ')}${extra.map((x) => `, ${x.column}`).join('')},
    ${counts}, pair_key, o, h, m, k
  FROM src
  WHERE ${TENANT_WHERE}${opts.where ? `\n  AND ${opts.where}` : ''}
),
counts AS (
  SELECT ${list},
    ${METRIC_COUNT_NAMES.map((n) => `CAST(sum(${n}) AS BIGINT) AS ${n}`).join(', ')}${extra.map((x) => `,\n    ${x.agg} AS ${x.name}`).join('')}
  FROM scoped
  GROUP BY ${list}
),
pairs AS (
  SELECT ${list}, bool_or(o) AS o, bool_or(h) AS h, bool_or(m) AS m, bool_or(k) AS k
  FROM scoped
  WHERE pair_key IS NOT NULL
  GROUP BY ${list}, pair_key
),
${engagementCte(list)}
${metricsSelect(keys, opts)}`;
}

/** The output of both metric renderings: `counts` (c) joined with `engagement` (e) on the keys. */
export function metricsSelect(keys: readonly MetricKey[], opts: Pick<MetricsOptions, 'extra' | 'orderBy'>): string {
  const extra = opts.extra ?? [];
  // A nullable key joins null to null with two hash-joinable equalities (the Trino parser the tests use has no
  // IS NOT DISTINCT FROM, and an OR would keep DuckDB from a hash join).
  const join = grouped(keys)
    .map((k) =>
      k.nullable
        ? `coalesce(e.${k.name}, '') = coalesce(c.${k.name}, '') AND (e.${k.name} IS NULL) = (c.${k.name} IS NULL)`
        : `e.${k.name} = c.${k.name}`,
    )
    .join(' AND ');
  const out = keys.map((k) => {
    if (k.of) return `${k.row.replaceAll(k.of, `c.${k.of}`)} AS ${k.name}`;
    return `${k.out ? k.out.replaceAll('{k}', `c.${k.name}`) : `c.${k.name}`} AS ${k.name}`;
  });
  return `SELECT ${out.join(', ')},${extra.map((x) => ` c.${x.name},`).join('')}
  ${COUNT_NAMES.slice(0, 6)
    .map((n) => `c.${n}`)
    .join(', ')},
  coalesce(e.unique_opens, 0) AS unique_opens, coalesce(e.human_opens, 0) AS human_opens,
  coalesce(e.machine_opens, 0) AS machine_opens, c.clicks, coalesce(e.unique_clicks, 0) AS unique_clicks,
  ${COUNT_NAMES.slice(7)
    .map((n) => `c.${n}`)
    .join(', ')},
  CAST(c.hard_bounces AS DOUBLE) / NULLIF(c.sent, 0) AS bounce_rate,
  CAST(c.complaints AS DOUBLE) / NULLIF(c.delivered, 0) AS complaint_rate,
  CAST(coalesce(e.unique_opens, 0) AS DOUBLE) / NULLIF(c.delivered, 0) AS open_rate,
  CAST(coalesce(e.unique_clicks, 0) AS DOUBLE) / NULLIF(c.delivered, 0) AS click_rate
FROM counts c
LEFT JOIN engagement e ON ${join}
ORDER BY ${opts.orderBy}`;
}

/** Both renderings of a metric report, for {@link defineNamedQuery}. */
function metricsRenderings(
  keys: readonly MetricKey[],
  opts: MetricsOptions,
): Pick<NamedQueryDefinition, 'text' | 'rollupText'> {
  return { text: (d) => metricsText(d, keys, opts), rollupText: (d) => metricsRollupText(d, keys, opts) };
}

const TENANT_COLUMN: ColumnSpec = { name: 'tenant_id', type: 'string', description: 'tenant id' };

const tenantSummary = defineNamedQuery({
  name: 'tenant-summary',
  description: 'one row per tenant: volumes, bounces, complaints, opens and clicks, rates',
  params: SCOPE_PARAMS,
  columns: [TENANT_COLUMN, ...METRIC_COLUMNS],
  ...metricsRenderings([{ name: 'tenant_id', row: 'tenant_id' }], { orderBy: 'tenant_id' }),
});

const dailyTimeseries = defineNamedQuery({
  name: 'daily-timeseries',
  description: 'one row per tenant and day (UTC, of the event time): the tenant-summary figures',
  params: SCOPE_PARAMS,
  columns: [
    { name: 'day', type: 'string', description: 'day of the event time, YYYY-MM-DD (UTC)' },
    TENANT_COLUMN,
    ...METRIC_COLUMNS,
  ],
  // Grouped by the DATE and written as text once per group: a text key per row costs more on DuckDB.
  ...metricsRenderings(
    [
      { name: 'day', row: 'CAST(event_time AS DATE)', rollup: 'CAST(dt AS DATE)', out: 'CAST({k} AS VARCHAR)' },
      { name: 'tenant_id', row: 'tenant_id' },
    ],
    { orderBy: 'day, tenant_id' },
  ),
});

const campaignReport = defineNamedQuery({
  name: 'campaign-report',
  description: 'one row per tenant and campaign: the tenant-summary figures and the subject',
  params: [
    ...SCOPE_PARAMS,
    { name: 'campaign', type: 'string', description: 'only this campaign id (the `campaign` tag)' },
  ],
  columns: [
    TENANT_COLUMN,
    { name: 'campaign_id', type: 'string', description: 'campaign id (null: mail sent without a campaign tag)' },
    { name: 'subject', type: 'string', description: "the campaign's subject (the greatest when it had several)" },
    ...METRIC_COLUMNS,
  ],
  ...metricsRenderings(
    [
      { name: 'tenant_id', row: 'tenant_id' },
      { name: 'campaign_id', row: 'campaign_id', nullable: true },
    ],
    {
      where: '(:campaign IS NULL OR campaign_id = :campaign)',
      extra: [{ name: 'subject', agg: 'max(subject)', column: 'subject' }],
      orderBy: 'c.sent DESC, tenant_id, campaign_id NULLS LAST',
    },
  ),
});

const domainDeliverability = defineNamedQuery({
  name: 'domain-deliverability',
  description:
    'one row per recipient domain with its mailbox provider (Gmail, Outlook/Hotmail, Yahoo, Apple iCloud, other)',
  params: [
    ...SCOPE_PARAMS,
    {
      name: 'provider',
      type: 'string',
      description: 'only this provider: Gmail, Outlook/Hotmail, Yahoo, Apple iCloud or other',
    },
  ],
  columns: [
    { name: 'recipient_domain', type: 'string', description: "the recipient's domain (lower case)" },
    { name: 'provider', type: 'string', description: 'Gmail, Outlook/Hotmail, Yahoo, Apple iCloud or other' },
    ...METRIC_COLUMNS,
  ],
  ...metricsRenderings(
    [
      { name: 'recipient_domain', row: 'recipient_domain' },
      { name: 'provider', row: PROVIDER_CASE, of: 'recipient_domain' },
    ],
    {
      // Opens and clicks of mail to several recipients carry no recipient (DESIGN.md), so no domain either.
      where: `recipient_domain IS NOT NULL AND (:provider IS NULL OR ${PROVIDER_CASE} = :provider)`,
      orderBy: 'c.sent DESC, recipient_domain',
    },
  ),
});

/** What bounce-breakdown groups by. */
const BOUNCE_CODE = 'bounce_type, bounce_subtype, smtp_status';

/** bounce-breakdown over a `codes` CTE (bounces, distinct recipients, least diagnostic per code), however built. */
function bounceRanking(codes: string): string {
  return `WITH ${codes},
ranked AS (
  SELECT bounce_type, bounce_subtype, smtp_status, bounces, recipients, example_diagnostic,
    sum(bounces) OVER (PARTITION BY bounce_type, bounce_subtype) AS subtype_bounces,
    row_number() OVER (PARTITION BY bounce_type, bounce_subtype ORDER BY bounces DESC, smtp_status NULLS LAST) AS code_rank
  FROM codes
)
SELECT bounce_type, bounce_subtype,
  CASE WHEN bounce_type = 'Permanent'
    AND coalesce(bounce_subtype, '') IN (${SUPPRESSED_BOUNCE_SUBTYPES.map((x) => `'${x}'`).join(', ')}) THEN 'suppressed'
    WHEN bounce_type = 'Permanent' THEN 'hard' ELSE 'soft' END AS bounce_class,
  subtype_bounces, code_rank, smtp_status, bounces, recipients, example_diagnostic
FROM ranked
WHERE code_rank <= coalesce(:top, 5)
ORDER BY subtype_bounces DESC, bounce_type NULLS LAST, bounce_subtype NULLS LAST, code_rank`;
}

const bounceBreakdown = defineNamedQuery({
  name: 'bounce-breakdown',
  description:
    'bounces by type and subtype, with the top SMTP status codes of each (an example diagnostic text for each code)',
  params: [
    ...SCOPE_PARAMS,
    { name: 'top', type: 'integer', description: 'status codes kept per type and subtype (default 5)' },
  ],
  columns: [
    { name: 'bounce_type', type: 'string', description: 'Permanent, Transient or Undetermined' },
    { name: 'bounce_subtype', type: 'string', description: "SES's bounce subtype" },
    {
      name: 'bounce_class',
      type: 'string',
      description: 'hard (counts toward the bounce rate), suppressed (never sent) or soft',
    },
    { name: 'subtype_bounces', type: 'integer', description: 'bounces of this type and subtype' },
    { name: 'code_rank', type: 'integer', description: 'rank of the status code within the type and subtype' },
    { name: 'smtp_status', type: 'string', description: 'enhanced SMTP status code (5.1.1); null when none was given' },
    { name: 'bounces', type: 'integer', description: 'bounces with this status code' },
    { name: 'recipients', type: 'integer', description: 'distinct recipients of those bounces' },
    { name: 'example_diagnostic', type: 'string', description: 'one diagnostic text of those bounces (the least)' },
  ],
  text: (d) =>
    bounceRanking(`codes AS (
  SELECT ${BOUNCE_CODE}, count(*) AS bounces, count(DISTINCT recipient) AS recipients,
    min(diagnostic_code) AS example_diagnostic
  FROM events
  WHERE ${scopeWhere(d)}
  AND event_type = 'bounce'
  GROUP BY ${BOUNCE_CODE}
)`),
  // Whole days: a rollup row per recipient (by its key) and code, with its bounce count and least diagnostic.
  rollupText: (d) =>
    bounceRanking(`src AS (
  SELECT tenant_id, ${BOUNCE_CODE}, ${recipientKeySql(d)} AS recipient_key, 1 AS n, diagnostic_code
  FROM events
  WHERE ${edgeWhere(d)}
  AND event_type = 'bounce'
  UNION ALL
  SELECT tenant_id, ${BOUNCE_CODE}, recipient_key, bounces, diagnostic_code
  FROM rollup_bounces
  WHERE ${ROLLUP_DAYS}
),
codes AS (
  SELECT ${BOUNCE_CODE}, CAST(sum(n) AS BIGINT) AS bounces, count(DISTINCT recipient_key) AS recipients,
    min(diagnostic_code) AS example_diagnostic
  FROM src
  WHERE ${TENANT_WHERE}
  GROUP BY ${BOUNCE_CODE}
)`),
});

/** complaint-breakdown: `figures` (complaints, recipients) per feedback type and subtype of the complaint rows `from`. */
function complaintGroups(figures: string, from: string): string {
  return `SELECT complaint_feedback_type AS feedback_type, complaint_subtype,
  (${COUNTED_COMPLAINT_OF_A_COMPLAINT}) AS counts_toward_rate,
  ${figures}
FROM ${from}
GROUP BY complaint_feedback_type, complaint_subtype
ORDER BY complaints DESC, feedback_type NULLS LAST, complaint_subtype NULLS LAST`;
}

const complaintBreakdown = defineNamedQuery({
  name: 'complaint-breakdown',
  description: 'complaints by feedback type and subtype, and whether they count toward the complaint rate',
  params: SCOPE_PARAMS,
  columns: [
    {
      name: 'feedback_type',
      type: 'string',
      description: 'abuse, auth-failure, fraud, not-spam, other, virus (null: the provider gave none)',
    },
    { name: 'complaint_subtype', type: 'string', description: 'set (OnAccountSuppressionList) when SES never sent' },
    { name: 'counts_toward_rate', type: 'boolean', description: 'false for not-spam and suppression-list complaints' },
    { name: 'complaints', type: 'integer', description: 'complaint recipients' },
    { name: 'recipients', type: 'integer', description: 'distinct complaining recipients' },
  ],
  text: (d) =>
    complaintGroups(
      'count(*) AS complaints, count(DISTINCT recipient) AS recipients',
      `events
WHERE ${scopeWhere(d)}
AND event_type = 'complaint'`,
    ),
  rollupText: (d) =>
    complaintGroups(
      'CAST(sum(n) AS BIGINT) AS complaints, count(DISTINCT recipient_key) AS recipients',
      `(
  SELECT tenant_id, complaint_feedback_type, complaint_subtype, ${recipientKeySql(d)} AS recipient_key, 1 AS n
  FROM events
  WHERE ${edgeWhere(d)}
  AND event_type = 'complaint'
  UNION ALL
  SELECT tenant_id, complaint_feedback_type, complaint_subtype, recipient_key, complaints
  FROM rollup_complaints
  WHERE ${ROLLUP_DAYS}
) src
WHERE ${TENANT_WHERE}`,
    ),
});

const bouncedRecipients = defineNamedQuery({
  name: 'bounced-recipients',
  description: 'every bounced or complaining address with its reason and time, newest first',
  params: [
    ...SCOPE_PARAMS,
    { name: 'event_type', type: 'string', description: 'only bounce or only complaint (default both)' },
  ],
  columns: [
    { name: 'event_time', type: 'timestamp', description: 'when the bounce or complaint happened (UTC)' },
    TENANT_COLUMN,
    { name: 'event_type', type: 'string', description: 'bounce or complaint' },
    { name: 'recipient', type: 'string', description: 'the address' },
    { name: 'bounce_type', type: 'string', description: 'Permanent, Transient or Undetermined (bounces)' },
    { name: 'bounce_subtype', type: 'string', description: "SES's bounce subtype (bounces)" },
    {
      name: 'reason',
      type: 'string',
      description: 'the diagnostic text of a bounce, the feedback type of a complaint',
    },
    { name: 'campaign_id', type: 'string', description: 'campaign id' },
    { name: 'message_id', type: 'string', description: 'SES message id' },
  ],
  text: (d) => `SELECT event_time, tenant_id, event_type, recipient, bounce_type, bounce_subtype,
  CASE WHEN event_type = 'bounce' THEN coalesce(diagnostic_code, bounce_subtype)
    ELSE coalesce(complaint_feedback_type, complaint_subtype) END AS reason,
  campaign_id, message_id
FROM events
WHERE ${scopeWhere(d)}
AND event_type IN ('bounce', 'complaint')
AND (:event_type IS NULL OR event_type = :event_type)
ORDER BY event_time DESC, recipient NULLS LAST, event_id`,
});

const messageTimeline = defineNamedQuery({
  name: 'message-timeline',
  description: 'every event of one message, in time order',
  params: [...SCOPE_PARAMS, { name: 'message_id', type: 'string', description: 'SES message id', required: true }],
  columns: [
    { name: 'event_time', type: 'timestamp', description: 'when it happened (UTC)' },
    { name: 'event_type', type: 'string', description: 'send, delivery, bounce, complaint, open, click, …' },
    TENANT_COLUMN,
    {
      name: 'recipient',
      type: 'string',
      description: 'the recipient (null for opens and clicks of multi-recipient mail)',
    },
    { name: 'bounce_type', type: 'string', description: 'bounce type' },
    { name: 'bounce_subtype', type: 'string', description: 'bounce subtype' },
    { name: 'smtp_status', type: 'string', description: 'enhanced SMTP status code' },
    { name: 'diagnostic_code', type: 'string', description: "the receiving server's diagnostic text" },
    { name: 'complaint_feedback_type', type: 'string', description: 'complaint feedback type' },
    { name: 'delay_type', type: 'string', description: 'DeliveryDelay type' },
    { name: 'link', type: 'string', description: 'the clicked link' },
    { name: 'user_agent', type: 'string', description: 'user agent of an open or click' },
    { name: 'machine_open', type: 'boolean', description: 'the open was a machine (privacy proxy, prefetch)' },
    { name: 'subject', type: 'string', description: 'subject of the message' },
  ],
  text: (d) => `SELECT event_time, event_type, tenant_id, recipient, bounce_type, bounce_subtype, smtp_status,
  diagnostic_code, complaint_feedback_type, delay_type, link, user_agent, machine_open, subject
FROM events
WHERE ${scopeWhere(d)}
AND message_id = :message_id
ORDER BY event_time, event_type, recipient NULLS FIRST, event_id`,
});

const unsubscribes = defineNamedQuery({
  name: 'unsubscribes',
  description: 'unsubscribes (one-click and SES List-Unsubscribe Subscription events) by day, tenant and campaign',
  params: [
    ...SCOPE_PARAMS,
    { name: 'campaign', type: 'string', description: 'only this campaign id (the `campaign` tag)' },
  ],
  columns: [
    { name: 'day', type: 'string', description: 'day of the unsubscribe, YYYY-MM-DD (UTC)' },
    TENANT_COLUMN,
    { name: 'campaign_id', type: 'string', description: 'campaign of the mail unsubscribed from (null: none)' },
    { name: 'unsubscribes', type: 'integer', description: 'unsubscribe events' },
    { name: 'recipients', type: 'integer', description: 'distinct recipients who unsubscribed' },
  ],
  text: (d) => `SELECT CAST(CAST(event_time AS DATE) AS VARCHAR) AS day, tenant_id, campaign_id,
  count(*) AS unsubscribes, count(DISTINCT recipient) AS recipients
FROM events
WHERE ${scopeWhere(d)}
AND ${UNSUBSCRIBE}
AND (:campaign IS NULL OR campaign_id = :campaign)
GROUP BY CAST(event_time AS DATE), tenant_id, campaign_id
ORDER BY day, tenant_id, campaign_id NULLS LAST`,
  // A day is either whole (rollup_daily: per tenant, campaign and recipient domain, whose distinct recipients add up
  // over the domains, a recipient having one domain) or an edge day (its rows), never both: a group sums one source.
  rollupText: (d) => `SELECT day, tenant_id, campaign_id, CAST(sum(n) AS BIGINT) AS unsubscribes,
  CAST(sum(r) + count(DISTINCT recipient) AS BIGINT) AS recipients
FROM (
  SELECT CAST(CAST(event_time AS DATE) AS VARCHAR) AS day, tenant_id, campaign_id, recipient, 1 AS n, 0 AS r
  FROM events
  WHERE ${edgeWhere(d)}
  AND ${UNSUBSCRIBE}
  UNION ALL
  SELECT dt, tenant_id, campaign_id, CAST(NULL AS VARCHAR), unsubscribes, unsubscribed_recipients
  FROM rollup_daily
  WHERE ${ROLLUP_DAYS} AND unsubscribes > 0
) src
WHERE ${TENANT_WHERE}
AND (:campaign IS NULL OR campaign_id = :campaign)
GROUP BY day, tenant_id, campaign_id
ORDER BY day, tenant_id, campaign_id NULLS LAST`,
});

/** Every named query, by name. Other areas add theirs here. */
export const NAMED_QUERIES: ReadonlyMap<string, NamedQuery> = new Map(
  [
    tenantSummary,
    dailyTimeseries,
    campaignReport,
    domainDeliverability,
    bounceBreakdown,
    complaintBreakdown,
    bouncedRecipients,
    messageTimeline,
    unsubscribes,
  ].map((q) => [q.name, q]),
);
