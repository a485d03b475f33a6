import type { DnsFacts, IdentityFacts, TenantReadiness } from './evaluator';

/**
 * The sender-auth area's ports: where the checks read their facts and keep their results. One adapter per file
 * (`sesv2-identity-source.ts`, `dns-record-source.ts`, `dynamodb-readiness-store.ts`, ...).
 */

/** SES's view of a domain identity (SESv2 GetEmailIdentity); null when SES has no such identity. */
export interface IdentitySource {
  identity(domain: string): Promise<IdentityFacts | null>;
}

/** What DNS says about a domain, its DKIM records and its MAIL FROM domain. */
export interface DnsSource {
  facts(q: {
    domain: string;
    fromDomain: string;
    dkimTokens: readonly string[];
    mailFromDomain: string | null;
  }): Promise<DnsFacts>;
}

/** SES's own verdict on a tenant (GetReputationEntity) and the account's enforcement status (GetAccount). */
export interface AwsVerdictSource {
  /** e.g. `HEALTHY` or the tenant's SES-managed status; null when SES does not say. */
  verdict(sesTenantName: string): Promise<string | null>;
}

/** The tenant's complaint rate over the recent window; null when too little was delivered to tell. */
export interface ComplaintRateSource {
  complaintRate(tenantId: string, now: Date): Promise<number | null>;
}

/** What a check needs of a tenant's profile. */
export interface SendingTenant {
  tenantId: string;
  sesTenantName: string;
  sendingDomains: string[];
  status: string;
}

export interface SendingTenantSource {
  getTenant(tenantId: string): Promise<SendingTenant | null>;
  listTenantIds(): Promise<string[]>;
}

/** A stored check: the readiness, when it was taken, and SES's own verdict at that time. */
export interface StoredReadiness extends TenantReadiness {
  checkedAt: string;
  /** When the verdict or its reasons last changed. */
  changedAt: string;
  awsVerdict: string | null;
}

export interface ReadinessStore {
  get(tenantId: string): Promise<StoredReadiness | null>;
  list(): Promise<StoredReadiness[]>;
  /**
   * Saves a check. When the verdict or the reasons differ from `previous`, an audit entry is written with it (in one
   * transaction); the write fails with a conflict if another check saved in between.
   */
  save(
    next: StoredReadiness,
    previous: StoredReadiness | null,
    audit: { actor: string; state: string } | null,
  ): Promise<void>;
}
