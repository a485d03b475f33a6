import type { NormalisedEvent } from '../../ingest/normalise';
import { mapLimited } from '../../lib/concurrency';
import { TransitionRefusedError } from '../../tenants/errors';
import { assertTenantMaySend, autoPause, resumeByHand } from '../../tenants/lifecycle';
import { ResumeRefusedError } from './errors';
import type { AuditRecord, SesTenantControl, TenantStatusStore } from './ports';

/** Pauses a tenant on an automatic decision: the tenant module's use case (tenants/lifecycle.ts `autoPause`). */
export const pauseTenant = autoPause;

/** The send gate by tenant id (tenants/lifecycle.ts): the same check send/'s sender applies to the profile. */
export { assertTenantMaySend };

/**
 * Resumes a paused tenant: a human act with a reason (tenants/lifecycle.ts `resumeByHand`, as the dashboards do).
 * A refusal (no reason, not paused) is a ResumeRefusedError.
 */
export async function resumeTenant(
  ports: { status: TenantStatusStore; ses: Pick<SesTenantControl, 'setSending'> },
  tenantId: string,
  actor: string,
  reason: string,
  at: Date,
): Promise<AuditRecord> {
  try {
    return (await resumeByHand({ repo: ports.status, ses: ports.ses }, tenantId, { actor, note: reason, at })).audit;
  } catch (err) {
    if (err instanceof TransitionRefusedError) throw new ResumeRefusedError(err.message, { cause: err });
    throw err;
  }
}

const SUPPRESSION_CONCURRENCY = 8;

/** Hard bounces and complaints go to the tenant's suppression list (idempotent: a repeat put is harmless). */
export async function suppressRecipients(ses: SesTenantControl, rows: readonly NormalisedEvent[]): Promise<number> {
  const todo: [string, string, 'BOUNCE' | 'COMPLAINT'][] = [];
  for (const r of rows) {
    if (!r.recipient || r.tenant_id === 'unknown' || r.is_simulator) continue;
    const reason = r.counts_toward_bounce_rate ? 'BOUNCE' : r.counts_toward_complaint_rate ? 'COMPLAINT' : null;
    if (reason) todo.push([r.tenant_id, r.recipient, reason]);
  }
  // A few calls at a time: SES throttles the API per account.
  await mapLimited(todo, SUPPRESSION_CONCURRENCY, ([t, a, r]) => ses.suppress(t, a, r));
  return todo.length;
}
