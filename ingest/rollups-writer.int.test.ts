import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { s3LakeForTests } from '../local/stack/s3-lake.test-support';
import { buildQueryTestLake, type QueryTestLake } from '../queries/test-lake';
import { encodeParquet } from './parquet-writer';
import { ROLLUP_TABLES } from './rollups';
import { rebuildRollupDays, rollUpLake, rollupBuildName, rollupDays, rollupKey } from './rollups-writer';
import type { S3LakeStore } from './s3-lake-store';
import { testEvent, testMail } from './test-events';
import { expectRollupsEqualBuildSql } from './test-rollups';
import { transformRecord } from './transform';

const s3 = s3LakeForTests();
let lake: QueryTestLake;
let store: S3LakeStore;

beforeAll(async () => {
  // Not compacted: one file per hour, one hour delivered twice (the writer drops the copies itself).
  lake = buildQueryTestLake({ messages: 200, spanHours: 48 });
  s3.removeAfter(lake.dir);
  store = await s3.bucket('sesflow-rollup-lake');
  const root = join(lake.dir, 'events');
  for (const f of readdirSync(root, { recursive: true }).map(String)) {
    if (f.endsWith('.parquet')) await store.put(`events/${f.split('\\').join('/')}`, readFileSync(join(root, f)));
  }
});

/** A local copy of the bucket's lake (events and rollups), as Athena would read it. */
const mirror = () => s3.mirror(store, ['events/', 'rollups/']);

const NOW = new Date('2026-06-01T00:00:00Z');

describe('rollups of a lake in S3 (fauxqs)', () => {
  it('builds each closed day from its own partitions, equal to the build SQL over the deduplicated raw events', async () => {
    const summary = await rollUpLake(store, { closedBefore: new Date('2026-05-03T00:00:00Z'), now: () => NOW });
    // 05-01 and 05-02 are closed; 05-03 (and the edge records' 05-04) are not.
    expect(summary).toMatchObject({ built: 2, rebuilt: 0, fresh: 0, filesWritten: 2 * ROLLUP_TABLES.length });
    const days = await rollupDays(store);
    expect([...days.values()].filter((d) => d.fresh).map((d) => d.day)).toEqual(['2026-05-01', '2026-05-02']);
    await expectRollupsEqualBuildSql(await mirror(), { copy: true });
  });

  it('rebuilds only the day whose raw files changed: a late file, or a file rewritten under its own key', async () => {
    const before = await store.list('rollups/');
    // A late event of 05-01, as Firehose delivers it.
    const mail = testMail({ messageId: 'late-1', timestamp: '2026-05-01T07:00:00.000Z' });
    const out = transformRecord(`${JSON.stringify(testEvent('Send', 'send', {}, mail))}\n`);
    if (!out.ok) throw new Error(out.reason);
    await store.put('events/dt=2026-05-01/hour=07/late-2026-05-20-00-00-00-x.parquet', encodeParquet(out.rows));
    const late = await rollUpLake(store, { closedBefore: new Date('2026-05-03T00:00:00Z'), now: () => NOW });
    expect(late).toMatchObject({ built: 0, rebuilt: 1, fresh: 1 });
    const after = await store.list('rollups/');
    expect(after.filter((k) => k.includes('dt=2026-05-02'))).toEqual(before.filter((k) => k.includes('dt=2026-05-02')));
    const old01 = before.filter((k) => k.includes('dt=2026-05-01'));
    expect(after.filter((k) => old01.includes(k))).toEqual([]);
    const totals = await expectRollupsEqualBuildSql(await mirror(), { copy: true });
    expect(totals.get('2026-05-01')!.sent).toBeGreaterThan(0);

    // The same key written again with other content (as an erasure rewrites a file): the day is stale.
    const key = (await store.list('events/dt=2026-05-02/'))[0]!;
    const body = await store.get(key);
    await store.put(key, body);
    const rewritten = await rollupDays(store, '2026-05-02');
    expect(rewritten.get('2026-05-02')!.fresh).toBe(false);
    expect(await rollUpLake(store, { closedBefore: new Date('2026-05-03T00:00:00Z') })).toMatchObject({ rebuilt: 1 });
  });

  it('ignores and then deletes what a crash left: a build without its daily file, an older build beside the current one', async () => {
    const day = '2026-05-02';
    const current = (await rollupDays(store, day)).get(day)!.build!;
    // A build that stopped before its daily file, and an older daily file a crash did not delete.
    const stray = 'sesflow~rollup-2026-05-30-00-00-00-000-0123456789abcdef.parquet';
    await store.put(rollupKey('hourly', day, stray), await store.get(rollupKey('hourly', day, current)));
    await store.put(rollupKey('daily', day, stray), await store.get(rollupKey('daily', day, current)));
    const state = (await rollupDays(store, day)).get(day)!;
    expect(state.build).toBe(current); // the greatest name: the stray one is older
    expect(state.fresh).toBe(true);
    // A build under way elsewhere, listed a minute ago: its first file is there, its daily file not yet.
    const now = new Date(Date.now() + 120_000); // the current build was listed before this test began
    const underWay = rollupBuildName([], new Date(now.getTime() - 60_000));
    expect(underWay > current).toBe(true);
    await store.put(rollupKey('pairs', day, underWay), await store.get(rollupKey('pairs', day, current)));
    const s = await rollUpLake(store, { closedBefore: new Date('2026-05-03T00:00:00Z'), dt: day, now: () => now });
    expect(s).toMatchObject({ built: 0, rebuilt: 0, fresh: 1, filesDeleted: 2 });
    expect((await store.list(`rollups/hourly/dt=${day}/`)).map((k) => k.split('/').at(-1))).toEqual([current]);
    expect((await store.list(`rollups/pairs/dt=${day}/`)).map((k) => k.split('/').at(-1))).toEqual([current, underWay]);
    // An hour later it has not finished: it stopped, and goes too.
    const later = await rollUpLake(store, {
      closedBefore: new Date('2026-05-03T00:00:00Z'),
      dt: day,
      now: () => new Date(now.getTime() + 3_600_000),
    });
    expect(later.filesDeleted).toBe(1);
    expect((await store.list(`rollups/pairs/dt=${day}/`)).map((k) => k.split('/').at(-1))).toEqual([current]);
  });

  it('rebuilds given days on demand, and refuses a day that is not one', async () => {
    const before = (await rollupDays(store, '2026-05-01')).get('2026-05-01')!.build;
    const done = await rebuildRollupDays(store, ['2026-05-01', '2026-04-01'], {
      now: () => new Date('2026-06-02T00:00:00Z'),
    });
    // 04-01 has no raw files: nothing to build.
    expect(done).toMatchObject({ days: 1, filesWritten: ROLLUP_TABLES.length, filesDeleted: ROLLUP_TABLES.length });
    const after = (await rollupDays(store, '2026-05-01')).get('2026-05-01')!;
    expect(after.build).not.toBe(before);
    expect(after.fresh).toBe(true);
    await expect(rebuildRollupDays(store, ['2026-5-1'])).rejects.toThrow(/not a day/);
  });
});
