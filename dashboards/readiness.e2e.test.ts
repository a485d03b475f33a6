import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyOf, thresholdsOf } from '../tenants/policy';
import { hasChromium, launchChromiumContext } from './chromium.test-support';

// `sesflow start` itself (the CLI, as a user runs it), with its demo tenants, and the compliance view in Chromium:
// the demo tenant without a DMARC record (initech, DKIM pending too) is "at risk" with its reasons.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const hasJava = !spawnSync('java', ['-version'], { stdio: 'ignore' }).error;

let dataDir: string;
let child: ChildProcess;
let dashboard: string;
let context: BrowserContext;

/** A port free now (the dashboard's must be given: 0 is not accepted there). */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts `sesflow start` and waits for its banner; resolves with the dashboard's URL. */
async function startSesflow(): Promise<string> {
  const dashboardPort = String(await freePort());
  child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'sesflow.mjs'),
      'start',
      '--data-dir',
      dataDir,
      '--tenants',
      '3',
      '--history',
      '0',
      '--no-traffic',
    ],
    {
      cwd: ROOT,
      // Free ports everywhere: other runs on this machine keep theirs.
      env: {
        ...process.env,
        SESFLOW_PORT_DYNAMODB: '0',
        SESFLOW_PORT_FAUXQS: '0',
        SESFLOW_PORT_KINESIS: '0',
        SESFLOW_PORT_SES: '0',
        SESFLOW_PORT_FIREHOSE: '0',
        SESFLOW_PORT_EMAIL_API: '0',
        SESFLOW_DASHBOARD_PORT: dashboardPort,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sesflow start did not come up:\n${out}`)), 150_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const url = /Dashboard \(keys in dashboard-keys\.json\)\s+(http:\/\/\S+)/.exec(out)?.[1];
      if (url && out.includes('sesflow is running')) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sesflow start exited with ${code}:\n${out}`));
    });
  });
}

beforeAll(async () => {
  if (!hasChromium || !hasJava) return;
  dataDir = mkdtempSync(join(tmpdir(), 'sesflow-readiness-e2e-'));
  dashboard = await startSesflow();
  context = await launchChromiumContext({
    viewport: { width: 1360, height: 900 },
  });
}, 180_000);

afterAll(async () => {
  await context?.close();
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!hasChromium || !hasJava)('sender readiness in the compliance view (sesflow start)', () => {
  it('the demo tenant without DMARC is "at risk" with its reason, in the list and on its page', async () => {
    const keys = JSON.parse(readFileSync(join(dataDir, 'dashboard-keys.json'), 'utf8')) as {
      compliance: string;
      clients: Record<string, string>;
    };
    const page = await context.newPage();
    await page.goto(dashboard);
    await page.fill('#api-key', keys.compliance);
    await page.click('button[type=submit]');
    await page.waitForSelector('#tenant-table tbody tr[data-tenant="initech"]');
    const cell = await page.$eval('#tenant-table tbody tr[data-tenant="initech"] td.readiness', (td) => ({
      verdict: td.querySelector('[data-readiness]')?.getAttribute('data-readiness'),
      all: td.getAttribute('title'),
      text: td.textContent,
    }));
    expect(cell.verdict).toBe('at risk');
    expect(cell.all).toContain(
      'mail.initech-example.com: no DMARC record at _dmarc.mail.initech-example.com: Gmail and Yahoo require one of bulk senders',
    );
    expect(cell.text).toContain('DKIM is pending in SES');
    const acme = await page.$eval('#tenant-table tbody tr[data-tenant="acme"] [data-readiness]', (b) =>
      b.getAttribute('data-readiness'),
    );
    expect(acme).toBe('ready');
    // SES's own verdict, from the simulator's GetAccount / GetReputationEntity.
    expect(await page.textContent('#tenant-table tbody tr[data-tenant="initech"] td:nth-child(3)')).toBe('HEALTHY');

    await page.click('#tenant-table tbody tr[data-tenant="initech"] a');
    await page.waitForSelector('#readiness');
    const section = await page.textContent('#readiness');
    expect(section).toContain('no DMARC record at _dmarc.mail.initech-example.com');
    expect(section).toContain('publish one TXT record at _dmarc.mail.initech-example.com');
    // Gmail's line beside the tenant's own policy (standard) thresholds.
    const th = thresholdsOf(policyOf('standard'));
    const pct = (r: number) => `${(r * 100).toFixed(2)} %`;
    expect(await page.textContent('#complaint-vs-gmail')).toContain(
      `Gmail's limit 0.30 % · our warning ${pct(th.complaintWarning)}, pause ${pct(th.complaintPause)}`,
    );
    await page.screenshot({ path: join(ROOT, 'docs', 'screenshots', 'compliance-readiness.png'), fullPage: true });

    // The client view: the tenant's own domain checks with what to fix. Client keys are issued as tenants appear
    // (every 10 s): initech's comes once the Email API has registered the demo tenants.
    let clientKey: string | undefined;
    for (let i = 0; i < 60 && !clientKey; i++) {
      clientKey = (JSON.parse(readFileSync(join(dataDir, 'dashboard-keys.json'), 'utf8')) as typeof keys).clients
        .initech;
      if (!clientKey) await new Promise((r) => setTimeout(r, 500));
    }
    const client = await context.newPage();
    await client.goto(dashboard);
    await client.fill('#api-key', clientKey!);
    await client.click('button[type=submit]');
    await client.waitForSelector('#readiness');
    expect(await client.textContent('#readiness h2')).toBe('Your sending domains');
    expect(await client.textContent('#readiness')).toContain('What to fix');
    await page.close();
    await client.close();
  });
});
