import type { NormalisedEvent } from '../../ingest/normalise';
import type { HourCounts } from './buckets';

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

export type { Alerter } from '../../tenants/lifecycle';
/** Tenant status, reputation state, evidence and audit: the one tenant repository (tenants/ports.ts). */
export type { TenantRepository as TenantStatusStore, TenantReputationState } from '../../tenants/ports';
/** An audit entry (tenants/status.ts): `reason` the tenant may see, `note` internal. */
export type { TenantAuditEntry as AuditRecord, TenantStatus } from '../../tenants/status';

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
