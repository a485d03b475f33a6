import { z } from 'zod';
import { TenantIdSchema } from './api/params';
import { ROLES, type Role } from './api/ports';
import { DashboardError } from './errors';

/**
 * Which values of the identity provider's SAML attributes grant what: `groups` maps an IdP group name to a sesflow
 * role, `tenants` maps an IdP tenant value to a tenant id. Anything not listed grants nothing.
 */
export const SamlAllowListSchema = z.object({
  groups: z.record(z.string(), z.enum(ROLES)).default({}),
  tenants: z.record(z.string(), TenantIdSchema).default({}),
});
export type SamlAllowList = z.infer<typeof SamlAllowListSchema>;

/** Reads the allow-list (the `SESFLOW_SAML_ALLOW_LIST` JSON); a bad one is a one-line error naming the variable. */
export function parseSamlAllowList(raw: string | undefined): SamlAllowList {
  let value: unknown;
  try {
    value = JSON.parse(raw || '{}');
  } catch {
    throw new DashboardError('SESFLOW_SAML_ALLOW_LIST is not JSON');
  }
  const parsed = SamlAllowListSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DashboardError(`SESFLOW_SAML_ALLOW_LIST: ${issue?.path.join('.')} ${issue?.message}`);
  }
  return parsed.data;
}

/** The attributes the SAML provider's attribute mapping writes (writable by the IdP, so never trusted as they are). */
export const IDP_GROUPS_ATTRIBUTE = 'custom:idp_groups';
export const IDP_TENANT_ATTRIBUTE = 'custom:idp_tenant';

/** What a sign-in's ID token will say: the role group and the tenant, or nothing to change. */
export interface FederatedClaims {
  groups: Role[];
  tenant: string | null;
}

/**
 * The role and tenant of a user signed in through the SAML identity provider: the IdP's group and tenant
 * attributes looked up in the allow-list (several groups: the strongest role). A user of the pool itself
 * (no `identities` attribute) is left alone: an administrator sets their group and tenant. An administrator's
 * own setting wins over the IdP's.
 */
export function federatedClaims(
  attributes: Readonly<Record<string, string | undefined>>,
  adminGroups: readonly string[],
  allow: SamlAllowList,
): FederatedClaims | null {
  if (!attributes.identities) return null;
  const idpGroups = (attributes[IDP_GROUPS_ATTRIBUTE] ?? '')
    .replace(/^\[|\]$/g, '')
    .split(/[,;]/)
    .map((g) => g.trim())
    .filter((g) => g !== '');
  const roles = new Set<Role>(adminGroups.filter((g): g is Role => (ROLES as readonly string[]).includes(g)));
  for (const g of idpGroups) {
    const role = allow.groups[g];
    if (role) roles.add(role);
  }
  const order: Role[] = ['compliance', 'service', 'client'];
  const strongest = order.find((r) => roles.has(r));
  const adminTenant = attributes['custom:tenant'];
  const idpTenant = attributes[IDP_TENANT_ATTRIBUTE];
  const tenant = adminTenant || (idpTenant ? (allow.tenants[idpTenant] ?? null) : null);
  return { groups: strongest ? [strongest] : [], tenant };
}
