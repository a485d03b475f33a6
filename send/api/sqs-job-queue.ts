import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { sleep } from '../../lib/retry';
import { EnqueueError } from './errors';
import type { ChunkMessage, JobQueue } from './ports';

/** SendMessageBatch: at most 10 messages and 1 MiB in all (aws-facts §6.1; it was 256 KiB before 2025). */
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 1024 * 1024;
const ATTEMPTS = 4;
/** Batches sent at once for one job (a 10,000-destination job is 20 batches). */
const CONCURRENCY = 4;

/** Groups message bodies into SendMessageBatch calls by count and by total size. */
export function packBatches(bodies: readonly string[]): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let size = 0;
  for (const b of bodies) {
    const n = Buffer.byteLength(b, 'utf8');
    if (n > MAX_BATCH_BYTES) throw new EnqueueError(`a bulk chunk is ${n} bytes, over SQS's 1 MiB`);
    if (cur.length === MAX_BATCH_ENTRIES || size + n > MAX_BATCH_BYTES) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(b);
    size += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** The bulk job queue on SQS (fauxqs locally): one message per chunk, entries SQS refuses retried with backoff. */
export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(chunks: readonly ChunkMessage[]): Promise<void> {
    const batches = packBatches(chunks.map((c) => JSON.stringify(c)));
    for (let i = 0; i < batches.length; i += CONCURRENCY) {
      await Promise.all(batches.slice(i, i + CONCURRENCY).map((b) => this.sendBatch(b)));
    }
  }

  private async sendBatch(bodies: string[]): Promise<void> {
    let entries: SendMessageBatchRequestEntry[] = bodies.map((MessageBody, i) => ({ Id: `m${i}`, MessageBody }));
    for (let attempt = 0; entries.length > 0; attempt++) {
      if (attempt >= ATTEMPTS) throw new EnqueueError(`SQS refused ${entries.length} bulk chunks`);
      if (attempt > 0) await sleep(100 * 2 ** attempt);
      const out = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
      // Sender faults (a malformed entry) never succeed on retry; the others (throttling, service) may.
      const fatal = (out.Failed ?? []).find((f) => f.SenderFault);
      if (fatal) throw new EnqueueError(`SQS refused a bulk chunk: ${fatal.Code ?? 'sender fault'}`);
      const failedIds = new Set((out.Failed ?? []).map((f) => f.Id));
      entries = entries.filter((e) => failedIds.has(e.Id));
    }
  }
}
