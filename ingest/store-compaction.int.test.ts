import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTestLake, type TestLake } from '../dashboards/test-lake';
import { s3LakeForTests } from '../local/stack/s3-lake.test-support';
import { openLake } from '../queries/duckdb-lake';
import { NAMED_QUERIES } from '../queries/named-queries';
import { type QueryRow, runNamedQuery } from '../queries/run-named-query';
import { listPartitions } from './compact';
import type { LakeStore } from './lake-store';
import { compactStoreLake } from './store-compaction';

const s3 = s3LakeForTests();
let lake: TestLake;

beforeAll(async () => {
  lake = buildTestLake({ messages: 400, start: new Date('2026-09-01T00:00:00Z'), spanHours: 8, seed: 11 });
  s3.removeAfter(lake.dir);
});

/** Copies every object of the store's lake into a fresh local folder (what Athena would read, in DuckDB). */
const mirror = (store: LakeStore) => s3.mirror(store, ['events/']);

/** Every named query's answer on a lake (message-timeline for one message of the lake). */
async function answers(dir: string, messageId: string): Promise<Record<string, QueryRow[]>> {
  const db = await openLake(dir, { threads: 1 });
  try {
    const out: Record<string, QueryRow[]> = {};
    for (const name of NAMED_QUERIES.keys())
      out[name] = await runNamedQuery(db, name, name === 'message-timeline' ? { message_id: messageId } : {});
    return out;
  } finally {
    db.close();
  }
}

describe('lake compaction on S3 (fauxqs)', () => {
  it('merges each closed hour into one file, answers every named query as before, and keeps a late file', async () => {
    // The lake as Firehose leaves it: several files per hour, some delivered twice.
    const parts = listPartitions(lake.dir);
    for (const [i, p] of parts.entries()) {
      const f = readdirSync(p).find((x) => x.endsWith('.parquet'))!;
      if (i % 2 === 0) copyFileSync(join(p, f), join(p, `sesflow-test-events-1-2026-09-01-00-00-00-redelivered-${f}`));
    }
    const s3Store = await s3.bucket('sesflow-test-lake');
    for (const p of parts)
      for (const f of readdirSync(p).filter((x) => x.endsWith('.parquet'))) {
        const key = `${p
          .slice(lake.dir.length + 1)
          .split('\\')
          .join('/')}/${f}`;
        await s3Store.put(key, readFileSync(join(p, f)));
      }
    const filesBefore = (await s3Store.list('events/')).length;
    expect(filesBefore).toBe(parts.length + Math.ceil(parts.length / 2));

    const db = await openLake(lake.dir, { threads: 1 });
    const [one] = await db.query<{ m: string }>('SELECT min(message_id) AS m FROM events_raw');
    db.close();
    const messageId = String(one!.m);
    const before = await answers(await mirror(s3Store), messageId);
    expect(before['tenant-summary']!.length).toBeGreaterThan(0);
    expect(before['message-timeline']!.length).toBeGreaterThan(0);

    // While it runs: at the first delete (compacted file written, old files still there) the answers are the same;
    // and a late Firehose file lands in the partition being compacted, after its files were read.
    const lastHour = parts
      .at(-1)!
      .slice(lake.dir.length + 1)
      .split('\\')
      .join('/');
    const firstHour = parts[0]!
      .slice(lake.dir.length + 1)
      .split('\\')
      .join('/');
    const lateKey = `${firstHour}/sesflow-test-events-1-2026-09-01-23-59-59-late.parquet`;
    // A redelivery of a file of that hour (Firehose delivers at least once).
    const lateBody = readFileSync(join(parts[0]!, readdirSync(parts[0]!).find((x) => x.endsWith('.parquet'))!));
    let during: Record<string, QueryRow[]> | null = null;
    const watched: LakeStore = {
      location: s3Store.location,
      put: (k, b) => s3Store.put(k, b),
      list: (p) => s3Store.list(p),
      get: async (k) => {
        const body = await s3Store.get(k);
        if (k.startsWith(`${firstHour}/`) && !(await s3Store.list(lateKey)).length)
          await s3Store.put(lateKey, lateBody);
        return body;
      },
      delete: async (k) => {
        if (!during && !k.startsWith(`${firstHour}/`)) during = await answers(await mirror(s3Store), messageId);
        return s3Store.delete(k);
      },
    };
    // The last hour is not closed yet: left to Firehose.
    const closedBefore = new Date(Date.parse(`${lastHour.slice(10, 20)}T${lastHour.slice(-2)}:00:00Z`) + 30 * 60_000);
    const summary = await compactStoreLake(watched, { closedBefore });
    expect(during).toEqual(before);
    expect(summary.partitions).toBe(parts.length - 1);
    expect(summary.duplicatesDropped).toBeGreaterThan(0);

    const keys = await s3Store.list('events/');
    // One file per closed hour, the open hour as it was, and the late file kept (it was not compacted, so not deleted).
    const openHourFiles = keys.filter((k) => k.startsWith(`${lastHour}/`)).length;
    expect(openHourFiles).toBe(readdirSync(parts.at(-1)!).filter((x) => x.endsWith('.parquet')).length);
    expect(keys).toContain(lateKey);
    expect(keys.length).toBe(parts.length - 1 + openHourFiles + 1);
    expect(keys.length).toBeLessThan(filesBefore);

    // Every named query answers exactly as before (the late copy's rows are duplicates the events view drops).
    expect(await answers(await mirror(s3Store), messageId)).toEqual(before);

    // Run again: the hour with the late file is merged; every other closed hour is one compacted file, not downloaded.
    const again = await compactStoreLake(s3Store, { closedBefore });
    expect([again.partitions, again.skipped, again.duplicatesDropped > 0]).toEqual([1, parts.length - 2, true]);
    expect((await s3Store.list('events/')).length).toBe(parts.length - 1 + openHourFiles);
    expect(await answers(await mirror(s3Store), messageId)).toEqual(before);
  }, 120_000);
});
