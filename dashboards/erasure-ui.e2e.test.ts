import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalErasure } from '../local/privacy/local-erasure';
import { parseErasureRequest } from '../privacy/request';
import { type LakeDb, openLake } from '../queries/duckdb-lake';
import { busiestRecipient } from '../queries/test-lake';
import { MemoryTenantStore } from '../tenants/tenant-service';
import { hasChromium, launchChromiumContext } from './chromium.test-support';
import { type RunningDashboardServer, startDashboardServer } from './server';
import { openSignedIn } from './sign-in.test-support';
import { buildTestLake, type TestLake } from './test-lake';

const KEYS = {
  'e2e-officer-key': { keyId: 'k-officer', role: 'compliance', tenantId: null },
  'e2e-acme-key': { keyId: 'k-acme', role: 'client', tenantId: 'acme' },
} as const;

let lake: TestLake;
let dataDir: string;
let server: RunningDashboardServer;
let context: BrowserContext;
let address: string;

const holding = async (): Promise<number> => {
  const db: LakeDb = await openLake(lake.dir);
  try {
    const rows = await db.query<{ n: bigint }>('SELECT count(*) AS n FROM events WHERE lower(recipient) = lower(?)', [
      address,
    ]);
    return Number(rows[0]!.n);
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  if (!hasChromium) return;
  lake = buildTestLake({ messages: 300, start: new Date(Date.now() - 30 * 3_600_000) });
  dataDir = mkdtempSync(join(tmpdir(), 'sesflow-e2e-erase-'));
  address = await busiestRecipient(lake.dir, 'acme');
  // The lake's erasure (no DynamoDB, receiver or SES here: those stores are reported as skipped).
  const erasure = createLocalErasure({ dataDir, lakeDir: lake.dir, endpoints: {}, table: 'none' });
  server = await startDashboardServer({
    port: 0,
    lakeDir: lake.dir,
    apiKeys: KEYS,
    tenants: new MemoryTenantStore([]),
    erasure: {
      forget: async (input) => ({ ok: true, report: await erasure.forget(parseErasureRequest(input), input.dryRun) }),
    },
  });
  context = await launchChromiumContext();
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  for (const d of [lake?.dir, dataDir]) if (d) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)(
  'erasing a recipient from the dashboard in Chromium (skipped: no /usr/bin/chromium)',
  () => {
    it('a client key gets no erasure card, and the API refuses it (403)', async () => {
      const page = await openSignedIn(context, server.url, 'e2e-acme-key', 'h1', '#/tenants/acme');
      expect(await page.locator('#erase-form').count()).toBe(0);
      const status = await page.evaluate(async (addr) => {
        const res = await fetch('/v1/erasures', {
          method: 'POST',
          headers: { 'x-api-key': 'e2e-acme-key', 'content-type': 'application/json' },
          body: JSON.stringify({ address: addr, reason: 'mine' }),
        });
        return res.status;
      }, address);
      expect(status).toBe(403);
      await page.close();
    });

    it('the officer runs a dry run (nothing changes), then erases: the report lists each store', async () => {
      const page = await openSignedIn(context, server.url, 'e2e-officer-key', '#erase-form', '#/tenants/acme');
      const before = await holding();
      expect(before).toBeGreaterThan(0);
      await page.fill('#erase-address', address);
      // No reason: the form is not sent (a required field), nothing happens.
      await page.click('#erase-action');
      await page.waitForTimeout(300);
      expect(await page.textContent('#erase-report')).toBe('');
      await page.fill('#erase-reason', 'DSR-4711 (test)');
      await page.click('#erase-action');
      await page.waitForSelector('#erase-report p');
      expect(await page.textContent('#erase-report p')).toContain('Dry run: nothing changed.');
      expect(await holding()).toBe(before);
      await page.uncheck('#erase-dry-run');
      await page.click('#erase-action');
      await page.locator('#erase-report p', { hasText: 'Erased.' }).waitFor();
      const rows = await page.locator('#erase-report tbody tr').allTextContents();
      expect(rows).toHaveLength(7);
      expect(rows[0]).toMatch(/^External Reporting .*no External Reporting endpoint/);
      expect(rows[5]).toMatch(/^lake events \(Parquet\)[1-9]\d*[1-9]\d*rewrote/);
      expect(rows[6]).toMatch(/^lake rollups/);
      expect(await holding()).toBe(0);
      expect(await page.content()).not.toContain(address);
      await page.close();
    });
  },
);
