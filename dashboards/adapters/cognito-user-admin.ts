import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDisableUserCommand,
  AdminGetUserCommand,
  AdminUpdateUserAttributesCommand,
  AdminUserGlobalSignOutCommand,
  type CognitoIdentityProviderClient,
  ListUsersCommand,
  ListUsersInGroupCommand,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import { TenantIdSchema } from '../api/params';
import type { Role } from '../api/ports';
import { BadRequestError } from '../errors';

/** A dashboard user as an administrator sees it. */
export interface DashboardUser {
  username: string;
  role: Role | null;
  tenant: string | null;
  enabled: boolean;
  status: string;
}

/** One audited change: written to the tenant's audit trail (or the platform's, for users without a tenant). */
export interface UserAuditEntry {
  tenantId: string | null;
  action: 'user-create' | 'user-disable' | 'user-set-tenant';
  reason: string;
}

const TENANT_ATTRIBUTE = 'custom:tenant';
const ROLE_GROUPS: readonly Role[] = ['compliance', 'client'];

function checkTenant(tenant: string): void {
  if (!TenantIdSchema.safeParse(tenant).success)
    throw new BadRequestError(`"${tenant.slice(0, 70)}" is not a tenant id`);
}

const attribute = (u: Pick<UserType, 'Attributes'>, name: string) =>
  u.Attributes?.find((a) => a.Name === name)?.Value ?? null;

/**
 * The administrator's side of the user pool (`sesflow users`): the only way role and tenant are set. Role is the
 * group, tenant the `custom:tenant` attribute, which the app client cannot write (serverless.yml). Every change is
 * audited through `audit`; a tenant change also signs the user out everywhere, so no refresh token outlives it.
 */
export class CognitoUserAdmin {
  constructor(
    private readonly cognito: Pick<CognitoIdentityProviderClient, 'send'>,
    private readonly userPoolId: string,
    private readonly audit: (e: UserAuditEntry) => Promise<void>,
  ) {}

  /** Creates the user (Cognito e-mails a temporary password), in its role group, with its tenant for a client. */
  async create(email: string, role: Role, tenant: string | null): Promise<void> {
    if (role === 'client' && !tenant) throw new BadRequestError('a client user needs --tenant');
    if (role !== 'client' && tenant) throw new BadRequestError(`a ${role} user has no tenant`);
    if (tenant) checkTenant(tenant);
    await this.cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: this.userPoolId,
        Username: email,
        DesiredDeliveryMediums: ['EMAIL'],
        UserAttributes: [
          { Name: 'email', Value: email },
          { Name: 'email_verified', Value: 'true' },
          ...(tenant ? [{ Name: TENANT_ATTRIBUTE, Value: tenant }] : []),
        ],
      }),
    );
    await this.cognito.send(
      new AdminAddUserToGroupCommand({ UserPoolId: this.userPoolId, Username: email, GroupName: role }),
    );
    await this.audit({ tenantId: tenant, action: 'user-create', reason: `${role} user created` });
  }

  /** Every user with its role (group) and tenant. */
  async list(): Promise<DashboardUser[]> {
    const roleOf = new Map<string, Role>();
    for (const group of ROLE_GROUPS) {
      let token: string | undefined;
      do {
        const page = await this.cognito.send(
          new ListUsersInGroupCommand({ UserPoolId: this.userPoolId, GroupName: group, NextToken: token }),
        );
        for (const u of page.Users ?? []) if (u.Username && !roleOf.has(u.Username)) roleOf.set(u.Username, group);
        token = page.NextToken;
      } while (token);
    }
    const users: DashboardUser[] = [];
    let token: string | undefined;
    do {
      const page = await this.cognito.send(
        new ListUsersCommand({ UserPoolId: this.userPoolId, PaginationToken: token }),
      );
      for (const u of page.Users ?? []) {
        const username = attribute(u, 'email') ?? u.Username ?? '';
        users.push({
          username,
          role: roleOf.get(u.Username ?? '') ?? null,
          tenant: attribute(u, TENANT_ATTRIBUTE),
          enabled: u.Enabled ?? false,
          status: u.UserStatus ?? 'UNKNOWN',
        });
      }
      token = page.PaginationToken;
    } while (token);
    return users.sort((a, b) => a.username.localeCompare(b.username));
  }

  /** Disables the user and ends its sessions (its refresh tokens stop working; an ID token lives out its hour). */
  async disable(username: string, reason: string): Promise<void> {
    const tenant = await this.tenantOf(username);
    await this.cognito.send(new AdminDisableUserCommand({ UserPoolId: this.userPoolId, Username: username }));
    await this.cognito.send(new AdminUserGlobalSignOutCommand({ UserPoolId: this.userPoolId, Username: username }));
    await this.audit({ tenantId: tenant, action: 'user-disable', reason });
  }

  /** Moves a client user to another tenant; audited on both tenants, and the user signed out everywhere. */
  async setTenant(username: string, tenant: string, reason: string): Promise<{ from: string | null }> {
    checkTenant(tenant);
    const from = await this.tenantOf(username);
    await this.cognito.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: this.userPoolId,
        Username: username,
        UserAttributes: [{ Name: TENANT_ATTRIBUTE, Value: tenant }],
      }),
    );
    await this.cognito.send(new AdminUserGlobalSignOutCommand({ UserPoolId: this.userPoolId, Username: username }));
    const text = `tenant ${from ?? '(none)'} -> ${tenant}: ${reason}`;
    if (from && from !== tenant) await this.audit({ tenantId: from, action: 'user-set-tenant', reason: text });
    await this.audit({ tenantId: tenant, action: 'user-set-tenant', reason: text });
    return { from };
  }

  private async tenantOf(username: string): Promise<string | null> {
    const u = await this.cognito.send(new AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: username }));
    return u.UserAttributes?.find((a) => a.Name === TENANT_ATTRIBUTE)?.Value ?? null;
  }
}
