import type { NormalisedEvent } from '../../ingest/normalise';
import type { ReputationDecision } from './engine';
import { ResumeRefusedError, TenantPausedError } from './errors';
import type { Alerter, AuditRecord, SesTenantControl, TenantStatusStore } from './ports';

export interface ActuationPorts {
  status: TenantStatusStore;
  ses: SesTenantControl;
  alerter: Alerter;
}

/**
 * Pauses a tenant on an automatic decision, in this order, each step idempotent so a retry after a crash completes
 * what is missing and repeats nothing harmful:
 * 1. status `paused` in DynamoDB (profile + reputation item, one transaction): the send gate refuses at once;
 * 2. SES: the tenant's customer-managed status DISABLED and its configuration sets' sending off;
 * 3. the audit item (its id derives from the pause time, so a retry writes it once);
 * 4. the alert, sent when the audit item is new (at least once: a crash between 3 and 4 loses it, and the audit
 *    still shows the pause on the dashboard).
 */
export async function pauseTenant(
  ports: ActuationPorts,
  tenantId: string,
  decision: ReputationDecision,
  at: Date,
): Promise<{ since: string; alerted: boolean }> {
  const before = await ports.status.getState(tenantId);
  const reason = decision.reasons.join('; ') || 'reputation policy';
  const { since } = await ports.status.markPaused(tenantId, reason, decision, at);
  await ports.ses.setSending(tenantId, false);
  const fresh = await ports.status.putAudit({
    tenantId,
    at: since,
    id: 'auto-pause',
    action: 'auto-pause',
    actor: 'sesflow-reputation',
    reason,
    fromState: before.status === 'paused' ? 'active' : before.status,
    toState: 'paused',
    evidence: decision.evidence,
  });
  if (fresh) {
    await ports.alerter.alert(
      `sesflow paused tenant ${tenantId}`,
      `Tenant ${tenantId} was paused at ${since}: ${reason}`,
    );
  }
  return { since, alerted: fresh };
}

/**
 * Resumes a paused (or suspended) tenant: a human act with a reason. SES sending back on first (so the gate never
 * lets a send through to a still-disabled SES tenant), then status `active`, the window re-armed at `at` (only later
 * events count toward the next decision) and the audit item, in one transaction.
 */
export async function resumeTenant(
  ports: Omit<ActuationPorts, 'alerter'>,
  tenantId: string,
  actor: string,
  reason: string,
  at: Date,
): Promise<AuditRecord> {
  if (!reason.trim()) throw new ResumeRefusedError('a resume needs a reason');
  if (!actor.trim()) throw new ResumeRefusedError('a resume needs the name of who resumes');
  const state = await ports.status.getState(tenantId);
  if (state.status !== 'paused' && state.status !== 'suspended') {
    throw new ResumeRefusedError(`tenant ${tenantId} is ${state.status}, not paused`);
  }
  await ports.ses.setSending(tenantId, true);
  const audit: AuditRecord = {
    tenantId,
    at: at.toISOString(),
    id: 'resume',
    action: 'resume',
    actor,
    reason,
    fromState: state.status,
    toState: 'active',
  };
  await ports.status.markResumed(tenantId, audit);
  return audit;
}

/**
 * The send gate's check (send/ calls the same store): throws TenantPausedError, with the reason, when the tenant's
 * profile status is paused or suspended.
 */
export async function assertTenantMaySend(status: TenantStatusStore, tenantId: string): Promise<void> {
  const s = await status.getState(tenantId);
  if (s.status === 'paused' || s.status === 'suspended')
    throw new TenantPausedError(tenantId, s.status, s.statusReason, s.statusSince);
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
  for (let i = 0; i < todo.length; i += SUPPRESSION_CONCURRENCY) {
    await Promise.all(todo.slice(i, i + SUPPRESSION_CONCURRENCY).map(([t, a, r]) => ses.suppress(t, a, r)));
  }
  return todo.length;
}
