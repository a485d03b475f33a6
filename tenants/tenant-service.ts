import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbTenantRepository } from './dynamodb-tenant-repository';
import { type FiguresAtChange, pauseByHand, resumeByHand } from './lifecycle';
import { MemoryTenantRepository } from './memory-tenant-repository';
import type { SesSendingControl, TenantRepository } from './ports';
import type { TenantAuditEntry, TenantView } from './status';

/**
 * Tenant state, evidence and audit as the dashboards use them: lists and views from the repository, and the human
 * pause and resume through the lifecycle's use cases (tenants/lifecycle.ts).
 */
export class TenantService {
  constructor(
    readonly repo: TenantRepository,
    private readonly ses: SesSendingControl | null = null,
  ) {}

  listStatuses(): Promise<TenantView[]> {
    return this.repo.listViews();
  }

  getStatus(tenantId: string): Promise<TenantView | null> {
    return this.repo.getView(tenantId);
  }

  /** The tenant's audit, newest first (entries at the same instant: the latest written first). */
  async listAudit(tenantId: string): Promise<TenantAuditEntry[]> {
    return (await this.repo.listAudit(tenantId)).reverse();
  }

  /**
   * Pauses (or resumes) by hand: `note` is the officer's internal text, `reason` what the tenant may see.
   * Throws TransitionRefusedError when the tenant's state does not allow it (or changed meanwhile).
   */
  async setPaused(
    tenantId: string,
    paused: boolean,
    actor: string,
    note: string,
    at: Date,
    extra: { reason?: string; figures?: FiguresAtChange | null } = {},
  ): Promise<TenantView> {
    const ports = { repo: this.repo, ses: this.ses };
    const change = { actor, note, at, ...extra };
    return (paused ? await pauseByHand(ports, tenantId, change) : await resumeByHand(ports, tenantId, change)).view;
  }
}

/** The tenant service over DynamoDB (the single table), with SES's side of a pause when given. */
export class DynamoDbTenantStore extends TenantService {
  private readonly dynamo: DynamoDbTenantRepository;
  constructor(doc: DynamoDBDocumentClient, tableName: string, ses: SesSendingControl | null = null) {
    const repo = new DynamoDbTenantRepository(doc, tableName);
    super(repo, ses);
    this.dynamo = repo;
  }

  /** Writes a tenant's state and evidence as the reputation engine does (seeding, tests). */
  putStatus(view: TenantView): Promise<void> {
    return this.dynamo.putView(view);
  }
}

/** The tenant service in memory: unit tests, and local runs without DynamoDB. */
export class MemoryTenantStore extends TenantService {
  constructor(initial: readonly TenantView[] = [], audit: readonly TenantAuditEntry[] = []) {
    super(new MemoryTenantRepository(initial, audit));
  }
}
