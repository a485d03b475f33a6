import { TransitionRefusedError } from './errors';

/**
 * The tenant's lifecycle: its states, who may move it from which state to which, and what each move records. Every
 * caller (the Email API's send gate, the reputation engine, the dashboards, the `sesflow tenants` command) goes
 * through the use cases in tenants/lifecycle.ts, which check this table; tenants/dynamodb-tenant-repository.ts
 * stores the result.
 */
export const TENANT_STATES = ['active', 'warning', 'paused', 'suspended'] as const;
export type TenantStatus = (typeof TENANT_STATES)[number];

/** A stored value as a status, or null when it is none. */
export function asTenantStatus(v: unknown): TenantStatus | null {
  return TENANT_STATES.includes(v as TenantStatus) ? (v as TenantStatus) : null;
}

/** The states the send gate refuses. */
export const HELD: readonly TenantStatus[] = ['paused', 'suspended'];

/** Who moves a tenant: the reputation engine, a compliance officer (dashboards), an operator (`sesflow tenants`). */
export type TenantActor = 'reputation' | 'compliance' | 'operator';

/** One move of the lifecycle. */
export interface Transition {
  by: TenantActor;
  from: readonly TenantStatus[];
  to: TenantStatus;
  /** What the move writes besides the status (documentation, shown in docs/ARCHITECTURE.md). */
  records: string;
}

/**
 * Every move, by action (the audit entry's `action`). A suspended tenant leaves that state only by `unsuspend`:
 * a compliance resume is for pauses (a suspension is an operator's decision, such as unpaid invoices).
 */
export const TRANSITIONS = {
  onboard: { by: 'operator', from: [], to: 'active', records: 'profile, audit entry' },
  warn: { by: 'reputation', from: ['active', 'warning'], to: 'warning', records: 'evidence' },
  clear: { by: 'reputation', from: ['active', 'warning'], to: 'active', records: 'evidence' },
  'auto-pause': {
    by: 'reputation',
    from: ['active', 'warning'],
    to: 'paused',
    records: 'evidence, the reasons as the tenant-visible reason, audit entry with the evidence, alert',
  },
  pause: {
    by: 'compliance',
    from: ['active', 'warning'],
    to: 'paused',
    records:
      'its own evidence (the earlier decision kept inside it), internal note, tenant-visible reason, audit entry',
  },
  resume: {
    by: 'compliance',
    from: ['paused'],
    to: 'active',
    records: 'window re-armed (only later events count), internal note, audit entry',
  },
  suspend: {
    by: 'operator',
    from: ['active', 'warning', 'paused'],
    to: 'suspended',
    records: 'tenant-visible reason, audit entry',
  },
  unsuspend: { by: 'operator', from: ['suspended'], to: 'active', records: 'window re-armed, audit entry' },
} as const satisfies Record<string, Transition>;

export type TenantAction = keyof typeof TRANSITIONS;

/** The move `action` from `from`; throws TransitionRefusedError (one line) when the table does not allow it. */
export function checkTransition(tenantId: string, action: TenantAction, from: TenantStatus): Transition {
  const t: Transition = TRANSITIONS[action];
  if (!t.from.includes(from)) throw new TransitionRefusedError(refusal(tenantId, action, t, from));
  return t;
}

function refusal(tenantId: string, action: TenantAction, t: Transition, from: TenantStatus): string {
  if (action === 'resume' && from === 'suspended') {
    return `tenant ${tenantId} is suspended: only an operator lifts a suspension (sesflow tenants unsuspend)`;
  }
  if (action === 'resume' || action === 'unsuspend') return `tenant ${tenantId} is not ${t.from[0]}`;
  if (from === t.to) return `tenant ${tenantId} is already ${from}`;
  return `tenant ${tenantId} is ${from}: cannot ${action}`;
}

/** What lay behind a state: what was measured, against which thresholds (the dashboards' evidence card). */
export interface Evidence {
  decidedAt: string;
  window: { from: string; to: string };
  counts: { sent: number; delivered: number; hardBounces: number; complaints: number };
  rates: { bounce: number; complaint: number };
  /** Wilson lower bounds of the rates (95 %). */
  lowerBounds?: { bounce: number; complaint: number };
  thresholds: { bounceWarning: number; bouncePause: number; complaintWarning: number; complaintPause: number };
  policy?: string;
  topDomains?: { name: string; count: number }[];
  topCampaigns?: { name: string; count: number }[];
  topDiagnosticCodes?: { name: string; count: number }[];
  summary?: string;
  /** `manual`: a compliance officer's pause (the figures then are the 7-day figures at that time). */
  kind?: 'automatic' | 'manual';
  /** Who paused by hand. */
  actor?: string;
  /** The decision in force before a manual pause, kept (one level). */
  earlier?: Evidence;
}

/** A tenant as the dashboards list it. */
export interface TenantView {
  tenantId: string;
  state: TenantStatus;
  /** When the state was entered (ISO). */
  since: string | null;
  /** The decision that led to the state, when there was one. */
  evidence: Evidence | null;
  /** SES's own status of the tenant (reputation entity), when known: HEALTHY, PROBATION, SHUTDOWN... */
  awsVerdict: string | null;
  /** The tenant's reputation policy (`standard` when the profile names none). */
  policy?: string;
}

/**
 * One audit entry. `reason` is what the tenant may see (the Email API's refusal quotes the reason in force);
 * `note` is internal (a compliance officer's words), shown only to compliance users.
 */
export interface TenantAuditEntry {
  tenantId: string;
  at: string;
  /** Unique per entry; deterministic for automatic moves so a retry writes the entry once. */
  id: string;
  action: string;
  actor: string;
  reason: string;
  note?: string;
  fromState: TenantStatus;
  toState: TenantStatus;
  evidence?: Evidence;
  keyId?: string;
}
