import { policyOf } from '../../tenants/policy';
import { evaluateHours, windowHours } from './buckets';
import type { ReputationDecision } from './engine';
import type { CounterStore, SesTenantControl, SesVerdict, TenantStatus, TenantStatusStore } from './ports';

/** A tenant's reputation as the dashboards show it: sesflow's status and decision beside SES's own verdict. */
export interface TenantReputationView {
  tenantId: string;
  /** The status in force (a pause stays until a resume, whatever the numbers say now). */
  status: TenantStatus;
  statusSince: string | null;
  statusReason: string | null;
  /** The policy's decision now, with its evidence (window, counts, rates, bounds, thresholds, tops). */
  decision: ReputationDecision;
  /** SES's verdict (reputation entity and account enforcement); null when SES was not asked or could not answer. */
  ses: SesVerdict | null;
  sesError: string | null;
}

/**
 * Reads one tenant's live reputation from the DynamoDB counters and status, and SES's verdict beside it. This is the
 * function the dashboards call for a tenant's reputation and evidence.
 */
export async function readTenantReputation(
  ports: { counters: CounterStore; status: TenantStatusStore; ses?: SesTenantControl },
  tenantId: string,
  at: Date,
  defaultPolicy = 'standard',
): Promise<TenantReputationView> {
  const state = await ports.status.getState(tenantId);
  const policy = policyOf(state.policy, defaultPolicy);
  const w = windowHours(at, policy, state.armedSince);
  const hours = await ports.counters.readHours(tenantId, w.fromHour, w.toHour);
  const decision = evaluateHours(hours, policy, at, state.armedSince);
  const { ses, sesError } = ports.ses ? await sesVerdictOf(ports.ses, tenantId) : { ses: null, sesError: null };
  return {
    tenantId,
    status: state.status,
    statusSince: state.statusSince,
    statusReason: state.statusReason,
    decision,
    ses,
    sesError,
  };
}

/** SES's verdict of a tenant, or the one-line reason it is missing (an unknown SES tenant, SES unreachable). */
export async function sesVerdictOf(
  ses: SesTenantControl,
  tenantId: string,
): Promise<{ ses: SesVerdict | null; sesError: string | null }> {
  try {
    return { ses: await ses.verdict(tenantId), sesError: null };
  } catch (err) {
    return { ses: null, sesError: err instanceof Error ? err.message.split('\n')[0] || err.name : String(err) };
  }
}
