import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTableInput } from '../../lib/table-design';
import { type ReportingReceiver, startReportingReceiver } from '../../local/reporting-receiver/server';
import { SeededRandom } from '../../local/seeded-random';
import { createLocalClients, type LocalClients } from '../../local/stack/clients';
import { startDynamoDbLocal } from '../../local/stack/dynamodb-local';
import { startFauxqsServer } from '../../local/stack/fauxqs';
import { ensureQueueWithDlq } from '../../local/stack/sqs-queues';
import type { RunningStandIn } from '../../local/stack/stand-in';
import type { BatchLimits } from './config';
import { DynamoDbRecordStateStore } from './dynamodb-record-state-store';
import { type LocalPusher, startLocalPusher } from './local-pusher';
import { type ProducerDeps, type ProducerStreamRecord, processProducerBatch } from './producer';
import { buildRecords, type ReportingRecord, toReportingRecord } from './record';
import { createReportingApiClient, type ReportingApi } from './reporting-api-client';
import { enqueueBatches, SqsDeadLetterQueue } from './sqs-record-queue';
import { messageEvents, normalisedRows, type TestOutcome } from './test-events';

const KEY = 'producer-test-key-0123456789';
const LIMITS: BatchLimits = { maxRecords: 50, maxBytes: 1_000_000 };

let ddb: RunningStandIn;
let fauxqs: RunningStandIn;
let clients: LocalClients;
let receiver: ReportingReceiver;
let api: ReportingApi;
let pusher: LocalPusher;
let deps: ProducerDeps;
const enqueued: number[] = [];

beforeAll(async () => {
  [ddb, fauxqs] = await Promise.all([startDynamoDbLocal(), startFauxqsServer()]);
  clients = createLocalClients({ dynamodb: ddb.endpoint, fauxqs: fauxqs.endpoint });
  const table = `push-producer-${process.pid}`;
  await clients.dynamodb!.send(new CreateTableCommand(createTableInput(table)));
  const sqs = clients.sqs!;
  const q = await ensureQueueWithDlq(
    sqs,
    { queue: 'producer-records', dlq: 'producer-dlq' },
    { maxReceiveCount: 5, visibilityTimeoutSeconds: 10 },
  );
  // 20 % faults on the way out too: the producer's records must still arrive once each.
  receiver = await startReportingReceiver({ apiKeys: [KEY], faults: { rate: 0.2, slowMs: 1200, seed: 3 } });
  api = createReportingApiClient({ baseUrl: receiver.url, apiKey: KEY });
  deps = {
    state: new DynamoDbRecordStateStore(clients.documentClient!, table),
    queue: {
      enqueue: async (batches) => {
        enqueued.push(batches.reduce((n, b) => n + b.recordIds.length, 0));
        await enqueueBatches(sqs, q.queueUrl, batches);
      },
    },
    limits: LIMITS,
  };
  pusher = startLocalPusher({
    sqs,
    queueUrl: q.queueUrl,
    waitTimeSeconds: 0,
    deps: {
      api,
      deadLetters: new SqsDeadLetterQueue(sqs, q.dlqUrl),
      limits: LIMITS,
      retry: { maxAttempts: 8, baseDelayMs: 30, maxDelayMs: 500, timeoutMs: 800 },
      maxReceiveCount: 5,
    },
  });
});

afterAll(async () => {
  await pusher?.stop();
  api?.close();
  await receiver?.close();
  clients?.destroy();
  await Promise.all([ddb?.stop(), fauxqs?.stop()]);
});

function shuffle<T>(items: T[], rnd: SeededRandom): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rnd.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

describe('record producer on DynamoDB Local, through fauxqs, to the receiver', () => {
  it('out-of-order, split and redelivered stream batches give the right final record at the receiver', async () => {
    const outcomes: TestOutcome[] = ['clicked', 'complained', 'bounced', 'opened', 'delivered', 'rejected'];
    const raw = Array.from({ length: 60 }, (_, i) =>
      messageEvents({
        messageId: `prod-${i}`,
        tenant: `tenant-${i % 3}`,
        recipient: `r${i}@inbox.test`,
        outcome: outcomes[i % outcomes.length]!,
      }),
    ).flat();
    // A complaint after an open of the same message (complaint arrives first in the shuffled stream, typically).
    raw.push(
      ...messageEvents({ messageId: 'prod-1', tenant: 'tenant-1', recipient: 'r1@inbox.test', outcome: 'opened' }),
    );
    const rnd = new SeededRandom(5);
    let seq = 0;
    const stream: ProducerStreamRecord[] = shuffle(
      raw.map((r) => JSON.stringify(r)),
      rnd,
    ).map((data) => ({ sequenceNumber: String(++seq).padStart(20, '0'), data }));

    // Batches of 37 in stream order, the 2nd batch delivered twice (a Lambda retry), plus one poison record.
    stream.splice(10, 0, { sequenceNumber: '0', data: '{"not":"an SES event"}' });
    let untransformable = 0;
    for (let i = 0; i < stream.length; i += 37) {
      const slice = stream.slice(i, i + 37);
      const out = await processProducerBatch(deps, { records: slice });
      expect(out.failed).toEqual([]);
      untransformable += out.untransformable;
      if (i === 37) {
        const before = enqueued.length;
        const again = await processProducerBatch(deps, { records: slice });
        expect(again).toMatchObject({ failed: [], changed: 0 });
        expect(enqueued.length).toBe(before);
      }
    }
    expect(untransformable).toBe(1);
    await pusher.drain(60_000);

    const expected = new Map<string, ReportingRecord>(
      [...buildRecords(normalisedRows(raw)).values()].map((r) => [r.record_id, toReportingRecord(r)]),
    );
    expect(expected.size).toBe(60);
    const held = receiver.records();
    expect(held.size).toBe(60);
    for (const [id, want] of expected) expect(held.get(id)?.record).toEqual(want);
    // The message that was opened and complained about reads as complained, with its opens.
    const complainedAndOpened = [...held.values()].find((h) => h.record.message_id === 'prod-1')!.record;
    expect(complainedAndOpened.status).toBe('complained');
    expect(complainedAndOpened.first_opened_at).not.toBeNull();
  });
});
