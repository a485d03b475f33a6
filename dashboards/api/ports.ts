/**
 * The ports of the Reports API: what the pure router needs from the world. One adapter per file under
 * `dashboards/adapters/` (DuckDB or Athena for reports, API keys or Cognito for identity, DynamoDB or memory for
 * tenant state).
 */

export const ROLES = ['compliance', 'client', 'service'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: `id` is a non-secret identifier (a key id or a JWT subject), safe to log and to audit. */
export interface Principal {
  id: string;
  role: Role;
  /** The tenant a `client` is bound to; null for the other roles. */
  tenantId: string | null;
}

/** Turns request headers (lower-case names) into a principal; null when the credential is missing or wrong. */
export interface Authenticator {
  authenticate(headers: Readonly<Record<string, string | undefined>>): Promise<Principal | null>;
}

/** The validated parameters a report runs with. Times are epoch milliseconds, `to` exclusive. */
export interface ReportParams {
  from: number;
  to: number;
  /** Set by the server: the client's own tenant, or the tenant a compliance user asked for (null = all). */
  tenant: string | null;
  messageId?: string;
  limit: number;
}

export interface ReportInfo {
  name: string;
  description: string;
  /** Parameters besides from/to/tenant/limit that the report needs. */
  requires: readonly 'message_id'[];
}

export interface ReportResult {
  columns: string[];
  rows: Record<string, unknown>[];
}

/** Runs named reports: DuckDB over the lake locally, Athena in AWS. */
export interface ReportEngine {
  reports(): readonly ReportInfo[];
  run(name: string, params: ReportParams): Promise<ReportResult>;
}

export const TENANT_STATES = ['active', 'warning', 'paused', 'suspended'] as const;
export type TenantState = (typeof TENANT_STATES)[number];

/** The reputation decision behind a state: what was measured, against which thresholds. */
export interface Evidence {
  decidedAt: string;
  window: { from: string; to: string };
  counts: { sent: number; delivered: number; hardBounces: number; complaints: number };
  rates: { bounce: number; complaint: number };
  /** Wilson lower bounds of the rates (95 %). */
  lowerBounds?: { bounce: number; complaint: number };
  thresholds: { bounceWarning: number; bouncePause: number; complaintWarning: number; complaintPause: number };
  topDomains?: { name: string; count: number }[];
  topCampaigns?: { name: string; count: number }[];
  topDiagnosticCodes?: { name: string; count: number }[];
  summary?: string;
}

export interface TenantStatus {
  tenantId: string;
  state: TenantState;
  /** When the state was entered (ISO). */
  since: string | null;
  /** The decision that led to the state, when there was one. */
  evidence: Evidence | null;
  /** SES's own status of the tenant (reputation entity), when known: HEALTHY, PROBATION, SHUTDOWN... */
  awsVerdict: string | null;
}

export interface AuditEntry {
  at: string;
  tenantId: string;
  action: 'pause' | 'resume' | 'warn' | 'auto-pause';
  actor: string;
  reason: string;
  fromState: TenantState;
  toState: TenantState;
}

/** Tenant state, evidence and audit: DynamoDB in production and with DynamoDB Local, memory in unit tests. */
export interface TenantStore {
  listStatuses(): Promise<TenantStatus[]>;
  getStatus(tenantId: string): Promise<TenantStatus | null>;
  listAudit(tenantId: string): Promise<AuditEntry[]>;
  /** Pauses (or resumes) with an audit entry; throws ConflictError when the tenant is already in that state. */
  setPaused(tenantId: string, paused: boolean, actor: string, reason: string, at: Date): Promise<TenantStatus>;
}

/** A tenant's live volumes and rates: DynamoDB hourly rollups in AWS, the lake locally. */
export interface TenantFigures {
  tenantId: string;
  sent24h: number;
  sent7d: number;
  delivered7d: number;
  hardBounces7d: number;
  complaints7d: number;
  bounceRate7d: number;
  complaintRate7d: number;
  /** Hourly points over the last 7 days, oldest first. */
  hourly: { hour: string; sent: number; bounceRate: number; complaintRate: number }[];
}

export interface LiveFigures {
  figures(now: Date): Promise<TenantFigures[]>;
}

/** The reputation thresholds the UI draws (the policy's own, or DESIGN.md's defaults). */
export interface Thresholds {
  bounceWarning: number;
  bouncePause: number;
  complaintWarning: number;
  complaintPause: number;
}

/** An erasure request as the compliance dashboard sends it (the privacy area validates it again). */
export interface ErasureInput {
  address: string;
  tenant?: string;
  reason: string;
  requestedBy: string;
  dryRun: boolean;
}

/**
 * Forgets a recipient in every store (privacy/: `sesflow forget`). Answers the erasure report (no address in it), or
 * the one-line reason a request was refused.
 */
export interface RecipientEraser {
  forget(input: ErasureInput): Promise<{ ok: true; report: unknown } | { ok: false; error: string }>;
}
