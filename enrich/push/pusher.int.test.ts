import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ReportingReceiver, startReportingReceiver } from '../../local/reporting-receiver/server';
import { createLocalClients, type LocalClients } from '../../local/stack/clients';
import { startFauxqsServer } from '../../local/stack/fauxqs';
import type { RunningStandIn } from '../../local/stack/stand-in';
import { decodeQueueBody, packRecords } from './batches';
import type { BatchLimits, RetryPolicy } from './config';
import { type LocalPusher, startLocalPusher } from './local-pusher';
import type { PusherDeps } from './pusher';
import { createReportingApiClient, type ReportingApi } from './reporting-api-client';
import {
  DEAD_LETTER_ATTRIBUTES,
  enqueueBatches,
  redriveDeadLetters,
  SqsDeadLetterQueue,
  summariseDeadLetter,
} from './sqs-record-queue';
import { syntheticRecords } from './test-events';

const API_KEY = 'test-reporting-key-0123456789';
const LIMITS: BatchLimits = { maxRecords: 100, maxBytes: 1_000_000 };
/** Short timeouts: a "slow" answer (1.2 s) is a timeout for the pusher (800 ms), which then retries the same key. */
const RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 30, maxDelayMs: 500, timeoutMs: 800 };

let fauxqs: RunningStandIn;
let clients: LocalClients;
let sqs: SQSClient;
let queueSeq = 0;

beforeAll(async () => {
  fauxqs = await startFauxqsServer();
  clients = createLocalClients({ fauxqs: fauxqs.endpoint });
  sqs = clients.sqs!;
});

afterAll(async () => {
  clients?.destroy();
  await fauxqs?.stop();
});

async function createQueues(): Promise<{ queueUrl: string; dlqUrl: string }> {
  const n = ++queueSeq;
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `push-dlq-${n}` }));
  const arn = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }));
  const q = await sqs.send(
    new CreateQueueCommand({
      QueueName: `push-${n}`,
      Attributes: {
        VisibilityTimeout: '10',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn.Attributes!.QueueArn, maxReceiveCount: 5 }),
      },
    }),
  );
  return { queueUrl: q.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

/** Every message of a queue, left in place (made visible again after reading). */
async function peekAll(queueUrl: string) {
  const out = await readAll(queueUrl);
  for (let i = 0; i < out.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: out
          .slice(i, i + 10)
          .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
      }),
    );
  }
  return out;
}

async function readAll(queueUrl: string) {
  const out = [];
  for (;;) {
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 30,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!got.Messages?.length) return out;
    out.push(...got.Messages);
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: { faultRate?: number; rejectTenants?: string[]; apiKey?: string }) {
  const receiver: ReportingReceiver = await startReportingReceiver({
    apiKeys: [API_KEY],
    faults: { rate: opts.faultRate ?? 0, slowMs: 1200, retryAfterSeconds: 1, seed: 11 },
    rejectTenants: opts.rejectTenants,
  });
  cleanups.push(() => receiver.close());
  const { queueUrl, dlqUrl } = await createQueues();
  const api: ReportingApi = createReportingApiClient({ baseUrl: receiver.url, apiKey: opts.apiKey ?? API_KEY });
  cleanups.push(() => api.close());
  const deps: PusherDeps = {
    api,
    deadLetters: new SqsDeadLetterQueue(sqs, dlqUrl),
    limits: LIMITS,
    retry: RETRY,
    maxReceiveCount: 5,
  };
  const startPusher = (): LocalPusher => {
    const p = startLocalPusher({ sqs, queueUrl, deps, concurrency: 3, waitTimeSeconds: 0, messageBudgetMs: 5000 });
    cleanups.push(() => p.stop());
    return p;
  };
  return { receiver, queueUrl, dlqUrl, startPusher };
}

/** Pusher dependencies around an API, with a dead-letter queue that takes anything. */
function depsFor(api: ReportingApi): PusherDeps {
  return { api, deadLetters: { send: async () => {} }, limits: LIMITS, retry: RETRY, maxReceiveCount: 5 };
}

/** Pusher dependencies for a queue and a receiver, for a pusher started by hand. */
async function setupDeps(receiver: ReportingReceiver) {
  const api = createReportingApiClient({ baseUrl: receiver.url, apiKey: API_KEY });
  cleanups.push(() => api.close());
  return { deps: depsFor(api) };
}

describe('push through fauxqs to the local receiver', () => {
  it('under 30 % faults, 5,000 records all arrive, each accepted under exactly one idempotency key', async () => {
    const { receiver, queueUrl, dlqUrl, startPusher } = await setup({ faultRate: 0.3 });
    const records = syntheticRecords(5000);
    const batches = packRecords(records, LIMITS);
    expect(batches).toHaveLength(50);
    await enqueueBatches(sqs, queueUrl, batches);
    const pusher = startPusher();
    await pusher.drain(90_000);

    const held = receiver.records();
    expect(held.size).toBe(5000);
    for (const r of records) {
      const h = held.get(r.record_id);
      expect(h?.record).toEqual(r);
      expect(h?.deliveries).toBe(1);
    }
    const stats = receiver.stats();
    // The faults did happen, including ones after the batch was stored (its retry was recognised by its key).
    expect(stats.faults['500'] + stats.faults['429'] + stats.faults.slow + stats.faults.drop).toBeGreaterThan(5);
    expect(stats.replays).toBeGreaterThan(0);
    expect(stats.acceptedBatches).toBe(50);
    expect(new Set(batches.map((b) => b.idempotencyKey))).toEqual(new Set(receiver.keyCounts().keys()));
    expect(await readAll(dlqUrl)).toHaveLength(0);
    expect(pusher.stats().records).toBeGreaterThanOrEqual(5000);
  });

  it('a permanently refused batch goes to the DLQ with its reason, and redrive delivers it once the fault is cleared', async () => {
    const { receiver, queueUrl, dlqUrl, startPusher } = await setup({ rejectTenants: ['tenant-2'] });
    const records = syntheticRecords(1000, { tenants: 4, prefix: 'rej' });
    await enqueueBatches(sqs, queueUrl, packRecords(records, LIMITS));
    const pusher = startPusher();
    await pusher.drain(60_000);

    const bad = records.filter((r) => r.tenant_id === 'tenant-2');
    const good = records.filter((r) => r.tenant_id !== 'tenant-2');
    // Refused records were isolated (by tenant): every other record arrived, each once.
    for (const r of good) expect(receiver.records().get(r.record_id)?.deliveries).toBe(1);
    for (const r of bad) expect(receiver.records().has(r.record_id)).toBe(false);

    const dead = await peekAll(dlqUrl);
    expect(dead.length).toBeGreaterThan(0);
    let deadRecords = 0;
    for (const m of dead) {
      const s = summariseDeadLetter(m);
      expect(s.status).toBe(422);
      expect(s.reason).toMatch(/HTTP 422: records\[0\]: tenant tenant-2 is not enabled/);
      expect(m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.key]?.StringValue).toMatch(/^sfr1-/);
      const body = JSON.parse(await decodeQueueBody(m.Body!)) as { records: { tenant_id: string }[] };
      expect(body.records.every((r) => r.tenant_id === 'tenant-2')).toBe(true);
      deadRecords += body.records.length;
    }
    expect(deadRecords).toBe(bad.length);

    const preview = await redriveDeadLetters(sqs, { dlqUrl, queueUrl, dryRun: true });
    expect(preview.moved).toBe(dead.length);
    expect([...preview.reasons.keys()].every((r) => r.includes('tenant-2'))).toBe(true);
    // Redriven while the fault persists: refused again, back in the DLQ (nothing lost).
    await redriveDeadLetters(sqs, { dlqUrl, queueUrl });
    await pusher.drain(60_000);
    expect(await peekAll(dlqUrl)).toHaveLength(dead.length);
    receiver.setRejectTenants([]);
    const redriven = await redriveDeadLetters(sqs, { dlqUrl, queueUrl });
    expect(redriven.moved).toBe(dead.length);
    await pusher.drain(60_000);
    for (const r of records) expect(receiver.records().get(r.record_id)?.deliveries).toBe(1);
    expect(await readAll(dlqUrl)).toHaveLength(0);
  });

  it('a wrong API key is a refusal of every batch: dead-lettered with HTTP 401, nothing stored', async () => {
    const { receiver, queueUrl, dlqUrl, startPusher } = await setup({ apiKey: 'wrong-key-wrong-key-wrong' });
    await enqueueBatches(sqs, queueUrl, packRecords(syntheticRecords(150, { prefix: 'k' }), LIMITS));
    const pusher = startPusher();
    await pusher.drain(30_000);
    expect(receiver.records().size).toBe(0);
    const dead = await readAll(dlqUrl);
    expect(dead).toHaveLength(2);
    for (const m of dead)
      expect(summariseDeadLetter(m)).toMatchObject({ status: 401, reason: 'HTTP 401: invalid x-api-key' });
  });

  it('messages a stopping pusher receives are handed back at once, not hidden for their visibility timeout', async () => {
    const { receiver, queueUrl, startPusher } = await setup({});
    // A pusher long-polling the empty queue is told to stop; the batches arrive while its receive is still open.
    const first = startLocalPusher({
      sqs,
      queueUrl,
      deps: (await setupDeps(receiver)).deps,
      concurrency: 1,
      waitTimeSeconds: 2,
    });
    await new Promise((r) => setTimeout(r, 300));
    const stopping = first.stop();
    const records = syntheticRecords(150, { prefix: 'stop' });
    await enqueueBatches(sqs, queueUrl, packRecords(records, LIMITS));
    await stopping;
    expect(first.stats().messages).toBe(0);
    // The queue's visibility timeout is 10 s: the next pusher must find them all well before that.
    const second = startPusher();
    await second.drain(8_000);
    expect(receiver.records().size).toBe(150);
  });

  it('receives ten messages a call, holds ten beyond those in flight, and hands back those held when stopped', async () => {
    const { queueUrl } = await setup({});
    await enqueueBatches(
      sqs,
      queueUrl,
      packRecords(syntheticRecords(150, { prefix: 'held' }), { ...LIMITS, maxRecords: 5 }),
    );
    // An API whose answers wait for the test: the first ten messages stay in flight.
    let started = 0;
    let answer: () => void = () => {};
    const answered = new Promise<void>((r) => {
      answer = r;
    });
    const api: ReportingApi = {
      postBatch: async () => {
        started++;
        await answered;
        return { status: 200, error: null, retryAfterMs: null, replayed: false };
      },
      close: () => {},
    };
    const asked: number[] = [];
    const counting = {
      send: (command: { input: unknown }, options?: unknown) => {
        if (command instanceof ReceiveMessageCommand) asked.push(command.input.MaxNumberOfMessages ?? 1);
        return (sqs.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
      },
    } as unknown as SQSClient;
    const pusher = startLocalPusher({
      sqs: counting,
      queueUrl,
      deps: depsFor(api),
      concurrency: 1,
      waitTimeSeconds: 0,
    });
    const counts = async () => {
      const a = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return [
        Number(a.Attributes?.ApproximateNumberOfMessages),
        Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible),
      ];
    };
    for (let i = 0; i < 100 && (await counts())[1] !== 20; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await counts()).toEqual([10, 20]);
    expect(started).toBe(10);
    expect(asked).toEqual([10, 10]);
    const stopping = pusher.stop();
    answer();
    await stopping;
    // The ten pushed are deleted, the ten held are back on the queue at once (the visibility timeout is 10 s).
    expect(pusher.stats().messages).toBe(10);
    expect(await counts()).toEqual([20, 0]);
  });

  it('a queue message that is not a record batch is dead-lettered with the reason', async () => {
    const { queueUrl, dlqUrl, startPusher } = await setup({});
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"records":"nope"}' }));
    const pusher = startPusher();
    await pusher.drain(30_000);
    const dead = await readAll(dlqUrl);
    expect(dead).toHaveLength(1);
    expect(summariseDeadLetter(dead[0]!).reason).toMatch(/not a record batch/);
    expect(dead[0]!.Body).toBe('{"records":"nope"}');
  });
});
