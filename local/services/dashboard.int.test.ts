import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDashboardConfig } from '../../dashboards/config';
import { buildTestLake } from '../../dashboards/test-lake';
import { readLocalConfig } from '../config';
import { signInWithCode } from '../oidc-provider';
import type { PipelineContext } from '../pipeline/service';
import type { LocalClients } from '../stack/clients';
import { dashboardPipelineService, LOCAL_SSO_CLIENT_ID, type LocalKeys, type SsoDemoUsers } from './dashboard';

const dataDir = mkdtempSync(join(tmpdir(), 'sesflow-dash-service-'));
const lakeDir = join(dataDir, 'lake');

function context(): PipelineContext {
  const links: { label: string; url: string }[] = [];
  return {
    dataDir,
    lakeDir,
    resources: readLocalConfig({ SESFLOW_DATA_DIR: dataDir }).resources,
    endpoints: {},
    clients: {} as LocalClients,
    refreshClients() {},
    shared: {},
    links,
    log() {},
  };
}

beforeAll(() => {
  buildTestLake({ messages: 400, start: new Date(Date.now() - 20 * 3_600_000), dir: lakeDir });
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('dashboard service of sesflow start', () => {
  it('serves the lake with local keys written once (0600) and kept across restarts', async () => {
    const config = { ...loadDashboardConfig({}), port: 0 };
    const ctx = context();
    const running = await dashboardPipelineService(config).start(ctx);
    const url = ctx.links.find((l) => l.label.startsWith('Dashboard'))!.url;
    const file = join(dataDir, 'dashboard-keys.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const keys = JSON.parse(readFileSync(file, 'utf8')) as LocalKeys;
    expect(Object.keys(keys.clients).sort()).toEqual(['acme', 'globex', 'hooli', 'initech', 'umbrella']);

    const list = await fetch(`${url}/v1/tenants`, { headers: { 'x-api-key': keys.compliance } });
    expect(((await list.json()) as { tenants: unknown[] }).tenants).toHaveLength(5);
    const own = await fetch(`${url}/v1/reports/tenant-summary?tenant=globex`, {
      headers: { 'x-api-key': keys.clients.acme! },
    });
    expect(own.status).toBe(403);
    expect((await fetch(`${url}/`)).headers.get('content-security-policy')).toContain("script-src 'self'");
    await running?.stop();

    const again = context();
    const second = await dashboardPipelineService(config).start(again);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(keys);
    await second?.stop();
  });

  it('--sso: the local provider with a demo compliance user and a demo client user, printed, and their tokens accepted', async () => {
    const config = { ...loadDashboardConfig({}), port: 0 };
    const ctx = context();
    const running = await dashboardPipelineService(config, { sso: true }).start(ctx);
    try {
      const link = (prefix: string) => ctx.links.find((l) => l.label.startsWith(prefix))?.url ?? '';
      const url = link('Dashboard (single sign-on)');
      const provider = link('Sign-in provider');
      const file = join(dataDir, 'sso-users.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const users = JSON.parse(readFileSync(file, 'utf8')) as SsoDemoUsers;
      expect(users.client.tenant).toBe('acme');
      // The banner prints each demo sign-in; the tenants' API keys appear nowhere in it.
      expect(link('Compliance sign-in')).toBe(`${users.compliance.username} / ${users.compliance.password}`);
      expect(link('Client sign-in (acme)')).toBe(`${users.client.username} / ${users.client.password}`);
      const keys = JSON.parse(readFileSync(join(dataDir, 'dashboard-keys.json'), 'utf8')) as LocalKeys;
      expect(JSON.stringify(ctx.links)).not.toContain(keys.compliance);

      expect(await (await fetch(`${url}/config.json`)).json()).toEqual({
        mode: 'cognito',
        domain: provider,
        clientId: LOCAL_SSO_CLIENT_ID,
      });
      const csp = (await fetch(`${url}/`)).headers.get('content-security-policy') ?? '';
      expect(csp).toContain(`connect-src 'self' ${provider};`);
      const endpoints = { authorizeUrl: `${provider}/oauth2/authorize`, tokenUrl: `${provider}/oauth2/token` };
      const signIn = (u: { username: string; password: string }) =>
        signInWithCode(endpoints, { clientId: LOCAL_SSO_CLIENT_ID, redirectUri: `${url}/`, ...u });
      const officer = await signIn(users.compliance);
      const list = await fetch(`${url}/v1/tenants`, { headers: { authorization: `Bearer ${officer.id_token}` } });
      expect(((await list.json()) as { tenants: unknown[] }).tenants).toHaveLength(5);
      const client = await signIn(users.client);
      const other = await fetch(`${url}/v1/tenants/globex`, {
        headers: { authorization: `Bearer ${client.id_token}` },
      });
      expect(other.status).toBe(403);
      // API keys are not accepted in this mode.
      expect((await fetch(`${url}/v1/me`, { headers: { 'x-api-key': keys.compliance } })).status).toBe(401);
    } finally {
      await running?.stop();
    }
  });
});
