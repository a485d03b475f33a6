import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDashboardConfig } from '../../dashboards/config';
import { buildTestLake } from '../../dashboards/test-lake';
import { readLocalConfig } from '../config';
import type { PipelineContext } from '../pipeline/service';
import type { LocalClients } from '../stack/clients';
import { dashboardPipelineService, type LocalKeys } from './dashboard';

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
});
