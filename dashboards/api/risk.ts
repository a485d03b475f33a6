import { policyOf, STANDARD_POLICY, thresholdsOf } from '../../tenants/policy';
import type { TenantFigures, TenantState, TenantStatus, Thresholds } from './ports';

/**
 * The thresholds of the default policy (`standard`), from the policy module: what a tenant without a profile is
 * held to. Each tenant is shown its own policy's (`thresholdsFor`).
 */
export const DEFAULT_THRESHOLDS: Thresholds = thresholdsOf(STANDARD_POLICY);

/** The thresholds the engine applies to a tenant: its profile's policy, else `fallback`'s. */
export function thresholdsFor(status: Pick<TenantStatus, 'policy'> | null | undefined, fallback?: string): Thresholds {
  return thresholdsOf(policyOf(status?.policy, fallback));
}

const STATE_WEIGHT: Record<TenantState, number> = { suspended: 3, paused: 3, warning: 2, active: 1 };

export interface TenantOverview {
  tenantId: string;
  state: TenantState;
  since: string | null;
  awsVerdict: string | null;
  risk: number;
  /** The thresholds of the tenant's own policy (the engine's). */
  thresholds: Thresholds;
  sent24h: number;
  sent7d: number;
  bounceRate7d: number;
  complaintRate7d: number;
  /** Daily bounce and complaint rates over 7 days, oldest first (the sparkline). */
  trend: { day: string; sent: number; bounceRate: number; complaintRate: number }[];
  summary: string | null;
}

/**
 * Risk score: how close the worse of the two 7-day rates is to its pause threshold (1 = at the threshold). The list
 * is ordered by state first (paused and suspended, then warning, then active), then by that score.
 */
export function riskScore(f: Pick<TenantFigures, 'bounceRate7d' | 'complaintRate7d'>, t: Thresholds): number {
  return Math.max(f.bounceRate7d / t.bouncePause, f.complaintRate7d / t.complaintPause);
}

function dailyTrend(f: TenantFigures | undefined): TenantOverview['trend'] {
  if (!f) return [];
  const days = new Map<string, { sent: number; hb: number; cp: number; dl: number }>();
  for (const h of f.hourly) {
    const day = h.hour.slice(0, 10);
    const d = days.get(day) ?? { sent: 0, hb: 0, cp: 0, dl: 0 };
    d.sent += h.sent;
    d.hb += h.bounceRate * h.sent;
    d.cp += h.complaintRate * h.sent;
    days.set(day, d);
  }
  return [...days.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, d]) => ({
      day,
      sent: d.sent,
      bounceRate: d.sent ? d.hb / d.sent : 0,
      complaintRate: d.sent ? d.cp / d.sent : 0,
    }));
}

/**
 * Joins states and figures into the compliance list, ranked by risk (highest first, then by name). Each tenant is
 * measured against its own policy's thresholds; `thresholds` (the default policy's) applies to tenants without a
 * recorded state.
 */
export function rankTenants(
  statuses: readonly TenantStatus[],
  figures: readonly TenantFigures[],
  thresholds: Thresholds,
): TenantOverview[] {
  const byTenant = new Map(figures.map((f) => [f.tenantId, f]));
  const ids = new Set([...statuses.map((s) => s.tenantId), ...figures.map((f) => f.tenantId)]);
  const statusById = new Map(statuses.map((s) => [s.tenantId, s]));
  const out: TenantOverview[] = [];
  for (const id of ids) {
    const f = byTenant.get(id);
    const s = statusById.get(id);
    const bounceRate7d = f?.bounceRate7d ?? 0;
    const complaintRate7d = f?.complaintRate7d ?? 0;
    const own = s ? thresholdsFor(s, thresholds.policy) : thresholds;
    out.push({
      tenantId: id,
      state: s?.state ?? 'active',
      since: s?.since ?? null,
      awsVerdict: s?.awsVerdict ?? null,
      risk: riskScore({ bounceRate7d, complaintRate7d }, own),
      thresholds: own,
      sent24h: f?.sent24h ?? 0,
      sent7d: f?.sent7d ?? 0,
      bounceRate7d,
      complaintRate7d,
      trend: dailyTrend(f),
      summary: s?.evidence?.summary ?? null,
    });
  }
  return out.sort(
    (a, b) => STATE_WEIGHT[b.state] - STATE_WEIGHT[a.state] || b.risk - a.risk || a.tenantId.localeCompare(b.tenantId),
  );
}
