import type { TenantFigures, TenantState, TenantStatus, Thresholds } from './ports';

/** DESIGN.md's defaults: act before AWS (bounce 5 % review / 10 % pause; complaint 0.1 % / 0.5 %). */
export const DEFAULT_THRESHOLDS: Thresholds = {
  bounceWarning: 0.02,
  bouncePause: 0.04,
  complaintWarning: 0.0008,
  complaintPause: 0.003,
};

const STATE_WEIGHT: Record<TenantState, number> = { suspended: 3, paused: 3, warning: 2, active: 1 };

export interface TenantOverview {
  tenantId: string;
  state: TenantState;
  since: string | null;
  awsVerdict: string | null;
  risk: number;
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

/** Joins states and figures into the compliance list, ranked by risk (highest first, then by name). */
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
    out.push({
      tenantId: id,
      state: s?.state ?? 'active',
      since: s?.since ?? null,
      awsVerdict: s?.awsVerdict ?? null,
      risk: riskScore({ bounceRate7d, complaintRate7d }, thresholds),
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
