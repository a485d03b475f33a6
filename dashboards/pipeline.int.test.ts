import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningPipeline } from '../local/pipeline';
import { startTestPipeline, stopPipelineAfterAll } from '../local/pipeline/test-pipeline.test-support';
import { dashboardPipelineService, type LocalKeys } from '../local/services/dashboard';
import { DynamoDbTenantStore } from '../tenants/tenant-service';
import { loadDashboardConfig } from './config';

const dataDir = mkdtempSync(join(tmpdir(), 'sesflow-dash-pipeline-'));
const keysFile = join(dataDir, 'dashboard-keys.json');
const config = { ...loadDashboardConfig({}), port: 0 };
let pipeline: RunningPipeline;
let url: string;

/** Waits for a condition the pipeline reaches on its own (Firehose buffers, key refresh), failing after 60 s. */
async function eventually<T>(what: string, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  pipeline = await startTestPipeline(dataDir, {
    historyMessages: 800,
    extensions: [dashboardPipelineService(config)],
  });
  url = pipeline.ctx.links.find((l) => l.label.startsWith('Dashboard'))!.url;
});

stopPipelineAfterAll(() => pipeline, dataDir);

describe('the dashboard inside sesflow start (local pipeline: SES simulator → Firehose → lake; DynamoDB Local)', () => {
  it('ranks the demo tenants from the pipeline lake and pauses one in DynamoDB Local, audited', async () => {
    const keys = () => JSON.parse(readFileSync(keysFile, 'utf8')) as LocalKeys;
    expect(existsSync(keysFile)).toBe(true);
    const tenants = await eventually('five tenants with mail', async () => {
      const res = await fetch(`${url}/v1/tenants`, { headers: { 'x-api-key': keys().compliance } });
      const body = (await res.json()) as { tenants: { tenantId: string; sent24h: number; state: string }[] };
      return body.tenants.filter((t) => t.sent24h > 0).length >= 5 ? body.tenants : null;
    });
    expect(tenants.map((t) => t.tenantId)).toEqual(
      expect.arrayContaining(['acme', 'globex', 'initech', 'umbrella', 'hooli']),
    );

    const paused = await fetch(`${url}/v1/tenants/umbrella/pause`, {
      method: 'POST',
      headers: { 'x-api-key': keys().compliance, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'hard bounces over the pause line' }),
    });
    expect(paused.status).toBe(200);
    const store = new DynamoDbTenantStore(pipeline.ctx.clients.documentClient!, config.tableName);
    expect((await store.getStatus('umbrella'))?.state).toBe('paused');
    expect((await store.listAudit('umbrella'))[0]).toMatchObject({ action: 'pause', actor: 'local-compliance' });
  });

  it("issues a client key per tenant that sees only its tenant's report", async () => {
    const acmeKey = await eventually('a client key for acme', async () => {
      const k = (JSON.parse(readFileSync(keysFile, 'utf8')) as LocalKeys).clients.acme;
      return k ?? null;
    });
    const own = await fetch(`${url}/v1/reports/tenant-summary`, { headers: { 'x-api-key': acmeKey } });
    const rows = ((await own.json()) as { rows: { tenant_id: string; sent: number }[] }).rows;
    expect(rows.map((r) => r.tenant_id)).toEqual(['acme']);
    expect(rows[0]!.sent).toBeGreaterThan(0);
    const other = await fetch(`${url}/v1/reports/tenant-summary?tenant=globex`, { headers: { 'x-api-key': acmeKey } });
    expect(other.status).toBe(403);
  });
});
