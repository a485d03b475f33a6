import type { ReportInfo, ReportParams } from '../api/ports';

/**
 * The named reports in DuckDB SQL over the deduplicated `events` view, used locally until queries/'s registry
 * (one definition for Athena and DuckDB) is wired in. Every value is a bound `?` parameter; the only text spliced
 * into SQL is the fixed tenant clause below, never a value.
 */
export interface LocalReport extends ReportInfo {
  /** SQL with `{events}` for the relation and `{scope}` for the time, tenant (and message) filter; `LIMIT ?` is appended. */
  sql: string;
}

/**
 * The counts as queries/named-queries.ts defines them (DESIGN.md), so both give the same figures: reports show
 * mailbox-simulator traffic; only the reputation figures leave it out.
 */
const COUNTS = `
  count(*) FILTER (WHERE event_type = 'send') AS sent,
  count(*) FILTER (WHERE event_type = 'delivery') AS delivered,
  count(*) FILTER (WHERE event_type = 'bounce' AND bounce_type = 'Permanent'
    AND coalesce(bounce_subtype, '') NOT IN ('OnAccountSuppressionList', 'OnTenantSuppressionList')) AS hard_bounces,
  count(*) FILTER (WHERE event_type = 'bounce' AND coalesce(bounce_type, 'Undetermined') IN ('Transient', 'Undetermined')) AS soft_bounces,
  count(*) FILTER (WHERE event_type = 'complaint' AND complaint_subtype IS NULL
    AND coalesce(complaint_feedback_type, '') <> 'not-spam') AS complaints`;

const PROVIDER = `CASE
    WHEN recipient_domain IN ('gmail.com', 'googlemail.com') THEN 'Gmail'
    WHEN recipient_domain IN ('outlook.com', 'hotmail.com', 'live.com', 'msn.com') OR recipient_domain LIKE 'hotmail.%' OR recipient_domain LIKE 'outlook.%' THEN 'Outlook/Hotmail'
    WHEN recipient_domain LIKE 'yahoo.%' OR recipient_domain IN ('ymail.com', 'aol.com') THEN 'Yahoo'
    WHEN recipient_domain IN ('icloud.com', 'me.com', 'mac.com') THEN 'Apple iCloud'
    ELSE 'other' END`;

/**
 * The summary figures grouped by `keys` ([column, expression]): counts, unique opens (all, human, machine) and
 * clicks as distinct (message, recipient) pairs, and rates. Unique figures are counted in two stages (pairs first,
 * then pairs per group), which is exact and several times faster than `count(DISTINCT message || recipient)`.
 * `scoped` is inlined in both branches (NOT MATERIALIZED): two filtered scans cost less than one materialisation.
 */
function metricsSql(
  keys: readonly [string, string][],
  opts: { where?: string; extra?: string; extraColumns?: string; orderBy: string },
): string {
  const names = keys.map(([k]) => k).join(', ');
  const exprs = keys.map(([k, e]) => `${e} AS ${k}`).join(', ');
  return `WITH scoped AS NOT MATERIALIZED (
      SELECT ${exprs}, event_type, message_id, recipient, machine_open, bounce_type, bounce_subtype,
        complaint_subtype, complaint_feedback_type${opts.extra ? ', subject' : ''}
      FROM {events} WHERE {scope}${opts.where ? ` AND ${opts.where}` : ''}
    ),
    counts AS (SELECT ${names}, ${COUNTS}${opts.extra ? `, ${opts.extra}` : ''} FROM scoped GROUP BY ${names}),
    pairs AS (
      SELECT ${names}, bool_or(event_type = 'open') AS o, bool_or(event_type = 'open' AND NOT machine_open) AS h,
        bool_or(event_type = 'open' AND machine_open) AS m, bool_or(event_type = 'click') AS c
      FROM scoped WHERE event_type IN ('open', 'click') GROUP BY ${names}, message_id, recipient
    ),
    engagement AS (
      SELECT ${names}, count(*) FILTER (WHERE o) AS unique_opens, count(*) FILTER (WHERE h) AS human_opens,
        count(*) FILTER (WHERE m) AS machine_opens, count(*) FILTER (WHERE c) AS unique_clicks
      FROM pairs GROUP BY ${names}
    )
    SELECT ${names}${opts.extraColumns ? `, ${opts.extraColumns}` : ''}, sent, delivered, hard_bounces, soft_bounces,
      complaints, coalesce(unique_opens, 0) AS unique_opens, coalesce(human_opens, 0) AS human_opens,
      coalesce(machine_opens, 0) AS machine_opens, coalesce(unique_clicks, 0) AS unique_clicks,
      hard_bounces / nullif(sent, 0) AS bounce_rate, complaints / nullif(delivered, 0) AS complaint_rate,
      coalesce(unique_opens, 0) / nullif(delivered, 0) AS open_rate,
      coalesce(unique_clicks, 0) / nullif(delivered, 0) AS click_rate
    FROM counts LEFT JOIN engagement USING (${names})
    ORDER BY ${opts.orderBy}`;
}

export const LOCAL_REPORTS: readonly LocalReport[] = [
  {
    name: 'tenant-summary',
    description: 'Per tenant: sent, delivered, bounces, complaints, opens (human and machine), clicks and rates',
    requires: [],
    sql: metricsSql([['tenant_id', 'tenant_id']], { orderBy: 'sent DESC, tenant_id' }),
  },
  {
    name: 'daily-timeseries',
    description: 'Per tenant and day (UTC): the summary figures',
    requires: [],
    sql: metricsSql(
      [
        ['day', "strftime(event_time, '%Y-%m-%d')"],
        ['tenant_id', 'tenant_id'],
      ],
      { orderBy: 'day, tenant_id' },
    ),
  },
  {
    name: 'campaign-report',
    description: 'Per tenant and campaign: the summary figures and the subject',
    requires: [],
    sql: metricsSql(
      [
        ['tenant_id', 'tenant_id'],
        ['campaign_id', "coalesce(campaign_id, '(none)')"],
      ],
      { extra: 'max(subject) AS subject', extraColumns: 'subject', orderBy: 'sent DESC, tenant_id, campaign_id' },
    ),
  },
  {
    name: 'domain-deliverability',
    description: 'Per recipient domain and mailbox provider (Gmail, Outlook/Hotmail, Yahoo, Apple iCloud, other)',
    requires: [],
    sql: metricsSql(
      [
        ['recipient_domain', 'recipient_domain'],
        ['provider', PROVIDER],
      ],
      { where: 'recipient_domain IS NOT NULL', orderBy: 'sent DESC, recipient_domain' },
    ),
  },
  {
    name: 'bounce-breakdown',
    description: 'Bounces by type, subtype and diagnostic code',
    requires: [],
    sql: `SELECT bounce_type, bounce_subtype, diagnostic_code, count(*) AS bounces, count(DISTINCT recipient) AS recipients
      FROM {events} WHERE {scope} AND event_type = 'bounce' GROUP BY 1, 2, 3 ORDER BY bounces DESC, 1, 2, 3`,
  },
  {
    name: 'complaint-breakdown',
    description: 'Complaints by feedback type and subtype',
    requires: [],
    sql: `SELECT coalesce(complaint_feedback_type, '(none)') AS feedback_type, complaint_subtype, count(*) AS complaints
      FROM {events} WHERE {scope} AND event_type = 'complaint' GROUP BY 1, 2 ORDER BY complaints DESC, 1, 2`,
  },
  {
    name: 'bounced-recipients',
    description: 'Every bounced or complained address with its reason and time, newest first',
    requires: [],
    sql: `SELECT event_time, tenant_id, event_type, recipient, bounce_type, bounce_subtype,
      coalesce(diagnostic_code, complaint_feedback_type) AS reason, campaign_id, message_id
      FROM {events} WHERE {scope} AND event_type IN ('bounce', 'complaint') ORDER BY event_time DESC, recipient`,
  },
  {
    name: 'message-timeline',
    description: 'Every event of one message, in time order',
    requires: ['message_id'],
    sql: `SELECT event_time, event_type, tenant_id, recipient, bounce_type, bounce_subtype, diagnostic_code,
      complaint_feedback_type, delay_type, link, user_agent, machine_open, subject
      FROM {events} WHERE {scope} AND message_id = ? ORDER BY event_time, event_type`,
  },
];

/** DuckDB TIMESTAMP literal text of an epoch-ms time (the lake's times are UTC without zone). */
export function duckTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The SQL and bound values of a report run: time range, then the tenant when scoped, then the message, then limit. */
export function bindLocalReport(
  report: LocalReport,
  p: ReportParams,
  relation = 'events',
): { sql: string; values: unknown[] } {
  const values: unknown[] = [duckTimestamp(p.from), duckTimestamp(p.to)];
  let scope = 'event_time >= CAST(? AS TIMESTAMP) AND event_time < CAST(? AS TIMESTAMP)';
  if (p.tenant !== null) {
    scope += ' AND tenant_id = ?';
    values.push(p.tenant);
  }
  const sql = `${report.sql.replace('{events}', relation).replace('{scope}', scope)} LIMIT ?`;
  if (report.requires.includes('message_id')) values.push(p.messageId ?? '');
  values.push(p.limit);
  return { sql, values };
}
