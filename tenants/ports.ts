import type { Evidence, TenantAction, TenantAuditEntry, TenantStatus, TenantView } from './status';

/** A tenant's profile item (`TENANT#<id>` / `PROFILE`). The status fields are the send gate's input. */
export interface TenantProfile {
  tenantId: string;
  status: TenantStatus;
  /** The reason in force, as the tenant may see it (the Email API's refusal quotes it). */
  statusReason: string | null;
  statusSince: string | null;
  /** Reputation policy name (`standard`, `strict`). */
  policy: string;
  configurationSet: string;
  sesTenantName: string;
  sendingDomains: string[];
  createdAt: string;
  /**
   * OAuth 2.0 client ids whose access tokens this tenant's Email API calls must carry (beside the x-api-key); empty
   * or absent: OAuth is not required.
   */
  oauthClientIds?: string[];
  /** TLS client certificate subjects (CN) allowed for this tenant; empty or absent: mutual TLS is not required. */
  mtlsSubjects?: string[];
}

/** What registering a profile writes (validated by the caller: send/registry.ts). */
export interface ProfileInput {
  tenantId: string;
  policy: string;
  configurationSet: string;
  sesTenantName: string;
  sendingDomains: string[];
}

/** What the live reputation path and actuation need to know of a tenant. */
export interface TenantReputationState {
  tenantId: string;
  status: TenantStatus;
  statusSince: string | null;
  statusReason: string | null;
  /** Resume time (epoch ms): only later events count. */
  armedSince: number | null;
  /** Policy name from the tenant profile (`reputationPolicy`), else null (the default applies). */
  policy: string | null;
}

/** A reputation decision as the tenant item records it (enrich/reputation/engine.ts makes them). */
export interface DecisionRecord {
  state: 'active' | 'warning' | 'paused';
  reasons: string[];
  evidence: Omit<Evidence, 'decidedAt' | 'summary' | 'kind' | 'actor' | 'earlier'>;
}

/** A move of the lifecycle, as the repository writes it: all of it, on condition the status is still `from`. */
export interface StateChange {
  tenantId: string;
  action: TenantAction;
  from: TenantStatus;
  to: TenantStatus;
  at: string;
  /** The profile's `statusReason`: what the tenant may see. */
  reason: string | null;
  /** The reputation item's evidence (undefined: kept as it is). */
  evidence?: Evidence;
  /** Re-arms the reputation window (epoch ms): on a resume. */
  armedSince?: number;
  audit: TenantAuditEntry;
}

/**
 * The tenant item in the single table: profile, reputation state and evidence, audit. One DynamoDB adapter
 * (dynamodb-tenant-repository.ts) and one in memory (unit tests, demos).
 */
export interface TenantRepository {
  getProfile(tenantId: string): Promise<TenantProfile | null>;
  listProfiles(): Promise<TenantProfile[]>;
  /** Creates the profile (status `active`) or updates its settings, never its status. */
  registerProfile(input: ProfileInput, at: string): Promise<{ profile: TenantProfile; created: boolean }>;
  getState(tenantId: string): Promise<TenantReputationState>;
  getView(tenantId: string): Promise<TenantView | null>;
  listViews(): Promise<TenantView[]>;
  /** Records an automatic decision (active / warning) unless the tenant is paused or suspended. */
  recordDecision(tenantId: string, decision: DecisionRecord, at: Date): Promise<void>;
  /**
   * Sets status `paused` with the decision's evidence unless already paused or suspended. Returns the pause time in
   * force (the new one, or the earlier one on a retry).
   */
  markPaused(tenantId: string, reason: string, decision: DecisionRecord, at: Date): Promise<{ since: string }>;
  /** Writes a move (profile, reputation item, audit entry) at once; TransitionRefusedError if the status changed. */
  applyChange(change: StateChange): Promise<void>;
  /** Writes an audit entry once (a repeat with the same id is a no-op). Returns whether it was new. */
  putAudit(entry: TenantAuditEntry): Promise<boolean>;
  /** The tenant's audit entries, oldest first. */
  listAudit(tenantId: string): Promise<TenantAuditEntry[]>;
}

/** SES's side of a pause: the tenant's sending off or on (enrich/'s SesV2TenantControl fits). */
export interface SesSendingControl {
  setSending(tenantName: string, enabled: boolean): Promise<void>;
}
