import { randomUUID } from 'node:crypto';
import { TenantPausedError, TransitionRefusedError } from './errors';
import { policyOf, thresholdsOf } from './policy';
import type { DecisionRecord, SesSendingControl, TenantProfile, TenantRepository } from './ports';
import {
  checkTransition,
  type Evidence,
  HELD,
  type TenantAction,
  type TenantAuditEntry,
  type TenantStatus,
  type TenantView,
} from './status';

/**
 * The tenant's use cases: every caller goes through these (the send gate, the reputation engine, the dashboards,
 * `sesflow tenants`). Each checks the transition table (tenants/status.ts) and writes through the one repository.
 */

/** What the tenant sees when a compliance officer pauses it and gives no reason meant for the tenant. */
export const MANUAL_PAUSE_REASON = 'paused after a compliance review; contact support';
/** What the profile says after a resume (the officer's note stays in the audit). */
export const RESUME_REASON = 'resumed after a compliance review';

/** The send gate over a profile (or state): a paused or suspended tenant is refused with the tenant-visible reason. */
export function assertProfileMaySend(
  p: Pick<TenantProfile, 'tenantId' | 'status' | 'statusReason' | 'statusSince'>,
): void {
  if (HELD.includes(p.status)) throw new TenantPausedError(p.tenantId, p.status, p.statusReason, p.statusSince);
}

/** The send gate by tenant id: throws TenantPausedError when the tenant is paused or suspended. */
export async function assertTenantMaySend(repo: Pick<TenantRepository, 'getState'>, tenantId: string): Promise<void> {
  const s = await repo.getState(tenantId);
  assertProfileMaySend({ tenantId, status: s.status, statusReason: s.statusReason, statusSince: s.statusSince });
}

/** Records the reputation engine's decision (warn, or clear back to active); a held tenant keeps its state. */
export async function recordDecision(
  repo: Pick<TenantRepository, 'recordDecision'>,
  tenantId: string,
  decision: DecisionRecord,
  at: Date,
): Promise<void> {
  await repo.recordDecision(tenantId, decision, at);
}

/** Alerts a human: SNS in AWS, a log line locally. */
export interface Alerter {
  alert(subject: string, message: string): Promise<void>;
}

/**
 * Pauses a tenant on an automatic decision, in this order, each step idempotent so a retry after a crash completes
 * what is missing and repeats nothing harmful:
 * 1. status `paused` (profile + reputation item, one transaction): the send gate refuses at once;
 * 2. SES: the tenant's sending off;
 * 3. the audit item (its id derives from the pause time, so a retry writes it once), with the evidence;
 * 4. the alert, sent when the audit item is new (at least once: a crash between 3 and 4 loses it, and the audit
 *    still shows the pause on the dashboard).
 * The decision's reasons (figures about the tenant's own mail) are the reason the tenant sees.
 */
export async function autoPause(
  ports: { status: TenantRepository; ses: SesSendingControl; alerter: Alerter },
  tenantId: string,
  decision: DecisionRecord,
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
    evidence: { ...decision.evidence, decidedAt: since, summary: reason, kind: 'automatic' },
  });
  if (fresh) {
    await ports.alerter.alert(
      `sesflow paused tenant ${tenantId}`,
      `Tenant ${tenantId} was paused at ${since}: ${reason}`,
    );
  }
  return { since, alerted: fresh };
}

/** A tenant's 7-day figures when an officer acts (the manual pause's own evidence). */
export interface FiguresAtChange {
  sent: number;
  delivered: number;
  hardBounces: number;
  complaints: number;
  bounceRate: number;
  complaintRate: number;
}

/** A human move: who, the internal note, and optionally the reason the tenant may see. */
export interface ManualChange {
  actor: string;
  /** Internal: kept in the audit entry, shown only to compliance users. */
  note: string;
  /** What the tenant may see (the Email API's refusal quotes it); a neutral default otherwise. */
  reason?: string;
  at: Date;
  figures?: FiguresAtChange | null;
}

const WEEK_MS = 7 * 24 * 3_600_000;

/** A manual pause's evidence: the figures at that time against the tenant's policy, the earlier decision kept. */
export function manualEvidence(view: TenantView, change: ManualChange): Evidence {
  const f = change.figures;
  const { policy, ...thresholds } = thresholdsOf(policyOf(view.policy));
  const earlier = view.evidence ? { ...view.evidence, earlier: undefined } : undefined;
  if (earlier) delete earlier.earlier;
  return {
    kind: 'manual',
    actor: change.actor,
    decidedAt: change.at.toISOString(),
    window: { from: new Date(change.at.getTime() - WEEK_MS).toISOString(), to: change.at.toISOString() },
    counts: {
      sent: f?.sent ?? 0,
      delivered: f?.delivered ?? 0,
      hardBounces: f?.hardBounces ?? 0,
      complaints: f?.complaints ?? 0,
    },
    rates: { bounce: f?.bounceRate ?? 0, complaint: f?.complaintRate ?? 0 },
    thresholds,
    policy,
    summary: `paused by hand by ${change.actor}`,
    ...(earlier ? { earlier } : {}),
  };
}

function requireWords(change: { actor: string; note: string }, what: string): void {
  if (!change.note.trim()) throw new TransitionRefusedError(`a ${what} needs a reason`);
  if (!change.actor.trim()) throw new TransitionRefusedError(`a ${what} needs the name of who does it`);
}

function auditEntry(
  tenantId: string,
  action: TenantAction,
  from: TenantStatus,
  to: TenantStatus,
  change: { actor: string; note?: string; reason: string; at: string; id?: string; evidence?: Evidence },
): TenantAuditEntry {
  return {
    tenantId,
    at: change.at,
    id: change.id ?? randomUUID(),
    action,
    actor: change.actor,
    reason: change.reason,
    ...(change.note ? { note: change.note } : {}),
    fromState: from,
    toState: to,
    ...(change.evidence ? { evidence: change.evidence } : {}),
  };
}

/** The ports of the human moves: the repository, and SES's side of sending (none in unit tests). */
export interface TenantPorts {
  repo: TenantRepository;
  ses?: SesSendingControl | null;
}

async function currentView(repo: TenantRepository, tenantId: string): Promise<TenantView> {
  return (await repo.getView(tenantId)) ?? { tenantId, state: 'active', since: null, evidence: null, awsVerdict: null };
}

/** A pause or resume by hand: the tenant's view after it and its audit entry. */
export interface ByHand {
  view: TenantView;
  audit: TenantAuditEntry;
}

/** What every change by hand starts with: its reason and actor checked, the tenant's view, the allowed transition. */
async function beginManualChange(ports: TenantPorts, tenantId: string, change: ManualChange, action: TenantAction) {
  requireWords(change, action);
  const view = await currentView(ports.repo, tenantId);
  return { view, t: checkTransition(tenantId, action, view.state), at: change.at.toISOString() };
}

/**
 * A compliance officer pauses a tenant: the profile and reputation item say `paused` with the tenant-visible
 * reason, the evidence is the pause's own (the earlier decision kept inside it), and the audit entry holds the
 * internal note. SES sending goes off after the pause is recorded.
 */
export async function pauseByHand(ports: TenantPorts, tenantId: string, change: ManualChange): Promise<ByHand> {
  const { view, t, at } = await beginManualChange(ports, tenantId, change, 'pause');
  const evidence = manualEvidence(view, change);
  const reason = change.reason?.trim() || MANUAL_PAUSE_REASON;
  const audit = auditEntry(tenantId, 'pause', view.state, t.to, { ...change, reason, at, evidence });
  await ports.repo.applyChange({ tenantId, action: 'pause', from: view.state, to: t.to, at, reason, evidence, audit });
  await ports.ses?.setSending(tenantId, false);
  return { view: { ...view, state: t.to, since: at, evidence }, audit };
}

/**
 * A compliance officer resumes a paused tenant: SES sending back on first (the gate never lets a send through to a
 * still-disabled SES tenant), then status `active`, the window re-armed at `at` (only later events count toward the
 * next decision) and the audit entry, at once. A suspended tenant is refused (an operator lifts a suspension).
 */
export async function resumeByHand(ports: TenantPorts, tenantId: string, change: ManualChange): Promise<ByHand> {
  const { view, t, at } = await beginManualChange(ports, tenantId, change, 'resume');
  const reason = change.reason?.trim() || RESUME_REASON;
  await ports.ses?.setSending(tenantId, true);
  const audit = auditEntry(tenantId, 'resume', view.state, t.to, { ...change, reason, at });
  await ports.repo.applyChange({
    tenantId,
    action: 'resume',
    from: view.state,
    to: t.to,
    at,
    reason,
    armedSince: change.at.getTime(),
    audit,
  });
  return { view: { ...view, state: t.to, since: at }, audit };
}

/**
 * An operator suspends a registered tenant (the send gate refuses it; the reputation path never changes it), or
 * lifts the suspension (`active`, window re-armed). The operator's reason is the one the tenant sees.
 */
export async function setSuspension(
  ports: TenantPorts,
  profile: TenantProfile,
  suspended: boolean,
  change: { actor: string; reason: string; at: Date },
): Promise<TenantProfile> {
  const reason = change.reason.trim();
  if (!reason) throw new TransitionRefusedError('a suspension or its end needs a reason');
  const action: TenantAction = suspended ? 'suspend' : 'unsuspend';
  const t = checkTransition(profile.tenantId, action, profile.status);
  const at = change.at.toISOString();
  // SES on before the gate opens, off after it closed (SES never refuses what the gate let through).
  if (!suspended) await ports.ses?.setSending(profile.sesTenantName, true);
  await ports.repo.applyChange({
    tenantId: profile.tenantId,
    action,
    from: profile.status,
    to: t.to,
    at,
    reason,
    ...(suspended ? {} : { armedSince: change.at.getTime() }),
    audit: auditEntry(profile.tenantId, action, profile.status, t.to, { actor: change.actor, reason, at }),
  });
  if (suspended) await ports.ses?.setSending(profile.sesTenantName, false);
  return { ...profile, status: t.to, statusReason: reason, statusSince: at };
}
