import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { FsLakeStore } from '../../ingest/fs-lake-store';
import type { LakeStore } from '../../ingest/lake-store';
import { LakeWriter } from '../../ingest/lake-writer';
import { S3LakeStore } from '../../ingest/s3-lake-store';
import { transformRecord } from '../../ingest/transform';
import { openLake } from '../../queries/duckdb-lake';
import { createLocalClients } from '../stack/clients';
import { startFauxqsServer } from '../stack/fauxqs';
import type { RunningStandIn } from '../stack/stand-in';
import { generateTraffic } from '../traffic-model';
import { startLocalFirehose } from './server';

const dir = mkdtempSync(join(tmpdir(), 'sesflow-lake-writer-'));
const cleanup: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

const records = [...generateTraffic({ seed: 5, tenants: 3, messages: 400, start: new Date('2026-05-01T10:30:00Z') })];
const lines = [...records.map((r) => `${JSON.stringify(r)}\n`), '{"eventType":"Bounce"'];
/** What the transform makes of the good records: the rows the lake must hold, each once. */
const expectedRows = records.reduce((n, r) => {
  const t = transformRecord(JSON.stringify(r));
  return n + (t.ok ? t.rows.length : 0);
}, 0);

/** Sends every line through a local Firehose whose row sink is the project's lake writer on `store`. */
async function throughFirehose(store: LakeStore): Promise<void> {
  const fh = await startLocalFirehose({
    streams: ['sesflow-events'],
    sinkFor: (stream) => new LakeWriter({ store, stream }),
  });
  const clients = createLocalClients({ firehose: fh.endpoint });
  for (let i = 0; i < lines.length; i += 500) {
    const batch = lines.slice(i, i + 500).map((l) => ({ Data: Buffer.from(l) }));
    const out = await clients.firehose!.send(
      new PutRecordBatchCommand({ DeliveryStreamName: 'sesflow-events', Records: batch }),
    );
    expect(out.FailedPutCount).toBe(0);
  }
  clients.destroy();
  await fh.close(); // flushes every buffer into the lake
}

describe('local Firehose with the lake writer as its row sink', () => {
  it('writes the file lake: every row once, in the folder of its event hour, and the bad record under errors/', async () => {
    await throughFirehose(new FsLakeStore(dir));
    const lake = await openLake(dir);
    try {
      const [count] = await lake.query<{ n: bigint; sends: bigint }>(
        "SELECT count(*) AS n, count(DISTINCT message_id) FILTER (WHERE event_type = 'send') AS sends FROM events",
      );
      expect(Number(count!.sends)).toBe(400);
      expect(Number(count!.n)).toBe(expectedRows);
      const [raw] = await lake.query<{ n: bigint }>('SELECT count(*) AS n FROM events_raw');
      expect(Number(raw!.n)).toBe(expectedRows); // no duplicate written
      const glob = join(dir, 'events', '**', '*.parquet').replaceAll("'", "''");
      const [misplaced] = await lake.query<{ n: bigint }>(
        `SELECT count(*) AS n FROM read_parquet('${glob}', filename = true, hive_partitioning = false)
         WHERE filename NOT LIKE '%dt=' || strftime(event_time, '%Y-%m-%d') || '/hour=' || strftime(event_time, '%H') || '/%'`,
      );
      expect(Number(misplaced!.n)).toBe(0);
    } finally {
      lake.close();
    }
    expect(readdirSync(join(dir, 'errors'))).toEqual(['parse-failed']);
  });

  it('writes the same layout to the lake bucket on fauxqs (S3)', async () => {
    const fq: RunningStandIn = await startFauxqsServer();
    cleanup.push(() => fq.stop());
    const clients = createLocalClients({ fauxqs: fq.endpoint });
    cleanup.push(() => clients.destroy());
    await clients.s3!.send(new CreateBucketCommand({ Bucket: 'sesflow-lake' }));
    await throughFirehose(new S3LakeStore(clients.s3!, 'sesflow-lake'));
    const listed = await clients.s3!.send(new ListObjectsV2Command({ Bucket: 'sesflow-lake' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    expect(keys.some((k) => /^events\/dt=2026-05-01\/hour=10\/sesflow-events-.+\.parquet$/.test(k))).toBe(true);
    expect(keys.some((k) => k.startsWith('errors/parse-failed/dt='))).toBe(true);
  });
});
