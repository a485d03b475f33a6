import type { NormalisedEvent } from '../../ingest/normalise';
import type { HourCounts } from './buckets';
import type { ReputationDecision, ReputationState } from './engine';

/** One Kinesis record after the transform: its sequence number (the idempotency key) and its rows. */
export interface SequencedRows {
  sequenceNumber: string;
  rows: NormalisedEvent[];
}

/** Per-tenant hourly counters, written exactly once per stream record. */
export interface CounterStore {
  /**
   * Adds one tenant's records from one shard (in sequence order). Records at or below the tenant's checkpoint on
   * that shard were counted before (a retry or a redelivery) and are skipped. Returns the records newly counted.
   */
  addRecords(input: {
    streamArn: string;
    shardId: string;
    tenantId: string;
    records: readonly SequencedRows[];
    armedSince: number | null;
  }): Promise<number>;
  /** The tenant's hour buckets from `fromHour` to `toHour` (inclusive), armed parts included. */
  readHours(tenantId: string, fromHour: string, toHour: string): Promise<HourCounts[]>;
}

export type TenantStatus = ReputationState | 'suspended';

/** What the live path and actuation need to know of a tenant. */
export interface TenantReputationState {
  tenantId: string;
  status: TenantStatus;
  statusSince: string | null;
  statusReason: string | null;
  /** Resume time (epoch ms): only later events count. */
  armedSince: number | null;
  /** Policy name from the tenant profile (`reputationPolicy`), else the default. */
  policy: string | null;
}

export interface AuditRecord {
  tenantId: string;
  at: string;
  /** Deterministic id: a retried actuation writes the same audit item once. */
  id: string;
  action: 'auto-pause' | 'resume' | 'warn';
  actor: string;
  reason: string;
  fromState: TenantStatus;
  toState: TenantStatus;
  evidence?: ReputationDecision['evidence'];
}

/** Tenant status (profile: the send gate reads it), reputation state and evidence (dashboards read it), audit. */
export interface TenantStatusStore {
  getState(tenantId: string): Promise<TenantReputationState>;
  /** Records an automatic decision (active / warning) unless the tenant is paused or suspended. */
  recordDecision(tenantId: string, decision: ReputationDecision, at: Date): Promise<void>;
  /**
   * Sets status `paused` on the profile and the reputation item (with evidence) unless already paused or suspended.
   * Returns the pause time in force (the new one, or the earlier one on a retry).
   */
  markPaused(tenantId: string, reason: string, decision: ReputationDecision, at: Date): Promise<{ since: string }>;
  /** Sets status `active`, re-arms the window at `at`, and writes the audit item, in one transaction. */
  markResumed(tenantId: string, audit: AuditRecord): Promise<void>;
  /** Writes an audit item once (a repeat with the same id is a no-op). Returns whether it was new. */
  putAudit(audit: AuditRecord): Promise<boolean>;
  listAudit(tenantId: string): Promise<AuditRecord[]>;
}

/** SES's side of a tenant: sending on/off, suppression, and SES's own verdict. */
export interface SesTenantControl {
  /** Customer-managed status of the tenant's reputation entity and its configuration sets' sending. */
  setSending(tenantName: string, enabled: boolean): Promise<void>;
  suppress(tenantName: string, address: string, reason: 'BOUNCE' | 'COMPLAINT'): Promise<void>;
  verdict(tenantName: string): Promise<SesVerdict>;
}

/** AWS's own view, shown beside sesflow's numbers. */
export interface SesVerdict {
  tenantArn: string | null;
  awsManagedStatus: string | null;
  awsManagedCause: string | null;
  customerManagedStatus: string | null;
  sendingStatusAggregate: string | null;
  reputationImpact: string | null;
  accountEnforcementStatus: string | null;
  accountSendingEnabled: boolean | null;
}

/** Alerts a human: SNS in AWS, a log line locally. */
export interface Alerter {
  alert(subject: string, message: string): Promise<void>;
}
