import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRollups } from './adapters/rollup-lake.test-support';
import { hasChromium, launchChromiumContext } from './chromium.test-support';
import { type RunningDashboardServer, startDashboardServer } from './server';
import { signInWithKey } from './sign-in.test-support';
import { buildTestLake, type TestLake } from './test-lake';

const DAY = 86_400_000;
/** Three days of mail, ten days ago; raw events are kept 8 days, so the first day's have been deleted. */
const START = Math.floor(Date.now() / DAY) * DAY - 10 * DAY;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

let lake: TestLake;
let server: RunningDashboardServer;
let context: BrowserContext;

beforeAll(async () => {
  if (!hasChromium) return;
  lake = buildTestLake({ messages: 300, start: new Date(START), spanHours: 72 });
  await writeRollups(lake.dir, [day(START), day(START + DAY), day(START + 2 * DAY)]);
  // Retention deleted the raw events of the first day (sesflow compact --retention); its rollups are kept.
  rmSync(join(lake.dir, 'events', `dt=${day(START)}`), { recursive: true, force: true });
  server = await startDashboardServer({
    port: 0,
    lakeDir: lake.dir,
    apiKeys: { 'e2e-officer-key': { keyId: 'k-officer', role: 'compliance', tenantId: null } },
    rawRetentionDays: 9,
  });
  context = await launchChromiumContext();
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('a report over days past raw retention (skipped: no /usr/bin/chromium)', () => {
  it('says on the page that those days come from the daily rollups, and shows their figures', async () => {
    const page = await context.newPage();
    await signInWithKey(page, server.url, 'e2e-officer-key');
    await page.goto(`${server.url}/#/report/acme/${day(START)}/${day(START + 3 * DAY)}`);
    await page.waitForSelector('#summary');
    const note = await page.textContent('#report-basis');
    expect(note).toBe(
      `raw events before ${day(START + DAY)} were deleted by retention: the days before then come from the daily rollups`,
    );
    const sent = await page.textContent('#summary');
    expect(sent).toMatch(/Sent\s*[1-9]/);
    // Within raw retention the page says nothing of it.
    await page.goto(`${server.url}/#/report/acme/${day(START + DAY)}/${day(START + 3 * DAY)}`);
    await page.waitForSelector(`#report-title >> text=acme`);
    await page.waitForSelector('#report-basis', { state: 'detached' });
    expect(await page.$('#report-basis')).toBeNull();
  });
});
