import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeParquet } from '../ingest/parquet-writer';
import { hasSharedFixtures, sesEventsDir } from '../lib/shared-fixtures';
import { unsubscribeRecord } from '../send/unsubscribe';
import { type LakeDb, openLake } from './duckdb-lake';
import { runNamedQuery } from './run-named-query';
import { rowsByPartition } from './test-lake';

// The unsubscribes report over a lake written as production writes it (transform, Parquet, dt/hour partitions):
// sesflow's one-click records (one posted twice, as a retry would), SES's own Subscription events (an unsubscribe and
// an opt-in, which is not one), and a Send that is not an unsubscribe at all.
const PROFILE = { sesTenantName: 'acme', configurationSet: 'acme-events' };
const SES_FIXTURE = join(sesEventsDir, 'Subscription.json');

let dir: string;
let db: LakeDb;

function sesSubscription(unsubscribeAll: boolean, at: string): Record<string, unknown> {
  const r = JSON.parse(readFileSync(SES_FIXTURE, 'utf8')) as Record<string, any>;
  r.mail.messageId = `0100018e-sub-${unsubscribeAll}`;
  r.mail.tags = { ...r.mail.tags, tenant: ['acme'], campaign: ['newsletter-2026-03'] };
  r.subscription.timestamp = at;
  r.subscription.newTopicPreferences.unsubscribeAll = unsubscribeAll;
  return r;
}

beforeAll(async () => {
  if (!hasSharedFixtures) return;
  dir = mkdtempSync(join(tmpdir(), 'sesflow-unsubscribes-lake-'));
  const day1 = new Date('2026-05-01T10:00:00Z');
  const day2 = new Date('2026-05-02T08:30:00Z');
  const oneClick = (recipient: string, campaign: string | null, at: Date) =>
    unsubscribeRecord({ tenantId: 'acme', recipient, campaign }, PROFILE, 'test-secret', at);
  const records = [
    oneClick('a@example.org', 'spring', day1),
    oneClick('a@example.org', 'spring', day1), // the same unsubscribe published again: counted once
    oneClick('b@example.org', 'spring', day1),
    oneClick('c@example.org', null, day2),
    sesSubscription(true, '2026-05-02T09:00:00.000Z'),
    sesSubscription(false, '2026-05-02T09:10:00.000Z'),
  ];
  const byPartition = rowsByPartition(records);
  for (const [key, rows] of byPartition) {
    mkdirSync(join(dir, 'events', key), { recursive: true });
    writeFileSync(join(dir, 'events', key, 'events-1-2026-05-05-00-00-00-a.parquet'), encodeParquet(rows));
  }
  db = await openLake(dir);
});

afterAll(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasSharedFixtures)('unsubscribes named query (skipped without ../shared/ses-events)', () => {
  it('counts one-click and SES unsubscribes by day and campaign, each once; an opt-in is not one', async () => {
    const rows = await runNamedQuery(db, 'unsubscribes', { from: '2026-05-01', to: '2026-05-03' });
    expect(rows.map((r) => ({ ...r, unsubscribes: Number(r.unsubscribes), recipients: Number(r.recipients) }))).toEqual(
      [
        { day: '2026-05-01', tenant_id: 'acme', campaign_id: 'spring', unsubscribes: 2, recipients: 2 },
        { day: '2026-05-02', tenant_id: 'acme', campaign_id: 'newsletter-2026-03', unsubscribes: 1, recipients: 1 },
        { day: '2026-05-02', tenant_id: 'acme', campaign_id: null, unsubscribes: 1, recipients: 1 },
      ],
    );
  });

  it('filters by campaign and by tenant scope', async () => {
    const spring = await runNamedQuery(db, 'unsubscribes', {
      from: '2026-05-01',
      to: '2026-05-03',
      campaign: 'spring',
    });
    expect(spring.map((r) => r.campaign_id)).toEqual(['spring']);
    const other = await runNamedQuery(
      db,
      'unsubscribes',
      { from: '2026-05-01', to: '2026-05-03' },
      { tenant: 'globex' },
    );
    expect(other).toEqual([]);
  });
});
