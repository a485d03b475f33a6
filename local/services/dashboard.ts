import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  type ApiKeyRecord,
  createApiKeyAuthenticator,
  hashApiKey,
} from '../../dashboards/adapters/api-key-authenticator';
import { createCognitoAuthenticator, createIdTokenVerifier } from '../../dashboards/adapters/cognito-authenticator';
import type { ReadinessReader, RecipientEraser, TenantStore } from '../../dashboards/api/ports';
import { type DashboardConfig, loadDashboardConfig } from '../../dashboards/config';
import { type DashboardServerOptions, startDashboardServer } from '../../dashboards/server';
import { SesV2TenantControl } from '../../enrich/reputation/sesv2-tenant-control';
import { DynamoDbReadinessStore } from '../../enrich/sender-auth/dynamodb-readiness-store';
import { ensureTable } from '../../lib/table-design';
import { readPrivacyConfig } from '../../privacy/config';
import { openLake } from '../../queries/duckdb-lake';
import { DynamoDbTenantStore, MemoryTenantStore } from '../../tenants/tenant-service';
import type { OidcUser, RunningOidcProvider } from '../oidc-provider';
import type { PipelineService } from '../pipeline/service';
import { preferredOrFreePort } from '../stack/ports';

const LocalKeysSchema = z.object({
  compliance: z.string().min(20),
  clients: z.record(z.string(), z.string().min(20)),
});
export type LocalKeys = z.infer<typeof LocalKeysSchema>;

/** How often new tenants get a local client key. */
const KEY_REFRESH_MS = 10_000;

const newKey = (prefix: string) => `${prefix}_${randomBytes(18).toString('base64url')}`;

/**
 * The local API keys (`<dataDir>/dashboard-keys.json`, mode 0600): one compliance key and one client key per
 * tenant, created once and kept across restarts; keys for tenants that appear later are added (every 10 s).
 */
export function ensureLocalKeys(file: string, tenants: readonly string[]): LocalKeys {
  let keys: LocalKeys = { compliance: newKey('sfc'), clients: {} };
  if (existsSync(file)) {
    const parsed = LocalKeysSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) keys = parsed.data;
  }
  let changed = !existsSync(file);
  for (const t of tenants) {
    if (!keys.clients[t]) {
      keys.clients[t] = newKey('sft');
      changed = true;
    }
  }
  if (changed) writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return keys;
}

/** The key table the server hashes at start: key ids are safe to log and audit, the keys are not. */
export function keyRecords(keys: LocalKeys): Record<string, ApiKeyRecord> {
  const out: Record<string, ApiKeyRecord> = {
    [keys.compliance]: { keyId: 'local-compliance', role: 'compliance', tenantId: null },
  };
  for (const [tenant, key] of Object.entries(keys.clients)) {
    out[key] = { keyId: `local-client-${tenant}`, role: 'client', tenantId: tenant };
  }
  return out;
}

const SsoUsersSchema = z.object({
  compliance: z.object({ username: z.string(), password: z.string().min(12) }),
  client: z.object({ username: z.string(), password: z.string().min(12), tenant: z.string() }),
});
export type SsoDemoUsers = z.infer<typeof SsoUsersSchema>;

/** The app client id of the dashboard on the local provider (as the Cognito app client in AWS). */
export const LOCAL_SSO_CLIENT_ID = 'sesflow-dashboard';

/**
 * The demo sign-ins of `sesflow start --sso` (`<dataDir>/sso-users.json`, mode 0600): a compliance officer and a
 * client user of `tenant`, created once and kept across restarts.
 */
export function ensureSsoUsers(file: string, tenant: string): SsoDemoUsers {
  if (existsSync(file)) {
    const parsed = SsoUsersSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) return parsed.data;
  }
  const users: SsoDemoUsers = {
    compliance: { username: 'compliance@demo.test', password: newKey('Pw1') },
    client: { username: `${tenant}@demo.test`, password: newKey('Pw1'), tenant },
  };
  writeFileSync(file, `${JSON.stringify(users, null, 2)}\n`, { mode: 0o600 });
  return users;
}

/** The provider's users for the demo sign-ins: groups and tenant as an administrator would set them in Cognito. */
export function ssoProviderUsers(users: SsoDemoUsers): OidcUser[] {
  return [
    { ...users.compliance, sub: 'demo-compliance', email: users.compliance.username, groups: ['compliance'] },
    {
      username: users.client.username,
      password: users.client.password,
      sub: 'demo-client',
      email: users.client.username,
      groups: ['client'],
      tenant: users.client.tenant,
    },
  ];
}

async function lakeTenants(lakeDir: string): Promise<string[]> {
  const lake = await openLake(lakeDir);
  try {
    const rows = await lake.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM events_raw ORDER BY 1');
    return rows.map((r) => r.tenant_id);
  } finally {
    lake.close();
  }
}

/**
 * The dashboard as a service of `sesflow start`: the Reports API and web UI on `SESFLOW_DASHBOARD_PORT` (8080),
 * reading the pipeline's lake with DuckDB and tenant state from the shared DynamoDB table (DynamoDB Local), or from
 * memory when no DynamoDB endpoint was started. Local keys are written to `<dataDir>/dashboard-keys.json`.
 */
export function dashboardPipelineService(
  config: DashboardConfig = loadDashboardConfig(),
  opts: { sso?: boolean } = {},
): PipelineService {
  return {
    name: 'dashboard',
    async start(ctx) {
      let tenants: TenantStore = new MemoryTenantStore();
      let readiness: ReadinessReader | undefined;
      const { dynamodb, documentClient } = ctx.clients;
      if (dynamodb && documentClient) {
        await ensureTable(dynamodb, config.tableName);
        // With the SES simulator running, a pause also switches the SES tenant's sending off (as in AWS).
        const ses = ctx.clients.ses ? new SesV2TenantControl(ctx.clients.ses) : null;
        tenants = new DynamoDbTenantStore(documentClient, config.tableName, ses);
        readiness = new DynamoDbReadinessStore(documentClient, config.tableName);
      }
      mkdirSync(ctx.dataDir, { recursive: true });
      const keysFile = join(ctx.dataDir, 'dashboard-keys.json');
      // Keys by hash, refreshed as tenants appear in the lake (live traffic brings them after the start).
      let byHash = new Map<string, ApiKeyRecord>();
      const issueKeys = (known: readonly string[]) => {
        const records = keyRecords(ensureLocalKeys(keysFile, known));
        byHash = new Map(Object.entries(records).map(([key, rec]) => [hashApiKey(key), rec]));
      };
      const known = [...(await lakeTenants(ctx.lakeDir)), ...(await tenants.listStatuses()).map((s) => s.tenantId)];
      issueKeys(known);
      // A busy port (another program on 8080) falls back to a free one, as the stand-ins' ports do.
      const port = await preferredOrFreePort(config.port);
      if (port !== config.port) ctx.log(`dashboard: port ${config.port} is busy, using ${port}`);
      const sso = opts.sso ? await startLocalSso(ctx.dataDir, port, [...known].sort()[0] ?? 'acme') : null;
      const server = await startDashboardServer({
        port,
        host: '127.0.0.1',
        lakeDir: ctx.lakeDir,
        // The rollup tables kept across restarts; raw retention as `sesflow compact --retention` applies it.
        engineFile: join(ctx.dataDir, 'reports.duckdb'),
        rawRetentionDays: readPrivacyConfig().retention.rawDays,
        ...(sso?.server ?? { auth: createApiKeyAuthenticator(async (hash) => byHash.get(hash) ?? null) }),
        tenants,
        readiness,
        rateLimit: config.rateLimit,
        // The pipeline's erasure service (local/services/erasure.ts), looked up when a request comes.
        erasure: {
          forget: async (input) => {
            const eraser: RecipientEraser | undefined = ctx.shared.recipientEraser;
            return eraser ? eraser.forget(input) : { ok: false, error: 'erasure is not running in this stack' };
          },
        },
        // Failures only, as one structured line (ids, route and status; never keys, addresses or subjects).
        log: (entry) => {
          if (entry.status >= 500)
            ctx.log(JSON.stringify({ level: 'error', msg: 'dashboard request failed', ...entry }));
        },
      });
      const timer = setInterval(() => {
        server
          .knownTenants()
          .then(issueKeys)
          .catch(() => undefined);
      }, KEY_REFRESH_MS);
      timer.unref();
      if (sso) {
        ctx.links.push({ label: 'Dashboard (single sign-on)', url: server.url });
        ctx.links.push({ label: 'Sign-in provider (OpenID Connect)', url: sso.provider.url });
        const { compliance, client } = sso.users;
        ctx.links.push({ label: 'Compliance sign-in', url: `${compliance.username} / ${compliance.password}` });
        ctx.links.push({ label: `Client sign-in (${client.tenant})`, url: `${client.username} / ${client.password}` });
        ctx.log(`dashboard: ${server.url} (single sign-on through ${sso.provider.url}; demo users in sso-users.json)`);
      } else {
        ctx.links.push({ label: 'Dashboard (keys in dashboard-keys.json)', url: server.url });
        ctx.log(`dashboard: ${server.url} (API keys in ${keysFile})`);
      }
      return {
        stop: async () => {
          clearInterval(timer);
          await server.close();
          await sso?.provider.close();
        },
      };
    },
  };
}

/**
 * `sesflow start --sso`: the local OpenID Connect provider with the demo users, and the dashboard's options for it
 * (the same authenticator as in AWS, configured with the provider's issuer and JWKS URL only).
 */
async function startLocalSso(
  dataDir: string,
  port: number,
  tenant: string,
): Promise<{ provider: RunningOidcProvider; users: SsoDemoUsers; server: Partial<DashboardServerOptions> }> {
  const users = ensureSsoUsers(join(dataDir, 'sso-users.json'), tenant);
  const origins = [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`];
  // Loaded only for --sso: oidc-provider warns on Node 20 when it is imported, and every CLI command imports this.
  const { startOidcProvider } = await import('../oidc-provider');
  const provider = await startOidcProvider({
    users: ssoProviderUsers(users),
    webClients: [{ clientId: LOCAL_SSO_CLIENT_ID, redirectUris: origins }],
  });
  const verifier = createIdTokenVerifier({
    issuer: provider.issuer,
    jwksUri: provider.jwksUri,
    audience: LOCAL_SSO_CLIENT_ID,
  });
  return {
    provider,
    users,
    server: {
      auth: createCognitoAuthenticator(verifier),
      credential: 'Authorization: Bearer <ID token>',
      webConfig: { mode: 'cognito', domain: provider.url, clientId: LOCAL_SSO_CLIENT_ID },
    },
  };
}
