import type { SendingTenant, SendingTenantSource } from './ports';

/** What this area reads of the tenant registry (send/registry.ts's TenantRegistry fits). */
export interface TenantProfiles {
  getTenant(tenantId: string): Promise<SendingTenant | null>;
  listTenants(): Promise<SendingTenant[]>;
}

/** The tenants to check: the registry's profiles (sending domains, SES tenant name, status). */
export class RegistryTenantSource implements SendingTenantSource {
  constructor(private readonly registry: TenantProfiles) {}

  async getTenant(tenantId: string): Promise<SendingTenant | null> {
    const p = await this.registry.getTenant(tenantId);
    return p
      ? { tenantId: p.tenantId, sesTenantName: p.sesTenantName, sendingDomains: p.sendingDomains, status: p.status }
      : null;
  }

  async listTenantIds(): Promise<string[]> {
    return (await this.registry.listTenants()).map((p) => p.tenantId);
  }
}
