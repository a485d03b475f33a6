import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateStreamCommand,
  type KinesisClient,
  PutRecordsCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KinesisPollerOptions, type PolledBatch, startKinesisPoller } from './kinesis-poller';
import { createLocalClients, type LocalClients } from './stack/clients';
import { startKinesalite } from './stack/kinesis-local';

let stopKinesis: () => Promise<void>;
let clients: LocalClients;
let kinesis: KinesisClient;
const dir = mkdtempSync(join(tmpdir(), 'sesflow-poller-'));
let streamNo = 0;

beforeAll(async () => {
  const k = await startKinesalite();
  stopKinesis = () => k.stop();
  clients = createLocalClients({ kinesis: k.endpoint });
  kinesis = clients.kinesis!;
});

afterAll(async () => {
  clients?.destroy();
  await stopKinesis?.();
  rmSync(dir, { recursive: true, force: true });
});

async function newStream(shards: number): Promise<string> {
  const name = `poller-${++streamNo}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  // A stream takes records only once it is ACTIVE (kinesalite, like Kinesis, creates it asynchronously).
  await waitUntilStreamExists(
    { client: kinesis, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 },
    { StreamName: name },
  );
  return name;
}

async function put(stream: string, values: string[]): Promise<void> {
  for (let i = 0; i < values.length; i += 500) {
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: values.slice(i, i + 500).map((v) => ({ Data: Buffer.from(v), PartitionKey: v })),
      }),
    );
    expect(out.FailedRecordCount ?? 0).toBe(0);
  }
}

/** A poller of `stream` for consumer `test` that polls every 20 ms and retries a failed batch after 10 ms. */
const pollQuickly = (stream: string, opts: Pick<KinesisPollerOptions, 'handler' | 'onProblem'>) =>
  startKinesisPoller({ kinesis, streamName: stream, consumer: 'test', idleMs: 20, retryMs: 10, ...opts });

const text = (b: PolledBatch) => b.records.map((r) => Buffer.from(r.data).toString());

describe('startKinesisPoller (kinesalite)', () => {
  it('hands every record of every shard to the handler once, in shard order', async () => {
    const stream = await newStream(2);
    const values = Array.from({ length: 1300 }, (_, i) => `v${i}`);
    await put(stream, values);
    const seen: string[] = [];
    const perShard = new Map<string, string[]>();
    const poller = await startKinesisPoller({
      kinesis,
      streamName: stream,
      consumer: 'test',
      idleMs: 20,
      handler: async (b) => {
        seen.push(...text(b));
        const list = perShard.get(b.shardId) ?? [];
        list.push(...b.records.map((r) => r.sequenceNumber));
        perShard.set(b.shardId, list);
        return { failed: [] };
      },
    });
    await poller.drain();
    await poller.stop();
    expect(seen.sort()).toEqual([...values].sort());
    expect(perShard.size).toBe(2);
    for (const seqs of perShard.values()) {
      const sorted = [...seqs].sort((a, b) => (a.length - b.length !== 0 ? a.length - b.length : a < b ? -1 : 1));
      expect(seqs).toEqual(sorted);
    }
    expect(poller.stats().reduce((n, s) => n + s.records, 0)).toBe(values.length);
  });

  it('on a partial failure retries from the lowest failed record, and records before it are not redelivered', async () => {
    const stream = await newStream(1);
    await put(
      stream,
      Array.from({ length: 10 }, (_, i) => `r${i}`),
    );
    const deliveries: string[] = [];
    let failedOnce = false;
    const poller = await pollQuickly(stream, {
      handler: async (b) => {
        deliveries.push(...text(b));
        const r4 = b.records.find((r) => Buffer.from(r.data).toString() === 'r4');
        const r7 = b.records.find((r) => Buffer.from(r.data).toString() === 'r7');
        if (!failedOnce && r4 && r7) {
          failedOnce = true;
          return { failed: [r7.sequenceNumber, r4.sequenceNumber] };
        }
        return { failed: [] };
      },
    });
    await poller.drain();
    await poller.stop();
    // r0..r9 once, then r4..r9 again (Lambda's retry from the lowest reported failure).
    expect(deliveries).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `r${i}`),
      ...Array.from({ length: 6 }, (_, i) => `r${i + 4}`),
    ]);
    expect(poller.stats()[0]!.failedBatches).toBe(1);
  });

  it('a handler that throws gets the whole batch again', async () => {
    const stream = await newStream(1);
    await put(stream, ['a', 'b', 'c']);
    let calls = 0;
    const got: string[][] = [];
    const problems: string[] = [];
    const poller = await pollQuickly(stream, {
      onProblem: (l) => problems.push(l),
      handler: async (b) => {
        got.push(text(b));
        if (++calls === 1) throw new Error('table unavailable\n    at stack');
        return { failed: [] };
      },
    });
    await poller.drain();
    await poller.stop();
    expect(got).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
    ]);
    expect(problems[0]).toBe('test: batch of 3 on shardId-000000000000 failed: table unavailable');
  });

  it('a restart with the checkpoint file resumes after the last handled record', async () => {
    const stream = await newStream(2);
    const file = join(dir, `${stream}.json`);
    await put(
      stream,
      Array.from({ length: 40 }, (_, i) => `first-${i}`),
    );
    const seen: string[] = [];
    const opts = {
      kinesis,
      streamName: stream,
      consumer: 'test',
      idleMs: 20,
      checkpointFile: file,
      handler: async (b: PolledBatch) => {
        seen.push(...text(b));
        return { failed: [] };
      },
    };
    const first = await startKinesisPoller(opts);
    await first.drain();
    await first.stop();
    await put(
      stream,
      Array.from({ length: 15 }, (_, i) => `second-${i}`),
    );
    const second = await startKinesisPoller(opts);
    await second.drain();
    await second.stop();
    expect(seen.filter((v) => v.startsWith('first-'))).toHaveLength(40);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((v) => v.startsWith('second-'))).toHaveLength(15);
  });
});
