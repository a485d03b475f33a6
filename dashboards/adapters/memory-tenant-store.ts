import type { AuditEntry, TenantStatus, TenantStore } from '../api/ports';
import { ConflictError } from '../errors';

/**
 * Tenant state and audit in memory: unit tests, and local runs until the DynamoDB TenantStore of send/ is wired in.
 * Same contract as the DynamoDB adapter: a pause of a paused tenant is a conflict, every change is audited.
 */
export class MemoryTenantStore implements TenantStore {
  private readonly statuses = new Map<string, TenantStatus>();
  private readonly audit = new Map<string, AuditEntry[]>();

  constructor(initial: readonly TenantStatus[] = [], audit: readonly AuditEntry[] = []) {
    for (const s of initial) this.statuses.set(s.tenantId, structuredClone(s));
    for (const a of audit) this.audit.set(a.tenantId, [...(this.audit.get(a.tenantId) ?? []), a]);
  }

  async listStatuses(): Promise<TenantStatus[]> {
    return [...this.statuses.values()].map((s) => structuredClone(s));
  }

  async getStatus(tenantId: string): Promise<TenantStatus | null> {
    const s = this.statuses.get(tenantId);
    return s ? structuredClone(s) : null;
  }

  async listAudit(tenantId: string): Promise<AuditEntry[]> {
    // Newest first; entries at the same instant keep their order of arrival, latest first.
    return [...(this.audit.get(tenantId) ?? [])].reverse().sort((a, b) => b.at.localeCompare(a.at));
  }

  async setPaused(tenantId: string, paused: boolean, actor: string, reason: string, at: Date): Promise<TenantStatus> {
    // A tenant without a recorded state is active (the router has checked that it exists).
    const s = this.statuses.get(tenantId) ?? {
      tenantId,
      state: 'active',
      since: null,
      evidence: null,
      awsVerdict: null,
    };
    this.statuses.set(tenantId, s);
    if (paused && (s.state === 'paused' || s.state === 'suspended'))
      throw new ConflictError('the tenant is already paused');
    if (!paused && s.state !== 'paused' && s.state !== 'suspended') throw new ConflictError('the tenant is not paused');
    const entry: AuditEntry = {
      at: at.toISOString(),
      tenantId,
      action: paused ? 'pause' : 'resume',
      actor,
      reason,
      fromState: s.state,
      toState: paused ? 'paused' : 'active',
    };
    s.state = entry.toState;
    s.since = entry.at;
    this.audit.set(tenantId, [...(this.audit.get(tenantId) ?? []), entry]);
    return structuredClone(s);
  }
}
