/**
 * Named queries: one definition each, run locally on DuckDB and in AWS on Athena with the same results.
 *
 * Rules every definition follows (docs/queries.md):
 * - SQL reads the relation `events` (one row per event_id: the deduplicating view locally, its Athena twin in AWS);
 * - values are positional `?` parameters, always bound (DuckDB prepared statements, Athena ExecutionParameters),
 *   never spliced, and appear only in WHERE clauses (an Athena rule);
 * - only SQL common to DuckDB and Trino: `count(*) FILTER (WHERE …)`, `CAST(… AS DOUBLE)`, `NULLIF`, `||`,
 *   `coalesce`; no `QUALIFY`, no `::` casts, no `ILIKE`;
 * - the tenant scope is a parameter the server fills in (`scope.tenant`), never a caller's string in the SQL.
 */

export type ParamType = 'string' | 'timestamp' | 'integer';

export interface ParamSpec {
  name: string;
  type: ParamType;
  description: string;
  required?: boolean;
}

export interface NamedQuery {
  name: string;
  description: string;
  params: readonly ParamSpec[];
  /** SQL over `events`, with `?` placeholders. */
  sql: string;
  /**
   * The values for the placeholders, in order, from the validated parameters. A null value binds SQL NULL
   * (optional filters are written `(? IS NULL OR column = ?)`).
   */
  bind(params: Readonly<Record<string, string | number | null>>): (string | number | null)[];
}

/** Optional filters shared by most reports: tenant (server-applied), event-time range. */
export const SCOPE_PARAMS: readonly ParamSpec[] = [
  { name: 'tenant', type: 'string', description: 'tenant id (forced by the server for a client key)' },
  { name: 'from', type: 'timestamp', description: 'event time from (inclusive, ISO 8601)' },
  { name: 'to', type: 'timestamp', description: 'event time to (exclusive, ISO 8601)' },
];

/** `WHERE` clause of the shared scope filters; `bindScope` gives its values in order. */
export const SCOPE_WHERE = `(? IS NULL OR tenant_id = ?)
  AND (? IS NULL OR event_time >= CAST(? AS TIMESTAMP))
  AND (? IS NULL OR event_time < CAST(? AS TIMESTAMP))`;

export function bindScope(p: Readonly<Record<string, string | number | null>>): (string | number | null)[] {
  const tenant = p.tenant ?? null;
  const from = p.from ?? null;
  const to = p.to ?? null;
  return [tenant, tenant, from, from, to, to];
}

/**
 * Metric definitions (DESIGN.md): sent = Send recipients; delivered = Delivery recipients; hard bounces = Permanent
 * except the suppression-list subtypes (never sent); soft = Transient and Undetermined; complaints exclude a
 * suppression-list subtype and `not-spam`; bounce rate = hard / sent; complaint rate = complaints / delivered;
 * unique opens and clicks = distinct (message, recipient); human opens exclude machine opens.
 */
export const METRIC_COLUMNS = `count(*) FILTER (WHERE event_type = 'send') AS sent,
  count(*) FILTER (WHERE event_type = 'delivery') AS delivered,
  count(*) FILTER (WHERE event_type = 'bounce' AND bounce_type = 'Permanent'
    AND coalesce(bounce_subtype, '') NOT IN ('OnAccountSuppressionList', 'OnTenantSuppressionList')) AS hard_bounces,
  count(*) FILTER (WHERE event_type = 'bounce' AND coalesce(bounce_type, 'Undetermined') IN ('Transient', 'Undetermined')) AS soft_bounces,
  count(*) FILTER (WHERE event_type = 'complaint' AND complaint_subtype IS NULL
    AND coalesce(complaint_feedback_type, '') <> 'not-spam') AS complaints,
  count(*) FILTER (WHERE event_type = 'open') AS opens,
  count(DISTINCT CASE WHEN event_type = 'open' THEN message_id || '|' || coalesce(recipient, '') END) AS unique_opens,
  count(DISTINCT CASE WHEN event_type = 'open' AND NOT machine_open THEN message_id || '|' || coalesce(recipient, '') END) AS human_opens,
  count(*) FILTER (WHERE event_type = 'click') AS clicks,
  count(DISTINCT CASE WHEN event_type = 'click' THEN message_id || '|' || coalesce(recipient, '') END) AS unique_clicks,
  count(*) FILTER (WHERE event_type = 'reject') AS rejects,
  count(*) FILTER (WHERE event_type = 'delivery_delay') AS delivery_delays,
  count(*) FILTER (WHERE event_type = 'rendering_failure') AS rendering_failures,
  count(*) FILTER (WHERE event_type = 'subscription') AS subscriptions`;

const RATES = `CAST(hard_bounces AS DOUBLE) / NULLIF(sent, 0) AS bounce_rate,
  CAST(complaints AS DOUBLE) / NULLIF(delivered, 0) AS complaint_rate`;

const tenantSummary: NamedQuery = {
  name: 'tenant-summary',
  description: 'one row per tenant: volumes, bounces, complaints, opens and clicks, bounce and complaint rates',
  params: SCOPE_PARAMS,
  sql: `SELECT tenant_id, sent, delivered, hard_bounces, soft_bounces, complaints, opens, unique_opens, human_opens,
  clicks, unique_clicks, rejects, delivery_delays, rendering_failures, subscriptions,
  ${RATES}
FROM (
  SELECT tenant_id,
  ${METRIC_COLUMNS}
  FROM events
  WHERE ${SCOPE_WHERE}
  GROUP BY tenant_id
) t
ORDER BY tenant_id`,
  bind: bindScope,
};

/** Every named query, by name. Other areas add theirs here. */
export const NAMED_QUERIES: ReadonlyMap<string, NamedQuery> = new Map([[tenantSummary.name, tenantSummary]]);
