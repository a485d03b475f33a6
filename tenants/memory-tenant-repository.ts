import { TransitionRefusedError } from './errors';
import type {
  DecisionRecord,
  ProfileInput,
  StateChange,
  TenantProfile,
  TenantRepository,
  TenantReputationState,
} from './ports';
import { HELD, type TenantAuditEntry, type TenantView } from './status';

interface Stored {
  view: TenantView;
  profile: TenantProfile | null;
  reason: string | null;
  armedSince: number | null;
}

/**
 * The tenant item in memory: unit tests and demos. Same contract as the DynamoDB repository: a move whose starting
 * status no longer holds is refused, an audit id is written once.
 */
export class MemoryTenantRepository implements TenantRepository {
  private readonly tenants = new Map<string, Stored>();
  private readonly audit = new Map<string, TenantAuditEntry[]>();

  constructor(initial: readonly TenantView[] = [], audit: readonly TenantAuditEntry[] = []) {
    for (const v of initial) this.stored(v.tenantId).view = structuredClone(v);
    for (const a of audit) this.audit.set(a.tenantId, [...(this.audit.get(a.tenantId) ?? []), a]);
  }

  private stored(tenantId: string): Stored {
    let s = this.tenants.get(tenantId);
    if (!s) {
      s = {
        view: { tenantId, state: 'active', since: null, evidence: null, awsVerdict: null },
        profile: null,
        reason: null,
        armedSince: null,
      };
      this.tenants.set(tenantId, s);
    }
    return s;
  }

  async getProfile(tenantId: string): Promise<TenantProfile | null> {
    const s = this.tenants.get(tenantId);
    return s?.profile
      ? { ...structuredClone(s.profile), status: s.view.state === 'warning' ? 'active' : s.view.state }
      : null;
  }

  async listProfiles(): Promise<TenantProfile[]> {
    const out: TenantProfile[] = [];
    for (const id of [...this.tenants.keys()].sort()) {
      const p = await this.getProfile(id);
      if (p) out.push(p);
    }
    return out;
  }

  async registerProfile(input: ProfileInput, at: string): Promise<{ profile: TenantProfile; created: boolean }> {
    const s = this.stored(input.tenantId);
    const created = s.profile === null;
    s.profile = {
      ...input,
      status: 'active',
      statusReason: s.profile?.statusReason ?? null,
      statusSince: s.profile?.statusSince ?? at,
      createdAt: s.profile?.createdAt ?? at,
    };
    s.view.policy = input.policy;
    return { profile: (await this.getProfile(input.tenantId)) as TenantProfile, created };
  }

  async getState(tenantId: string): Promise<TenantReputationState> {
    const s = this.tenants.get(tenantId);
    return {
      tenantId,
      status: s?.view.state ?? 'active',
      statusSince: s?.view.since ?? null,
      statusReason: s?.reason ?? null,
      armedSince: s?.armedSince ?? null,
      policy: s?.profile?.policy ?? s?.view.policy ?? null,
    };
  }

  async getView(tenantId: string): Promise<TenantView | null> {
    const s = this.tenants.get(tenantId);
    return s ? structuredClone(s.view) : null;
  }

  async listViews(): Promise<TenantView[]> {
    return [...this.tenants.values()].map((s) => structuredClone(s.view));
  }

  async recordDecision(tenantId: string, decision: DecisionRecord, at: Date): Promise<void> {
    const s = this.stored(tenantId);
    if (HELD.includes(s.view.state)) return;
    s.view.state = decision.state;
    s.view.since ??= at.toISOString();
    s.view.evidence = {
      ...decision.evidence,
      decidedAt: at.toISOString(),
      summary: decision.reasons.join('; '),
      kind: 'automatic',
    };
  }

  async markPaused(tenantId: string, reason: string, decision: DecisionRecord, at: Date): Promise<{ since: string }> {
    const s = this.stored(tenantId);
    if (HELD.includes(s.view.state)) return { since: s.view.since ?? at.toISOString() };
    await this.recordDecision(tenantId, decision, at);
    s.view.state = 'paused';
    s.view.since = at.toISOString();
    s.reason = reason;
    return { since: s.view.since };
  }

  async applyChange(c: StateChange): Promise<void> {
    const s = this.stored(c.tenantId);
    const current = s.view.state;
    const same = HELD.includes(c.from) ? current === c.from : !HELD.includes(current);
    if (!same) throw new TransitionRefusedError(`tenant ${c.tenantId} changed meanwhile: reload and try again`);
    s.view.state = c.to;
    s.view.since = c.at;
    s.reason = c.reason;
    if (c.evidence) s.view.evidence = structuredClone(c.evidence);
    if (c.armedSince !== undefined) s.armedSince = c.armedSince;
    if (s.profile) s.profile = { ...s.profile, statusReason: c.reason, statusSince: c.at };
    this.audit.set(c.tenantId, [...(this.audit.get(c.tenantId) ?? []), structuredClone(c.audit)]);
  }

  async putAudit(entry: TenantAuditEntry): Promise<boolean> {
    const list = this.audit.get(entry.tenantId) ?? [];
    if (list.some((a) => a.id === entry.id && a.at === entry.at)) return false;
    this.audit.set(entry.tenantId, [...list, structuredClone(entry)]);
    return true;
  }

  async listAudit(tenantId: string): Promise<TenantAuditEntry[]> {
    // Oldest first; entries at the same instant keep their order of arrival.
    return [...(this.audit.get(tenantId) ?? [])]
      .sort((a, b) => a.at.localeCompare(b.at))
      .map((a) => structuredClone(a));
  }
}
