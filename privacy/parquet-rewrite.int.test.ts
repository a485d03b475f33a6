import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactLake } from '../ingest/compact';
import { PAIR_KEY_SQL } from '../ingest/compact-layout';
import { FsLakeStore } from '../ingest/fs-lake-store';
import { LakeWriter } from '../ingest/lake-writer';
import type { NormalisedEvent } from '../ingest/normalise';
import { testBounce, testEvent, testMail, testOpen } from '../ingest/test-events';
import { transformRecord } from '../ingest/transform';
import { openLake } from '../queries/duckdb-lake';
import { DuckDbLakeFileFinder } from './duckdb-lake-file-finder';
import { forgetRecipient } from './erase';
import { LakeEventsEraser } from './lake-events-eraser';
import { Pseudonymiser, parseErasureRequest } from './request';

const KEY = 'a-test-erasure-key-of-at-least-32-chars';
const ADDRESS = 'reader@inbox.test';
const dir = mkdtempSync(join(tmpdir(), 'sesflow-rewrite-'));

/** The same reader, mailed by two tenants: a send, a bounce quoting the address, two opens of one message. */
function rows(): NormalisedEvent[] {
  const out: NormalisedEvent[] = [];
  for (const tenant of ['tenant-a', 'tenant-b']) {
    const mail = testMail({
      messageId: `0100-${tenant}-000000`,
      tags: { tenant: [tenant], 'ses:from-domain': ['mail.tenant-a.test'] },
    });
    for (const record of [
      testEvent('Send', 'send', {}, mail),
      testBounce(
        'Permanent',
        'General',
        [{ emailAddress: ADDRESS, diagnosticCode: `smtp; 550 <${ADDRESS}> unknown` }],
        mail,
      ),
      testOpen('Mozilla/5.0 (iPhone)', '2026-05-01T12:00:00.000Z', mail),
      testOpen('Mozilla/5.0 (Windows)', '2026-05-01T12:05:00.000Z', mail),
    ]) {
      const r = transformRecord(JSON.stringify(record));
      if (!r.ok) throw new Error(r.reason);
      out.push(...r.rows);
    }
  }
  return out;
}

const query = async <T>(sql: string): Promise<T[]> => {
  const db = await openLake(dir);
  try {
    return await db.query<T>(sql);
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  const writer = new LakeWriter({ store: new FsLakeStore(dir), stream: 'sesflow-events' });
  writer.addRows(rows());
  await writer.close();
  // The 10:00 hour compacted (pair_key, layout metadata), the 12:00 hour left as Firehose wrote it.
  await compactLake(dir, { dt: '2026-05-01', closedBefore: new Date('2026-05-01T11:00:00Z') });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rewriting lake files for one tenant', () => {
  it("pseudonymises only that tenant's rows of the address, keeps every count and recomputes pair keys", async () => {
    const before = await query<{ tenant_id: string; n: bigint; pairs: bigint; ids: bigint; domains: bigint }>(
      `SELECT tenant_id, count(*) AS n, count(DISTINCT pair_key) AS pairs, count(DISTINCT event_id) AS ids,
         count(DISTINCT recipient_domain) AS domains FROM events GROUP BY 1 ORDER BY 1`,
    );
    const files = readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.parquet'));
    expect(files.some((f) => String(f).includes('sesflow~compacted'))).toBe(true);
    expect(files.some((f) => !String(f).includes('sesflow~compacted'))).toBe(true);
    const report = await forgetRecipient(
      parseErasureRequest({ address: ADDRESS, tenant: 'tenant-a', reason: 'ticket 5', requestedBy: 't' }),
      { key: KEY, targets: [new LakeEventsEraser(new FsLakeStore(dir), new DuckDbLakeFileFinder(dir))] },
    );
    expect(report.stores[0]).toMatchObject({ found: 4, changed: 2 });
    const after = await query<{ tenant_id: string; n: bigint; pairs: bigint; ids: bigint; domains: bigint }>(
      `SELECT tenant_id, count(*) AS n, count(DISTINCT pair_key) AS pairs, count(DISTINCT event_id) AS ids,
         count(DISTINCT recipient_domain) AS domains FROM events GROUP BY 1 ORDER BY 1`,
    );
    expect(after).toEqual(before);
    const a = await query<{
      recipient: string;
      diagnostic_code: string | null;
      ip: string | null;
      recipient_domain: string;
    }>("SELECT recipient, diagnostic_code, ip, recipient_domain FROM events WHERE tenant_id = 'tenant-a'");
    const pseudonym = new Pseudonymiser(KEY).recipient(ADDRESS);
    expect(new Set(a.map((r) => r.recipient))).toEqual(new Set([pseudonym]));
    expect(a.every((r) => r.ip === null && r.recipient_domain === 'inbox.test')).toBe(true);
    expect(a.find((r) => r.diagnostic_code)?.diagnostic_code).toMatch(/^smtp; 550 <erased:[0-9a-f]{24}> unknown$/);
    const b = await query<{ n: bigint }>(
      `SELECT count(*) AS n FROM events WHERE tenant_id = 'tenant-b' AND recipient = '${ADDRESS}'`,
    );
    expect(Number(b[0]!.n)).toBe(4);
    // The compacted file's pair keys are those of the new values (what compaction would compute).
    const stale = await query<{ n: bigint }>(
      `SELECT count(*) AS n FROM events_raw WHERE event_type = 'open' AND pair_key IS DISTINCT FROM (${PAIR_KEY_SQL})`,
    );
    expect(Number(stale[0]!.n)).toBe(0);
  });
});
