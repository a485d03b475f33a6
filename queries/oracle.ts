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
