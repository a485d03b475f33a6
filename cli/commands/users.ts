import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { CognitoUserAdmin, type UserAuditEntry } from '../../dashboards/adapters/cognito-user-admin';
import { ROLES, type Role } from '../../dashboards/api/ports';
import { describeError, UsageError } from '../../lib/errors';
import { toTable } from '../../lib/tabular';
import { TenantRegistry } from '../../send/registry';

/** Where changes to users without a tenant (compliance officers) are audited. */
export const PLATFORM_AUDIT_ID = '_users';

interface UsersOptions {
  userPool?: string;
  table?: string;
}

function settings(cmd: Command): { userPoolId: string; table: string } {
  const o = cmd.optsWithGlobals() as UsersOptions;
  const userPoolId = o.userPool ?? process.env.SESFLOW_USER_POOL_ID;
  const table = o.table ?? process.env.SESFLOW_TABLE;
  if (!userPoolId)
    throw new UsageError('--user-pool is required (or SESFLOW_USER_POOL_ID): the stack output UserPoolId');
  if (!table) throw new UsageError('--table is required (or SESFLOW_TABLE): the stack output TableName, for the audit');
  return { userPoolId, table };
}

/** The pool in AWS (default credentials and region), audited into the stage's table like tenant keys. */
async function withAdmin<T>(cmd: Command, run: (admin: CognitoUserAdmin) => Promise<T>): Promise<T> {
  const { userPoolId, table } = settings(cmd);
  const cognito = new CognitoIdentityProviderClient({ maxAttempts: 2 });
  const ddb = new DynamoDBClient({ maxAttempts: 2 });
  const registry = new TenantRegistry(DynamoDBDocumentClient.from(ddb), table);
  const actor = `sesflow users ${cmd.name()}`;
  const audit = async (e: UserAuditEntry) => {
    const tenantId = e.tenantId ?? PLATFORM_AUDIT_ID;
    const status = e.tenantId ? ((await registry.getTenant(e.tenantId))?.status ?? 'active') : 'active';
    await registry.audit({ tenantId, action: e.action, actor, reason: e.reason, status });
  };
  try {
    return await run(new CognitoUserAdmin(cognito, userPoolId, audit));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`users ${cmd.name()} failed: ${describeError(err)}`, { cause: err });
  } finally {
    cognito.destroy();
    ddb.destroy();
  }
}

function parseRole(raw: string): Role {
  if (!(ROLES as readonly string[]).includes(raw)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  return raw as Role;
}

/**
 * `sesflow users create|list|disable|set-tenant`: the dashboards' users in the stage's Cognito user pool. Role and
 * tenant are set here only (users cannot write them); each change is audited in the tenant's trail.
 */
export function registerUsers(program: Command): void {
  const users = program
    .command('users')
    .description("dashboard users in the stage's Cognito user pool: role (group) and tenant, set by an administrator")
    .option('--user-pool <id>', 'the user pool id (stack output UserPoolId; or SESFLOW_USER_POOL_ID)')
    .option('--table <name>', 'the stage table, where changes are audited (stack output TableName; or SESFLOW_TABLE)');

  users
    .command('create <email>')
    .description('create a user (Cognito e-mails a temporary password) with its role, and its tenant for a client')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--tenant <id>', 'the tenant a client user sees')
    .action(async (email: string, o: { role: string; tenant?: string }, cmd: Command) => {
      const role = parseRole(o.role);
      await withAdmin(cmd, (admin) => admin.create(email, role, o.tenant ?? null));
      process.stdout.write(`user created: ${role}${o.tenant ? ` of ${o.tenant}` : ''}; Cognito e-mails the sign-in\n`);
    });

  users
    .command('list')
    .description('every user with its role, tenant and state')
    .option('--format <format>', 'table or json', 'table')
    .action(async (o: { format: string }, cmd: Command) => {
      if (o.format !== 'table' && o.format !== 'json') throw new UsageError('--format must be table or json');
      const list = await withAdmin(cmd, (admin) => admin.list());
      if (o.format === 'json') process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      else process.stdout.write(toTable(list.map((u) => ({ ...u, role: u.role ?? '-', tenant: u.tenant ?? '-' }))));
    });

  users
    .command('disable <email>')
    .description('disable a user and end its sessions (audited)')
    .requiredOption('--reason <text>', 'why (audited)')
    .action(async (email: string, o: { reason: string }, cmd: Command) => {
      await withAdmin(cmd, (admin) => admin.disable(email, o.reason));
      process.stdout.write('user disabled and signed out everywhere\n');
    });

  users
    .command('set-tenant <email> <tenant>')
    .description('move a client user to a tenant; ends its sessions (audited on both tenants)')
    .requiredOption('--reason <text>', 'why (audited)')
    .action(async (email: string, tenant: string, o: { reason: string }, cmd: Command) => {
      const out = await withAdmin(cmd, (admin) => admin.setTenant(email, tenant, o.reason));
      process.stdout.write(`tenant ${out.from ?? '(none)'} -> ${tenant}; the user signs in again\n`);
    });
}
