import type { NormalisedEvent } from '../ingest/normalise';

/**
 * The metric definitions of DESIGN.md written a second time, in plain TypeScript over normalised rows: the
 * independent reference the named-query tests compare SQL results with. Test support only.
 */

const SUPPRESSION_SUBTYPES = new Set(['OnAccountSuppressionList', 'OnTenantSuppressionList']);

export const isHardBounce = (r: NormalisedEvent) =>
  r.event_type === 'bounce' && r.bounce_type === 'Permanent' && !SUPPRESSION_SUBTYPES.has(r.bounce_subtype ?? '');
export const isSoftBounce = (r: NormalisedEvent) =>
  r.event_type === 'bounce' && (r.bounce_type === null || ['Transient', 'Undetermined'].includes(r.bounce_type));
export const isCountedComplaint = (r: NormalisedEvent) =>
  r.event_type === 'complaint' && r.complaint_subtype === null && r.complaint_feedback_type !== 'not-spam';

export interface Metrics {
  sent: number;
  delivered: number;
  hard_bounces: number;
  soft_bounces: number;
  complaints: number;
  opens: number;
  unique_opens: number;
  human_opens: number;
  machine_opens: number;
  clicks: number;
  unique_clicks: number;
  rejects: number;
  delivery_delays: number;
  rendering_failures: number;
  subscriptions: number;
  bounce_rate: number | null;
  complaint_rate: number | null;
  open_rate: number | null;
  click_rate: number | null;
}

export function metricsOf(rows: readonly NormalisedEvent[]): Metrics {
  const count = (f: (r: NormalisedEvent) => boolean) => rows.filter(f).length;
  const pairs = (f: (r: NormalisedEvent) => boolean) =>
    new Set(rows.filter(f).map((r) => `${r.message_id}\u0000${r.recipient ?? ''}`)).size;
  const type = (t: string) => (r: NormalisedEvent) => r.event_type === t;
  const sent = count(type('send'));
  const delivered = count(type('delivery'));
  const hard = count(isHardBounce);
  const complaints = count(isCountedComplaint);
  const uniqueOpens = pairs(type('open'));
  const uniqueClicks = pairs(type('click'));
  const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
  return {
    sent,
    delivered,
    hard_bounces: hard,
    soft_bounces: count(isSoftBounce),
    complaints,
    opens: count(type('open')),
    unique_opens: uniqueOpens,
    human_opens: pairs((r) => r.event_type === 'open' && r.machine_open === false),
    machine_opens: pairs((r) => r.event_type === 'open' && r.machine_open === true),
    clicks: count(type('click')),
    unique_clicks: uniqueClicks,
    rejects: count(type('reject')),
    delivery_delays: count(type('delivery_delay')),
    rendering_failures: count(type('rendering_failure')),
    subscriptions: count(type('subscription')),
    bounce_rate: ratio(hard, sent),
    complaint_rate: ratio(complaints, delivered),
    open_rate: ratio(uniqueOpens, delivered),
    click_rate: ratio(uniqueClicks, delivered),
  };
}

/** Groups rows by a key (JSON of the key parts, so null stays distinct from text). */
export function groupBy<K extends readonly unknown[]>(
  rows: readonly NormalisedEvent[],
  key: (r: NormalisedEvent) => K,
): Map<string, { key: K; rows: NormalisedEvent[] }> {
  const out = new Map<string, { key: K; rows: NormalisedEvent[] }>();
  for (const r of rows) {
    const k = key(r);
    const id = JSON.stringify(k);
    const g = out.get(id) ?? { key: k, rows: [] };
    g.rows.push(r);
    out.set(id, g);
  }
  return out;
}

/** The mailbox provider of a domain, as docs/queries.md lists the domains. */
export function providerOf(domain: string): string {
  const d = domain.toLowerCase();
  if (d === 'gmail.com' || d === 'googlemail.com') return 'Gmail';
  if (['outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'windowslive.com'].includes(d)) return 'Outlook/Hotmail';
  if (d.startsWith('hotmail.') || d.startsWith('outlook.') || d.startsWith('live.')) return 'Outlook/Hotmail';
  if (['yahoo.com', 'ymail.com', 'rocketmail.com', 'aol.com'].includes(d) || d.startsWith('yahoo.')) return 'Yahoo';
  if (['icloud.com', 'me.com', 'mac.com'].includes(d)) return 'Apple iCloud';
  return 'other';
}

/** UTC day of an epoch-ms time. */
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Compares as SQL's ORDER BY does (ascending, nulls last). */
export function compareNullsLast(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/** A result row as the named queries return it (numbers, text, booleans, null). */
export type OracleRow = Record<string, string | number | boolean | null>;

/** Validated parameter values (see `validateParams`): times as `YYYY-MM-DD HH:MM:SS.mmm` UTC text. */
export type OracleParams = Readonly<Record<string, string | number | null>>;

const utcMs = (t: string) => Date.parse(`${t.replace(' ', 'T')}Z`);

/** The rows of the shared scope: tenant, and event time in [from, to). */
export function inScope(rows: readonly NormalisedEvent[], p: OracleParams): NormalisedEvent[] {
  const from = p.from == null ? null : utcMs(String(p.from));
  const to = p.to == null ? null : utcMs(String(p.to));
  return rows.filter(
    (r) =>
      (p.tenant == null || r.tenant_id === p.tenant) &&
      (from === null || r.event_time >= from) &&
      (to === null || r.event_time < to),
  );
}

/** A row that records an unsubscribe (queries/metrics.ts UNSUBSCRIBE: everything unsubscribed). */
export const isUnsubscribe = (r: NormalisedEvent) =>
  r.event_type === 'subscription' && (r.detail ?? '').includes('"newTopicPreferences":{"unsubscribeAll":true');

/** Sorts by several keys, each ascending with nulls last unless given as a descending number. */
function sortRows(rows: OracleRow[], keys: readonly (string | { desc: string })[]): OracleRow[] {
  return rows.sort((a, b) => {
    for (const k of keys) {
      const c =
        typeof k === 'string'
          ? compareNullsLast(a[k] as string | number | null, b[k] as string | number | null)
          : (b[k.desc] as number) - (a[k.desc] as number);
      if (c !== 0) return c;
    }
    return 0;
  });
}

const distinctRecipients = (rows: readonly NormalisedEvent[]) =>
  new Set(rows.map((r) => r.recipient).filter((x) => x !== null)).size;

const leastOf = (values: readonly (string | null)[]) => values.filter((x): x is string => x !== null).sort()[0] ?? null;

function bounceRows(rows: readonly NormalisedEvent[], top: number): OracleRow[] {
  const out: OracleRow[] = [];
  const subtypes = groupBy(
    rows.filter((r) => r.event_type === 'bounce'),
    (r) => [r.bounce_type, r.bounce_subtype] as const,
  );
  for (const { key, rows: sub } of subtypes.values()) {
    const [type, subtype] = key;
    const cls =
      type === 'Permanent' && SUPPRESSION_SUBTYPES.has(subtype ?? '')
        ? 'suppressed'
        : type === 'Permanent'
          ? 'hard'
          : 'soft';
    const codes = [...groupBy(sub, (r) => [r.smtp_status] as const).values()]
      .map((g) => ({ code: g.key[0], rows: g.rows }))
      .sort((a, b) => b.rows.length - a.rows.length || compareNullsLast(a.code, b.code));
    codes.slice(0, top).forEach((c, i) => {
      out.push({
        bounce_type: type,
        bounce_subtype: subtype,
        bounce_class: cls,
        subtype_bounces: sub.length,
        code_rank: i + 1,
        smtp_status: c.code,
        bounces: c.rows.length,
        recipients: distinctRecipients(c.rows),
        example_diagnostic: leastOf(c.rows.map((r) => r.diagnostic_code)),
      });
    });
  }
  return sortRows(out, [{ desc: 'subtype_bounces' }, 'bounce_type', 'bounce_subtype', 'code_rank']);
}

/**
 * What a named query must return for `rows` (one row per event_id) and validated parameters: the reference rows of
 * the aggregate queries, computed from the metric definitions without SQL, in the query's order. Throws for a query it
 * does not know.
 */
export function expectedRows(name: string, all: readonly NormalisedEvent[], p: OracleParams): OracleRow[] {
  const rows = inScope(all, p);
  const metrics = (g: readonly NormalisedEvent[]) => ({ ...metricsOf(g) }) as OracleRow;
  switch (name) {
    case 'tenant-summary':
      return sortRows(
        [...groupBy(rows, (r) => [r.tenant_id] as const).values()].map((g) => ({
          tenant_id: g.key[0],
          ...metrics(g.rows),
        })),
        ['tenant_id'],
      );
    case 'daily-timeseries':
      return sortRows(
        [...groupBy(rows, (r) => [dayOf(r.event_time), r.tenant_id] as const).values()].map((g) => ({
          day: g.key[0],
          tenant_id: g.key[1],
          ...metrics(g.rows),
        })),
        ['day', 'tenant_id'],
      );
    case 'campaign-report':
      return sortRows(
        [
          ...groupBy(
            rows.filter((r) => p.campaign == null || r.campaign_id === p.campaign),
            (r) => [r.tenant_id, r.campaign_id] as const,
          ).values(),
        ].map((g) => ({
          tenant_id: g.key[0],
          campaign_id: g.key[1],
          subject:
            g.rows
              .map((r) => r.subject)
              .filter((x): x is string => x !== null)
              .sort()
              .at(-1) ?? null,
          ...metrics(g.rows),
        })),
        [{ desc: 'sent' }, 'tenant_id', 'campaign_id'],
      );
    case 'domain-deliverability':
      return sortRows(
        [
          ...groupBy(
            rows.filter(
              (r) =>
                r.recipient_domain !== null && (p.provider == null || providerOf(r.recipient_domain) === p.provider),
            ),
            (r) => [r.recipient_domain!] as const,
          ).values(),
        ].map((g) => ({ recipient_domain: g.key[0], provider: providerOf(g.key[0]), ...metrics(g.rows) })),
        [{ desc: 'sent' }, 'recipient_domain'],
      );
    case 'bounce-breakdown':
      return bounceRows(rows, p.top == null ? 5 : Number(p.top));
    case 'complaint-breakdown':
      return sortRows(
        [
          ...groupBy(
            rows.filter((r) => r.event_type === 'complaint'),
            (r) => [r.complaint_feedback_type, r.complaint_subtype] as const,
          ).values(),
        ].map((g) => ({
          feedback_type: g.key[0],
          complaint_subtype: g.key[1],
          counts_toward_rate: g.key[1] === null && g.key[0] !== 'not-spam',
          complaints: g.rows.length,
          recipients: distinctRecipients(g.rows),
        })),
        [{ desc: 'complaints' }, 'feedback_type', 'complaint_subtype'],
      );
    case 'unsubscribes':
      return sortRows(
        [
          ...groupBy(
            rows.filter(isUnsubscribe).filter((r) => p.campaign == null || r.campaign_id === p.campaign),
            (r) => [dayOf(r.event_time), r.tenant_id, r.campaign_id] as const,
          ).values(),
        ].map((g) => ({
          day: g.key[0],
          tenant_id: g.key[1],
          campaign_id: g.key[2],
          unsubscribes: g.rows.length,
          recipients: distinctRecipients(g.rows),
        })),
        ['day', 'tenant_id', 'campaign_id'],
      );
    default:
      throw new Error(`the oracle has no reference for ${name}`);
  }
}
