import { describe, expect, it } from 'vitest';
import { CognitoUserAdmin, type UserAuditEntry } from './cognito-user-admin';

const POOL = 'eu-west-1_Pool1';

/** A Cognito client that records each command (name and input) and answers from `answers` by command name. */
function fakeCognito(answers: Record<string, (input: Record<string, unknown>) => unknown> = {}) {
  const sent: { command: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const command = cmd.constructor.name.replace(/Command$/, '');
      sent.push({ command, input: cmd.input });
      return answers[command]?.(cmd.input) ?? {};
    },
  };
  return { client: client as never, sent };
}

function setUp(answers?: Parameters<typeof fakeCognito>[0]) {
  const cognito = fakeCognito(answers);
  const audited: UserAuditEntry[] = [];
  const admin = new CognitoUserAdmin(cognito.client, POOL, async (e) => {
    audited.push(e);
  });
  return { admin, sent: cognito.sent, audited };
}

describe('sesflow users (Cognito admin requests)', () => {
  it('creates a client user with its tenant attribute and group, audited on the tenant', async () => {
    const { admin, sent, audited } = setUp();
    await admin.create('ana@acme.example', 'client', 'acme');
    expect(sent).toEqual([
      {
        command: 'AdminCreateUser',
        input: {
          UserPoolId: POOL,
          Username: 'ana@acme.example',
          DesiredDeliveryMediums: ['EMAIL'],
          UserAttributes: [
            { Name: 'email', Value: 'ana@acme.example' },
            { Name: 'email_verified', Value: 'true' },
            { Name: 'custom:tenant', Value: 'acme' },
          ],
        },
      },
      {
        command: 'AdminAddUserToGroup',
        input: { UserPoolId: POOL, Username: 'ana@acme.example', GroupName: 'client' },
      },
    ]);
    expect(audited).toEqual([{ tenantId: 'acme', action: 'user-create', reason: 'client user created' }]);
  });

  it('refuses a client without a tenant, a compliance user with one, and a bad tenant id, before any request', async () => {
    const { admin, sent } = setUp();
    await expect(admin.create('a@x.example', 'client', null)).rejects.toThrow('a client user needs --tenant');
    await expect(admin.create('a@x.example', 'compliance', 'acme')).rejects.toThrow('a compliance user has no tenant');
    await expect(admin.create('a@x.example', 'client', 'acme; drop')).rejects.toThrow(
      '"acme; drop" is not a tenant id',
    );
    expect(sent).toEqual([]);
  });

  it('moves a user to another tenant with AdminUpdateUserAttributes, signs it out, and audits both tenants', async () => {
    const { admin, sent, audited } = setUp({
      AdminGetUser: () => ({ UserAttributes: [{ Name: 'custom:tenant', Value: 'acme' }] }),
    });
    expect(await admin.setTenant('ana@acme.example', 'globex', 'moved teams')).toEqual({ from: 'acme' });
    expect(sent.map((s) => s.command)).toEqual(['AdminGetUser', 'AdminUpdateUserAttributes', 'AdminUserGlobalSignOut']);
    expect(sent[1]?.input).toEqual({
      UserPoolId: POOL,
      Username: 'ana@acme.example',
      UserAttributes: [{ Name: 'custom:tenant', Value: 'globex' }],
    });
    expect(audited.map((a) => a.tenantId)).toEqual(['acme', 'globex']);
    expect(audited[0]?.reason).toBe('tenant acme -> globex: moved teams');
  });

  it('disables a user and ends its sessions, audited on its tenant', async () => {
    const { admin, sent, audited } = setUp({ AdminGetUser: () => ({ UserAttributes: [] }) });
    await admin.disable('officer@corp.example', 'left the company');
    expect(sent.map((s) => s.command)).toEqual(['AdminGetUser', 'AdminDisableUser', 'AdminUserGlobalSignOut']);
    expect(audited).toEqual([{ tenantId: null, action: 'user-disable', reason: 'left the company' }]);
  });

  it('lists users with the role from their group and the tenant attribute, across pages', async () => {
    const { admin } = setUp({
      ListUsersInGroup: (input) =>
        input.GroupName === 'compliance' ? { Users: [{ Username: 'u1' }] } : { Users: [{ Username: 'u2' }] },
      ListUsers: (input) =>
        input.PaginationToken
          ? { Users: [{ Username: 'u3', Enabled: false, UserStatus: 'CONFIRMED', Attributes: [] }] }
          : {
              PaginationToken: 'p2',
              Users: [
                {
                  Username: 'u1',
                  Enabled: true,
                  UserStatus: 'CONFIRMED',
                  Attributes: [{ Name: 'email', Value: 'b@x' }],
                },
                {
                  Username: 'u2',
                  Enabled: true,
                  UserStatus: 'FORCE_CHANGE_PASSWORD',
                  Attributes: [
                    { Name: 'email', Value: 'a@x' },
                    { Name: 'custom:tenant', Value: 'acme' },
                  ],
                },
              ],
            },
    });
    expect(await admin.list()).toEqual([
      { username: 'a@x', role: 'client', tenant: 'acme', enabled: true, status: 'FORCE_CHANGE_PASSWORD' },
      { username: 'b@x', role: 'compliance', tenant: null, enabled: true, status: 'CONFIRMED' },
      { username: 'u3', role: null, tenant: null, enabled: false, status: 'CONFIRMED' },
    ]);
  });
});
