import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { TenantPausedError } from '../enrich/reputation/errors';
import { sqsRecord } from '../lib/sqs-event.test-support';
import { MemorySendStore } from './api/memory-send-store';
import type { ChunkMessage } from './api/ports';
import { type ChunkLog, ChunkRetryError, createBulkWorkerHandler, processChunk } from './bulk-worker';
import type { BulkEntryOutcome, BulkSend, Sender } from './ports';

const JOB = 'job-00000000-0000-4000-8000-000000000001';

/** Answers each destination by its local part: `throttled*` is retryable once, `bad*` fails, `gone*` is suppressed. */
class ScriptedSender implements Sender {
  calls: BulkSend[] = [];
  throttledOnce = new Set<string>();
  failWith: Error | null = null;
  private n = 0;
  async send(): Promise<never> {
    throw new Error('not used');
  }
  async sendBulk(job: BulkSend): Promise<BulkEntryOutcome[]> {
    this.calls.push(job);
    if (this.failWith) throw this.failWith;
    return job.destinations.map((d): BulkEntryOutcome => {
      if (d.to.startsWith('throttled') && !this.throttledOnce.has(d.to)) {
        this.throttledOnce.add(d.to);
        return { to: d.to, status: 'failed', error: 'ACCOUNT_THROTTLED', retryable: true };
      }
      if (d.to.startsWith('bad')) return { to: d.to, status: 'failed', error: 'MESSAGE_REJECTED', retryable: false };
      if (d.to.startsWith('gone')) return { to: d.to, status: 'suppressed' };
      return { to: d.to, status: 'sent', messageId: `0100019a-${++this.n}` };
    });
  }
}

function chunk(n: number, addresses: string[], tenantId = 'acme'): ChunkMessage {
  return {
    jobId: JOB,
    chunk: n,
    tenantId,
    from: 'news@mail.acme.example',
    subject: 'Hello',
    text: 'Hi',
    campaign: 'spring',
    destinations: addresses.map((to) => ({ to })),
  };
}

function record(id: string, body: unknown): SQSRecord {
  return sqsRecord(id, `rh-${id}`, typeof body === 'string' ? body : JSON.stringify(body), 'q');
}

async function setup(chunks: number, destinations: number) {
  const store = new MemorySendStore();
  await store.createJob({
    jobId: JOB,
    tenantId: 'acme',
    createdAt: 't',
    updatedAt: 't',
    destinations,
    chunks,
    sent: 0,
    suppressed: 0,
    failed: 0,
    chunksDone: 0,
  });
  const sender = new ScriptedSender();
  const logs: ChunkLog[] = [];
  const deps = { sender, jobs: store, messages: store, log: (e: ChunkLog) => logs.push(e) };
  return { store, sender, logs, deps, handler: createBulkWorkerHandler(deps) };
}

describe('bulk worker: partial batch failures', () => {
  it('reports only the records with retryable entries or bad bodies; the others are done', async () => {
    const { handler, store } = await setup(2, 6);
    const event: SQSEvent = {
      Records: [
        record('m-ok', chunk(0, ['a@x.org', 'bad@x.org', 'gone@x.org'])),
        record('m-throttled', chunk(1, ['b@x.org', 'throttled@x.org', 'c@x.org'])),
        record('m-garbage', '{"jobId": 3'),
        record('m-not-a-chunk', { jobId: JOB, chunk: 0, destinations: [] }),
      ],
    };
    const res = await handler(event);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'm-garbage',
      'm-not-a-chunk',
      'm-throttled',
    ]);
    // Final outcomes are counted, the retryable one is not (yet).
    expect(await store.getJob(JOB)).toMatchObject({ sent: 3, suppressed: 1, failed: 1, chunksDone: 1 });
    expect(await store.listFailures(JOB, 10)).toEqual([{ to: 'bad@x.org', error: 'MESSAGE_REJECTED' }]);
  });

  it('a redelivered chunk resends only the entries that were not final, and counts each entry once', async () => {
    const { handler, store, sender } = await setup(1, 3);
    const body = chunk(0, ['b@x.org', 'throttled@x.org', 'c@x.org']);
    expect((await handler({ Records: [record('m1', body)] })).batchItemFailures).toHaveLength(1);
    expect((await handler({ Records: [record('m1', body)] })).batchItemFailures).toHaveLength(0);
    expect(sender.calls.map((c) => c.destinations.map((d) => d.to))).toEqual([
      ['b@x.org', 'throttled@x.org', 'c@x.org'],
      ['throttled@x.org'],
    ]);
    expect(await store.getJob(JOB)).toMatchObject({ sent: 3, suppressed: 0, failed: 0, chunksDone: 1 });
    // Each sent entry has its message status item, with the job and the tenant.
    expect([...store.messages.values()].map((m) => [m.tenantId, m.jobId, m.status])).toEqual([
      ['acme', JOB, 'sent'],
      ['acme', JOB, 'sent'],
      ['acme', JOB, 'sent'],
    ]);
    // SQS delivers at least once: a third copy of a finished chunk sends nothing and succeeds.
    expect((await handler({ Records: [record('m1', body)] })).batchItemFailures).toHaveLength(0);
    expect(sender.calls).toHaveLength(2);
    expect(await store.getJob(JOB)).toMatchObject({ sent: 3, chunksDone: 1 });
  });

  it("fails a paused tenant's entries for good (not retried), with the gate's reason", async () => {
    const { handler, store, sender } = await setup(1, 2);
    sender.failWith = new TenantPausedError('acme', 'paused', 'bounce rate 8 %', '2026-11-25T09:00:00.000Z');
    const res = await handler({ Records: [record('m1', chunk(0, ['a@x.org', 'b@x.org']))] });
    expect(res.batchItemFailures).toHaveLength(0);
    expect(await store.getJob(JOB)).toMatchObject({ sent: 0, failed: 2, chunksDone: 1 });
    expect((await store.listFailures(JOB, 10))[0]?.error).toMatch(/tenant acme is paused since 2026-11-25/);
  });

  it('retries the whole record when the sender fails outright, and writes nothing for it', async () => {
    const { handler, store, sender } = await setup(1, 2);
    sender.failWith = new Error('socket hang up');
    const res = await handler({ Records: [record('m1', chunk(0, ['a@x.org', 'b@x.org']))] });
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(await store.getChunk(JOB, 0)).toBeNull();
    expect(await store.getJob(JOB)).toMatchObject({ sent: 0, failed: 0, chunksDone: 0 });
  });

  it('a delivery that loses the race to write the chunk fails (and is retried), counters unchanged', async () => {
    const { deps, store } = await setup(1, 1);
    const c = chunk(0, ['a@x.org']);
    // Another delivery records the chunk between this one's read and its write.
    const racing = {
      ...deps,
      jobs: Object.assign(Object.create(store), {
        getChunk: async () => null,
      }),
    };
    await processChunk(deps, c);
    await expect(processChunk(racing, c)).rejects.toThrow(/written by another delivery/);
    expect(await store.getJob(JOB)).toMatchObject({ sent: 1, chunksDone: 1 });
  });

  it('says which entries are left and why when it asks for a retry', async () => {
    const { deps } = await setup(1, 2);
    await expect(processChunk(deps, chunk(0, ['throttled@x.org', 'throttled2@x.org']))).rejects.toThrow(
      new ChunkRetryError(`2 of 2 entries of chunk 0 of ${JOB} are to be retried (ACCOUNT_THROTTLED)`),
    );
  });
});
