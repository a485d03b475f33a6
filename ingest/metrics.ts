/**
 * The metric predicates (DESIGN.md), one home for every engine: the named queries (DuckDB and Athena), the
 * dashboards' lake cache and the PostgreSQL benchmark build their SQL from these.
 *
 * sent = Send recipients; delivered = Delivery recipients; hard bounces = Permanent except the suppression-list
 * subtypes (SES never sent those); soft = Transient and Undetermined; complaints exclude a suppression-list subtype
 * and `not-spam` feedback.
 */

/** Bounce subtypes SES reports for an address it never sent to (on a suppression list). */
export const SUPPRESSED_BOUNCE_SUBTYPES = ['OnAccountSuppressionList', 'OnTenantSuppressionList'] as const;

/** A bounce row that counts toward the bounce rate. */
export const HARD_BOUNCE = `event_type = 'bounce' AND bounce_type = 'Permanent'
      AND coalesce(bounce_subtype, '') NOT IN (${SUPPRESSED_BOUNCE_SUBTYPES.map((s) => `'${s}'`).join(', ')})`;

/** A complaint row (of any kind) that counts toward the complaint rate. */
export const COUNTED_COMPLAINT_OF_A_COMPLAINT = `complaint_subtype IS NULL AND coalesce(complaint_feedback_type, '') <> 'not-spam'`;

/** A row that counts toward the complaint rate. */
export const COUNTED_COMPLAINT = `event_type = 'complaint' AND ${COUNTED_COMPLAINT_OF_A_COMPLAINT}`;

/**
 * A row that records an unsubscribe: a Subscription event whose new preferences unsubscribe from everything. SES
 * publishes one when a recipient uses its List-Unsubscribe; sesflow's one-click endpoint publishes the same shape.
 * The transform keeps the preferences in `detail` as JSON with `unsubscribeAll` first.
 */
export const UNSUBSCRIBE = `event_type = 'subscription' AND detail LIKE '%"newTopicPreferences":{"unsubscribeAll":true%'`;

/** The additive figures of the metric reports, in their output order: name and the rows each counts. */
export const METRIC_COUNTS: readonly (readonly [string, string])[] = [
  ['sent', "event_type = 'send'"],
  ['delivered', "event_type = 'delivery'"],
  ['hard_bounces', HARD_BOUNCE],
  ['soft_bounces', "event_type = 'bounce' AND coalesce(bounce_type, 'Undetermined') IN ('Transient', 'Undetermined')"],
  ['complaints', COUNTED_COMPLAINT],
  ['opens', "event_type = 'open'"],
  ['clicks', "event_type = 'click'"],
  ['rejects', "event_type = 'reject'"],
  ['delivery_delays', "event_type = 'delivery_delay'"],
  ['rendering_failures', "event_type = 'rendering_failure'"],
  ['subscriptions', "event_type = 'subscription'"],
];

/** The names of METRIC_COUNTS, in order. */
export const METRIC_COUNT_NAMES: readonly string[] = METRIC_COUNTS.map(([n]) => n);

/** `count(*) FILTER (WHERE ...) AS name` for each metric count (DuckDB, Trino and PostgreSQL alike). */
export function metricCountsSql(separator = ',\n    '): string {
  return METRIC_COUNTS.map(([n, w]) => `count(*) FILTER (WHERE ${w}) AS ${n}`).join(separator);
}

/** Flags of a (message, recipient) pair: opened, opened by a person, by a machine, clicked (the unique counts). */
export const ENGAGEMENT_FLAGS_SQL = `bool_or(event_type = 'open') AS o, bool_or(event_type = 'open' AND NOT machine_open) AS h,
    bool_or(event_type = 'open' AND machine_open) AS m, bool_or(event_type = 'click') AS k`;

/** The unique counts from the pair flags (ENGAGEMENT_FLAGS_SQL), per group. */
export const ENGAGEMENT_COUNTS_SQL = `count(*) FILTER (WHERE o) AS unique_opens, count(*) FILTER (WHERE h) AS human_opens,
    count(*) FILTER (WHERE m) AS machine_opens, count(*) FILTER (WHERE k) AS unique_clicks`;

/**
 * The `counts`, `pairs` and `engagement` CTEs of the metric reports over a `scoped` CTE: additive counts per group,
 * then distinct (message, recipient) pairs first and pairs per group (the two-stage distinct count every engine
 * runs). `list` is the group's columns, `pair` the pair's key, `extraCounts` more `agg AS name` items for `counts`.
 */
export function metricCtes(list: string, pair: string, extraCounts = ''): string {
  return `counts AS (
  SELECT ${list},
    ${metricCountsSql()}${extraCounts}
  FROM scoped
  GROUP BY ${list}
),
pairs AS (
  SELECT ${list}, ${ENGAGEMENT_FLAGS_SQL}
  FROM scoped
  WHERE event_type IN ('open', 'click')
  GROUP BY ${list}, ${pair}
),
${engagementCte(list)}`;
}

/** The `engagement` CTE: the unique counts per group from a `pairs` CTE of pairs with their flags. */
export function engagementCte(list: string): string {
  return `engagement AS (
  SELECT ${list}, ${ENGAGEMENT_COUNTS_SQL}
  FROM pairs
  GROUP BY ${list}
)`;
}
