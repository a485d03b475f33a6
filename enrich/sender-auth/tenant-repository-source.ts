import type { TenantRepository } from '../../tenants/ports';
import type { SendingTenant, SendingTenantSource } from './ports';

/** The tenants to check: their profiles in the tenant module (sending domains, SES tenant name, status). */
export class TenantRepositorySource implements SendingTenantSource {
  constructor(private readonly tenants: Pick<TenantRepository, 'getProfile' | 'listProfiles'>) {}

  async getTenant(tenantId: string): Promise<SendingTenant | null> {
    const p = await this.tenants.getProfile(tenantId);
    return p
      ? { tenantId: p.tenantId, sesTenantName: p.sesTenantName, sendingDomains: p.sendingDomains, status: p.status }
      : null;
  }

  async listTenantIds(): Promise<string[]> {
    return (await this.tenants.listProfiles()).map((p) => p.tenantId);
  }
}
