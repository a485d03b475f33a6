import type { ReportBasis } from '../report-split';

export type { ReportBasis } from '../report-split';

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
  /** What answered the report (rollups, raw events, retention); engines that do not split periods leave it out. */
  basis?: ReportBasis;
}

/** Runs named reports: DuckDB over the lake locally, Athena in AWS. */
export interface ReportEngine {
  reports(): readonly ReportInfo[];
  run(name: string, params: ReportParams): Promise<ReportResult>;
}

export type { Thresholds } from '../../tenants/policy';
export {
  type Evidence,
  TENANT_STATES,
  type TenantAuditEntry as AuditEntry,
  type TenantStatus as TenantState,
  type TenantView as TenantStatus,
} from '../../tenants/status';
export type { TenantService as TenantStore } from '../../tenants/tenant-service';

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

/**
 * A tenant's sender readiness (enrich/sender-auth's stored check): verdict, reasons, each domain's checks with what
 * to fix, the complaint rate against Gmail's line, and SES's own verdict when the check read it.
 */
export interface SenderReadiness {
  tenantId: string;
  verdict: 'ready' | 'at risk' | 'blocked';
  reasons: string[];
  checkedAt: string;
  awsVerdict: string | null;
  complaintRate: number | null;
  gmailSpamRateLimit: number;
  domains: {
    domain: string;
    verdict: string;
    reasons: string[];
    checks: { id: string; outcome: string; detail: string; fix?: string }[];
  }[];
}

/** Where the dashboards read sender readiness (the DynamoDB readiness store of enrich/sender-auth fits). */
export interface ReadinessReader {
  get(tenantId: string): Promise<SenderReadiness | null>;
  list(): Promise<SenderReadiness[]>;
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
 * Forgets a recipient in every store (privacy/: `sesflow forget`). Answers the erasure report (no address in it); or,
 * where the erasure runs in the background (the erasure function in AWS), that it was accepted, the report then
 * going to the erasure audit; or the one-line reason a request was refused (`unavailable`: the eraser could not take
 * it, not the request's fault).
 */
export interface RecipientEraser {
  forget(
    input: ErasureInput,
  ): Promise<
    | { ok: true; report: unknown }
    | { ok: true; accepted: { requestId: string | null; dryRun: boolean } }
    | { ok: false; error: string; unavailable?: boolean }
  >;
}
