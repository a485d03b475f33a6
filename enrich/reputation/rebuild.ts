import type { LakeDb } from '../../queries/duckdb-lake';
import { decideReputation, decisionWindow, type ReputationDecision } from './engine';
import { POLICIES, type ReputationPolicy, STANDARD_POLICY } from './policy';

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

/**
 * Recomputes every tenant's reputation from the lake alone, with the same pure engine as the live path. Counts
 * follow the metric flags of the normalised rows: simulator recipients, suppression-list bounces and complaints and
 * `not-spam` reports never count; tenant `unknown` is left out. Each tenant's window is exact to the millisecond.
 */
export async function rebuildReputation(db: LakeDb, options: RebuildOptions): Promise<TenantReputation[]> {
  const policyOf = (t: string): ReputationPolicy =>
    POLICIES.get(options.policyOf?.(t) ?? 'standard') ?? STANDARD_POLICY;
  const widest = Math.max(...[...POLICIES.values()].map((p) => p.windowHours));
  const from = new Date(options.at.getTime() - widest * 3_600_000);
  const tenants = await db.query<{ tenant_id: string }>(
    `SELECT DISTINCT tenant_id FROM events
     WHERE tenant_id <> 'unknown' AND event_time > CAST(? AS TIMESTAMP) AND event_time <= CAST(? AS TIMESTAMP)
     ORDER BY tenant_id`,
    [ts(from), ts(options.at)],
  );
  const out: TenantReputation[] = [];
  for (const { tenant_id } of tenants) {
    const policy = policyOf(tenant_id);
    const window = decisionWindow(options.at, policy, options.armedSince?.(tenant_id));
    const bounds = [tenant_id, ts(window.from), ts(window.to)];
    const [c] = await db.query<Record<string, bigint>>(
      `SELECT count(*) FILTER (WHERE event_type = 'send' AND NOT is_simulator) AS sent,
              count(*) FILTER (WHERE event_type = 'delivery' AND NOT is_simulator) AS delivered,
              count(*) FILTER (WHERE counts_toward_bounce_rate) AS hard_bounces,
              count(*) FILTER (WHERE counts_toward_complaint_rate) AS complaints
       FROM events WHERE tenant_id = ? AND event_time > CAST(? AS TIMESTAMP) AND event_time <= CAST(? AS TIMESTAMP)`,
      bounds,
    );
    const top = async (column: string) =>
      (
        await db.query<{ name: string; n: bigint }>(
          `SELECT ${column} AS name, count(*) AS n FROM events
           WHERE tenant_id = ? AND event_time > CAST(? AS TIMESTAMP) AND event_time <= CAST(? AS TIMESTAMP)
             AND (counts_toward_bounce_rate OR counts_toward_complaint_rate) AND ${column} IS NOT NULL
           GROUP BY 1 ORDER BY n DESC, name LIMIT 5`,
          bounds,
        )
      ).map((r) => ({ name: r.name, count: Number(r.n) }));
    const counts = {
      sent: Number(c!.sent),
      delivered: Number(c!.delivered),
      hardBounces: Number(c!.hard_bounces),
      complaints: Number(c!.complaints),
    };
    const d = decideReputation(counts, policy, window, {
      topDomains: await top('recipient_domain'),
      topCampaigns: await top('campaign_id'),
      topDiagnosticCodes: await top('diagnostic_code'),
    });
    out.push({
      tenant_id,
      state: d.state,
      sent: counts.sent,
      delivered: counts.delivered,
      hard_bounces: counts.hardBounces,
      complaints: counts.complaints,
      bounce_rate: d.evidence.rates.bounce,
      complaint_rate: d.evidence.rates.complaint,
      reasons: d.reasons,
      evidence: d.evidence,
    });
  }
  return out;
}
