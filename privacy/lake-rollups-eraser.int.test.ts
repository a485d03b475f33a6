import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsLakeStore } from '../ingest/fs-lake-store';
import { encodeParquet } from '../ingest/parquet-writer';
import { ROLLUP_LAYOUT, ROLLUP_LAYOUT_KEY, rollUpLake, rollupDays, rollupKey } from '../ingest/rollups-writer';
import { testBounce, testMail } from '../ingest/test-events';
import { transformRecord } from '../ingest/transform';
import { openLake } from '../queries/duckdb-lake';
import { DuckDbLakeFileFinder } from './duckdb-lake-file-finder';
import { forgetRecipient } from './erase';
import { LakeEventsEraser } from './lake-events-eraser';
import { LakeRollupsEraser } from './lake-rollups-eraser';
import { parseErasureRequest } from './request';

const ADDRESS = 'Gone.Away@example.org';
const OTHER = 'still.here@example.com';
const KEY = 'k'.repeat(40);
const DAY = '2026-05-01';
let dir: string;
let lake: FsLakeStore;

/** A hard bounce of each recipient on DAY, the SMTP diagnostic quoting the address as servers do. */
function bounceRows() {
  const recipients = [ADDRESS, OTHER].map((a) => ({
    emailAddress: a,
    action: 'failed',
    status: '5.1.1',
    diagnosticCode: `smtp; 550 5.1.1 <${a}>: Recipient address rejected`,
  }));
  const out = transformRecord(
    `${JSON.stringify(testBounce('Permanent', 'General', recipients, testMail({ destination: [ADDRESS, OTHER] })))}\n`,
  );
  if (!out.ok) throw new Error(out.reason);
  return out.rows;
}

/** The diagnostic texts and recipient keys of the day's bounces rollup. */
async function bouncesRollup(): Promise<{ diagnostic_code: string; recipient_key: bigint }[]> {
  const d = (await rollupDays(lake, DAY)).get(DAY)!;
  const db = await openLake(dir);
  try {
    return await db.query(
      `SELECT diagnostic_code, recipient_key FROM read_parquet(?, hive_partitioning = false) ORDER BY 1`,
      [join(dir, rollupKey('bounces', DAY, d.build!))],
    );
  } finally {
    db.close();
  }
}

const forget = (dryRun: boolean) => {
  const events = new LakeEventsEraser(lake, new DuckDbLakeFileFinder(dir));
  return forgetRecipient(parseErasureRequest({ address: ADDRESS, reason: 'art. 17', requestedBy: 'dpo' }), {
    key: KEY,
    dryRun,
    targets: [events, new LakeRollupsEraser(lake, events)],
  });
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sesflow-rollup-erase-'));
  lake = new FsLakeStore(dir);
  mkdirSync(join(dir, 'events', `dt=${DAY}`, 'hour=10'), { recursive: true });
  writeFileSync(join(dir, 'events', `dt=${DAY}`, 'hour=10', 'b.parquet'), encodeParquet(bounceRows()));
  await rollUpLake(lake, { closedBefore: new Date('2026-06-01T00:00:00Z') });
  // Retention deleted the day's raw events; its rollups are kept longer.
  rmSync(join(dir, 'events'), { recursive: true });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('erasure of the rollups of a day past raw retention', () => {
  it('finds the address in the bounce diagnostics and its key, changes nothing on a dry run', async () => {
    const before = await bouncesRollup();
    expect(before.map((r) => r.diagnostic_code.includes(ADDRESS))).toEqual([true, false]);
    const dry = await forget(true);
    const store = dry.stores.find((s) => s.store === 'lake rollups')!;
    expect([store.found, store.changed]).toEqual([1, 0]);
    expect(store.items).toEqual([
      `${rollupKey('bounces', DAY, (await rollupDays(lake, DAY)).get(DAY)!.build!)} (rewrite)`,
    ]);
    expect(await bouncesRollup()).toEqual(before);
  });

  it('rewrites the file in place: the address and its key replaced, the other recipient and every count kept', async () => {
    const before = await bouncesRollup();
    const report = await forget(false);
    expect(report.complete).toBe(true);
    const store = report.stores.find((s) => s.store === 'lake rollups')!;
    expect([store.found, store.changed]).toEqual([1, 1]);
    const after = await bouncesRollup();
    expect(after).toHaveLength(before.length);
    expect(after.some((r) => r.diagnostic_code.toLowerCase().includes(ADDRESS.toLowerCase()))).toBe(false);
    expect(after.filter((r) => r.diagnostic_code.includes(OTHER))).toEqual(
      before.filter((r) => r.diagnostic_code.includes(OTHER)),
    );
    const gone = before.find((r) => r.diagnostic_code.includes(ADDRESS))!.recipient_key;
    expect(after.map((r) => r.recipient_key)).not.toContain(gone);
    const d = (await rollupDays(lake, DAY)).get(DAY)!;
    expect(d.fresh).toBe(true);
    // Written in the rollup writer's layout, as the file it replaced.
    const db = await openLake(dir);
    try {
      const kv = await db.query<{ v: string }>(
        `SELECT CAST(value AS VARCHAR) AS v FROM parquet_kv_metadata(?) WHERE CAST(key AS VARCHAR) = '${ROLLUP_LAYOUT_KEY}'`,
        [join(dir, rollupKey('bounces', DAY, d.build!))],
      );
      expect(kv.map((r) => r.v)).toEqual([ROLLUP_LAYOUT]);
    } finally {
      db.close();
    }
    // Again: nothing derives from the address any more.
    const again = (await forget(false)).stores.find((s) => s.store === 'lake rollups')!;
    expect([again.found, again.changed]).toEqual([0, 0]);
  });
});
