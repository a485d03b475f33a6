import type { NormalisedEvent } from '../../ingest/normalise';
import { getOrCreate } from '../../lib/maps';
import type { ReputationPolicy } from '../../tenants/policy';
import { decideReputation, type ReputationCounts, type ReputationDecision } from './engine';

/**
 * Hourly buckets: the unit both the live path (DynamoDB hour items) and the rebuild (SQL `date_trunc('hour')`) count
 * in, so both feed the same pure engine the same numbers. A bucket is one tenant's counts for one hour of **event
 * time** (a late bounce lands in the hour it happened, never the hour it arrived).
 *
 * Re-arming: after a resume at `armedSince`, only events after it count. The hour containing `armedSince` is split:
 * besides the full hour bucket, events of that hour later than `armedSince` also go to an *armed* bucket, and the
 * window uses the armed bucket for that hour and full buckets for later hours. So the window is exact to the
 * millisecond at the resume, and hour-aligned at its 7-day start.
 */
export interface HourCounts extends ReputationCounts {
  /** `yyyy-mm-ddThh` (UTC) of event time. */
  hour: string;
  /** Set on the armed part of the resume hour: the resume time (epoch ms). */
  armedSince?: number;
  /** Hard bounces and complaints by recipient domain, campaign and diagnostic code: the evidence. */
  domains: Record<string, number>;
  campaigns: Record<string, number>;
  diagnosticCodes: Record<string, number>;
}

const HOUR_MS = 3_600_000;
/** Evidence keys kept per bucket and dimension; the rest is summed under OTHER (keeps hour items small). */
export const TOP_KEYS_PER_BUCKET = 10;
export const OTHER_KEY = '(other)';
/** Diagnostic codes are cut to this length: the SMTP reply's gist, never an unbounded text. */
export const DIAGNOSTIC_CODE_MAX = 100;

export const hourOf = (ms: number): string => new Date(ms).toISOString().slice(0, 13);
export const hourStartMs = (hour: string): number => Date.parse(`${hour}:00:00.000Z`);

export function emptyHour(hour: string, armedSince?: number): HourCounts {
  return {
    hour,
    ...(armedSince === undefined ? {} : { armedSince }),
    sent: 0,
    delivered: 0,
    hardBounces: 0,
    complaints: 0,
    domains: {},
    campaigns: {},
    diagnosticCodes: {},
  };
}

/** Whether a row counts at all: known tenant, not mailbox-simulator traffic (DESIGN.md metric definitions). */
export function countsForReputation(row: NormalisedEvent): boolean {
  return row.tenant_id !== 'unknown' && !row.is_simulator;
}

function addRow(b: HourCounts, row: NormalisedEvent): void {
  if (row.event_type === 'send') b.sent++;
  else if (row.event_type === 'delivery') b.delivered++;
  const bad = row.counts_toward_bounce_rate || row.counts_toward_complaint_rate;
  if (row.counts_toward_bounce_rate) b.hardBounces++;
  if (row.counts_toward_complaint_rate) b.complaints++;
  if (!bad) return;
  const inc = (m: Record<string, number>, k: string | null) => {
    if (k) m[k] = (m[k] ?? 0) + 1;
  };
  inc(b.domains, row.recipient_domain);
  inc(b.campaigns, row.campaign_id);
  inc(b.diagnosticCodes, row.diagnostic_code?.slice(0, DIAGNOSTIC_CODE_MAX) ?? null);
}

/** Keeps the `n` largest keys of a count map and sums the rest under OTHER_KEY. */
export function boundMap(m: Record<string, number>, n = TOP_KEYS_PER_BUCKET): Record<string, number> {
  const entries = Object.entries(m).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (entries.length <= n) return Object.fromEntries(entries);
  const out = Object.fromEntries(entries.slice(0, n));
  out[OTHER_KEY] = (out[OTHER_KEY] ?? 0) + entries.slice(n).reduce((s, e) => s + e[1], 0);
  return out;
}

/**
 * One tenant's rows (already filtered to that tenant) as hour buckets, plus the armed bucket of the resume hour.
 * Rows that do not count (simulator, tenant `unknown`) are left out. Pure.
 */
export function aggregateHours(rows: Iterable<NormalisedEvent>, armedSince: number | null = null): HourCounts[] {
  const byKey = new Map<string, HourCounts>();
  const armedHour = armedSince === null ? null : hourOf(armedSince);
  const bucket = (hour: string, armed?: number) => {
    const key = armed === undefined ? hour : `${hour}#${armed}`;
    return getOrCreate(byKey, key, () => emptyHour(hour, armed));
  };
  for (const row of rows) {
    if (!countsForReputation(row)) continue;
    const hour = hourOf(row.event_time);
    addRow(bucket(hour), row);
    if (armedSince !== null && hour === armedHour && row.event_time > armedSince) addRow(bucket(hour, armedSince), row);
  }
  for (const b of byKey.values()) {
    b.domains = boundMap(b.domains);
    b.campaigns = boundMap(b.campaigns);
    b.diagnosticCodes = boundMap(b.diagnosticCodes);
  }
  return [...byKey.values()];
}

/** The hours a decision at `at` reads: the 168 (window) hours ending with the hour of `at`, from the armed hour on. */
export function windowHours(
  at: Date,
  policy: ReputationPolicy,
  armedSince: number | null = null,
): { fromHour: string; toHour: string; from: Date; to: Date } {
  const toHour = hourOf(at.getTime());
  const startMs = hourStartMs(toHour) - (policy.windowHours - 1) * HOUR_MS;
  const fromMs = armedSince !== null && armedSince > startMs ? armedSince : startMs;
  return { fromHour: hourOf(fromMs), toHour, from: new Date(fromMs), to: at };
}

/** Picks the buckets a window counts: full hours after the armed hour, the armed part of the armed hour. */
export function bucketsInWindow(
  buckets: readonly HourCounts[],
  at: Date,
  policy: ReputationPolicy,
  armedSince: number | null = null,
): HourCounts[] {
  const w = windowHours(at, policy, armedSince);
  const armedHour = armedSince !== null && armedSince >= hourStartMs(w.fromHour) ? hourOf(armedSince) : null;
  return buckets.filter((b) => {
    if (b.hour < w.fromHour || b.hour > w.toHour) return false;
    if (b.hour === armedHour) return b.armedSince === armedSince;
    return b.armedSince === undefined;
  });
}

function topOf(maps: Record<string, number>[], n = 5): { name: string; count: number }[] {
  const sum = new Map<string, number>();
  for (const m of maps) for (const [k, v] of Object.entries(m)) sum.set(k, (sum.get(k) ?? 0) + v);
  return [...sum]
    .filter(([k]) => k !== OTHER_KEY)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([name, count]) => ({ name, count }));
}

/**
 * Decides a tenant's state at `at` from its hour buckets (any superset: the window is applied here). Pure; the live
 * path and the rebuild both end here.
 */
export function evaluateHours(
  buckets: readonly HourCounts[],
  policy: ReputationPolicy,
  at: Date,
  armedSince: number | null = null,
): ReputationDecision {
  const inWindow = bucketsInWindow(buckets, at, policy, armedSince);
  const counts: ReputationCounts = { sent: 0, delivered: 0, hardBounces: 0, complaints: 0 };
  for (const b of inWindow) {
    counts.sent += b.sent;
    counts.delivered += b.delivered;
    counts.hardBounces += b.hardBounces;
    counts.complaints += b.complaints;
  }
  const w = windowHours(at, policy, armedSince);
  return decideReputation(
    counts,
    policy,
    { from: w.from, to: w.to },
    {
      topDomains: topOf(inWindow.map((b) => b.domains)),
      topCampaigns: topOf(inWindow.map((b) => b.campaigns)),
      topDiagnosticCodes: topOf(inWindow.map((b) => b.diagnosticCodes)),
    },
  );
}
