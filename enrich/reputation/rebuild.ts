import { getOrCreate } from '../../lib/maps';
import type { LakeDb } from '../../queries/duckdb-lake';
import { POLICIES, type ReputationPolicy, STANDARD_POLICY } from '../../tenants/policy';
import {
  boundMap,
  DIAGNOSTIC_CODE_MAX,
  emptyHour,
  evaluateHours,
  type HourCounts,
  hourOf,
  windowHours,
} from './buckets';
import type { ReputationDecision } from './engine';

export interface TenantReputation {
  tenant_id: string;
  state: ReputationDecision['state'];
  sent: number;
  delivered: number;
  hard_bounces: number;
  complaints: number;
  bounce_rate: number;
  complaint_rate: number;
  reasons: string[];
  evidence: ReputationDecision['evidence'];
}

export interface RebuildOptions {
  at: Date;
  /** Policy name per tenant (default `standard`). */
  policyOf?: (tenantId: string) => string;
  /** Resume time per tenant: only later events count (re-armed window). */
  armedSince?: (tenantId: string) => Date | null;
}

const ts = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/** Shapes a decision as the one-object-per-tenant row `sesflow reputation` prints. */
export function toTenantReputation(tenantId: string, d: ReputationDecision): TenantReputation {
  const c = d.evidence.counts;
  return {
    tenant_id: tenantId,
    state: d.state,
    sent: c.sent,
    delivered: c.delivered,
    hard_bounces: c.hardBounces,
    complaints: c.complaints,
    bounce_rate: d.evidence.rates.bounce,
    complaint_rate: d.evidence.rates.complaint,
    reasons: d.reasons,
    evidence: d.evidence,
  };
}

const BAD = '(counts_toward_bounce_rate OR counts_toward_complaint_rate)';
const COUNTS = `count(*) FILTER (WHERE event_type = 'send') AS sent,
  count(*) FILTER (WHERE event_type = 'delivery') AS delivered,
  count(*) FILTER (WHERE counts_toward_bounce_rate) AS hard_bounces,
  count(*) FILTER (WHERE counts_toward_complaint_rate) AS complaints`;
const DIMENSIONS = [
  ['domains', 'recipient_domain'],
  ['campaigns', 'campaign_id'],
  ['diagnosticCodes', `left(diagnostic_code, ${DIAGNOSTIC_CODE_MAX})`],
] as const;

/** Hour buckets of every tenant (or one) from the lake, in SQL: the same buckets the live path keeps in DynamoDB. */
async function lakeBuckets(
  db: LakeDb,
  where: string,
  params: unknown[],
  armedSince?: number,
): Promise<Map<string, HourCounts[]>> {
  const base = `FROM events WHERE tenant_id <> 'unknown' AND NOT is_simulator AND ${where}`;
  const rows = await db.query<Record<string, string | bigint>>(
    `SELECT tenant_id, strftime(event_time, '%Y-%m-%dT%H') AS hour, ${COUNTS} ${base} GROUP BY 1, 2`,
    params,
  );
  const byTenant = new Map<string, Map<string, HourCounts>>();
  const bucket = (tenant: string, hour: string) =>
    getOrCreate(
      getOrCreate(byTenant, tenant, () => new Map()),
      hour,
      () => emptyHour(hour, armedSince),
    );
  for (const r of rows) {
    const b = bucket(String(r.tenant_id), String(r.hour));
    b.sent = Number(r.sent);
    b.delivered = Number(r.delivered);
    b.hardBounces = Number(r.hard_bounces);
    b.complaints = Number(r.complaints);
  }
  for (const [field, expr] of DIMENSIONS) {
    const tops = await db.query<{ tenant_id: string; hour: string; name: string; n: bigint }>(
      `SELECT tenant_id, strftime(event_time, '%Y-%m-%dT%H') AS hour, ${expr} AS name, count(*) AS n
       ${base} AND ${BAD} AND ${expr} IS NOT NULL GROUP BY 1, 2, 3`,
      params,
    );
    for (const t of tops) bucket(t.tenant_id, t.hour)[field][t.name] = Number(t.n);
  }
  const out = new Map<string, HourCounts[]>();
  for (const [tenant, hours] of byTenant) {
    for (const b of hours.values()) {
      b.domains = boundMap(b.domains);
      b.campaigns = boundMap(b.campaigns);
      b.diagnosticCodes = boundMap(b.diagnosticCodes);
    }
    out.set(tenant, [...hours.values()]);
  }
  return out;
}

/**
 * Recomputes every tenant's reputation from the lake alone: hourly counts aggregated in SQL (DuckDB), then the same
 * pure engine as the live path (`evaluateHours`). Counts follow the metric flags of the normalised rows: simulator
 * recipients, suppression-list bounces and complaints and `not-spam` reports never count; tenant `unknown` is left
 * out. The window is the 168 hours ending with the hour of `at` (events up to `at`), re-armed at a resume.
 */
export async function rebuildReputation(db: LakeDb, options: RebuildOptions): Promise<TenantReputation[]> {
  const policyOf = (t: string): ReputationPolicy =>
    POLICIES.get(options.policyOf?.(t) ?? 'standard') ?? STANDARD_POLICY;
  const widest = [...POLICIES.values()].reduce((a, p) => (p.windowHours > a.windowHours ? p : a));
  const w = windowHours(options.at, widest);
  const buckets = await lakeBuckets(db, 'event_time >= CAST(? AS TIMESTAMP) AND event_time <= CAST(? AS TIMESTAMP)', [
    ts(w.from),
    ts(options.at),
  ]);
  const out: TenantReputation[] = [];
  for (const tenant of [...buckets.keys()].sort()) {
    const policy = policyOf(tenant);
    const armed = options.armedSince?.(tenant)?.getTime() ?? null;
    const hours = [...(buckets.get(tenant) ?? [])];
    if (armed !== null && armed < options.at.getTime()) {
      const armedHourEnd = new Date(Date.parse(`${hourOf(armed)}:00:00.000Z`) + 3_599_999);
      const end = armedHourEnd < options.at ? armedHourEnd : options.at;
      const part = await lakeBuckets(
        db,
        'tenant_id = ? AND event_time > CAST(? AS TIMESTAMP) AND event_time <= CAST(? AS TIMESTAMP)',
        [tenant, ts(new Date(armed)), ts(end)],
        armed,
      );
      hours.push(...(part.get(tenant) ?? []));
    }
    out.push(toTenantReputation(tenant, evaluateHours(hours, policy, options.at, armed)));
  }
  return out;
}
