import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { describeError } from '../lib/errors';
import { sleep } from '../lib/retry';

export interface BulkWorkerPollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** The queue's ARN, put in each record as Lambda does. */
  queueArn?: string;
  /** The same handler Lambda runs (createBulkWorkerHandler). */
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** Receive loops running at once (Lambda's concurrency); default 2. */
  concurrency?: number;
  /** Messages per batch, at most 10 (ReceiveMessage's limit); default 10. */
  batchSize?: number;
  /**
   * The queue's visibility timeout. While a batch is being handled its messages' visibility is extended every half
   * of it, so a chunk waiting on the rate limiter is not delivered a second time meanwhile. Default 30 s.
   */
  visibilityTimeoutSeconds?: number;
  /** Long-poll wait; default 1 s (stop() waits at most this long). */
  waitTimeSeconds?: number;
  onProblem?: (line: string) => void;
}

export interface BulkWorkerPoller {
  /** Batches handled and messages deleted (succeeded) or left for retry (reported failed). */
  stats(): { batches: number; succeeded: number; failed: number };
  /** Stops receiving and waits for the batches in hand. */
  stop(): Promise<void>;
}

/** An SQS message as Lambda's event source mapping hands it to the function. */
export function toSqsRecord(m: Message, queueArn: string): SQSRecord {
  const attrs = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

/**
 * Lambda's SQS event source mapping, locally: ReceiveMessage (long poll) on fauxqs, the handler on the batch, then
 * DeleteMessageBatch for every record not in `batchItemFailures`. Failed records are left alone: they come back
 * after the queue's visibility timeout, and go to the DLQ after its maxReceiveCount, as in AWS.
 */
export function startBulkWorkerPoller(opts: BulkWorkerPollerOptions): BulkWorkerPoller {
  const counts = { batches: 0, succeeded: 0, failed: 0 };
  const queueArn = opts.queueArn ?? 'arn:aws:sqs:us-east-1:000000000000:local';
  let stopping = false;
  const controller = new AbortController();

  async function once(): Promise<void> {
    const out = await opts.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: opts.queueUrl,
        MaxNumberOfMessages: Math.min(10, opts.batchSize ?? 10),
        WaitTimeSeconds: opts.waitTimeSeconds ?? 1,
        MessageSystemAttributeNames: ['All'],
      }),
      { abortSignal: controller.signal },
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return;
    const records = messages.map((m) => toSqsRecord(m, queueArn));
    const visibility = opts.visibilityTimeoutSeconds ?? 30;
    const heartbeat = setInterval(
      () => {
        opts.sqs
          .send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: opts.queueUrl,
              Entries: records.map((r, k) => ({
                Id: `v${k}`,
                ReceiptHandle: r.receiptHandle,
                VisibilityTimeout: visibility,
              })),
            }),
          )
          .catch((err: unknown) => opts.onProblem?.(`bulk worker: visibility not extended: ${describeError(err)}`));
      },
      (visibility * 1000) / 2,
    );
    let response: SQSBatchResponse;
    try {
      response = await opts.handler({ Records: records });
    } catch (err) {
      // A thrown handler = the whole batch back on the queue (Lambda's behaviour).
      counts.batches++;
      counts.failed += records.length;
      opts.onProblem?.(`bulk worker: batch of ${records.length} failed: ${describeError(err)}`);
      return;
    } finally {
      clearInterval(heartbeat);
    }
    const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    const done = records.filter((r) => !failed.has(r.messageId));
    for (let i = 0; i < done.length; i += 10) {
      const del = await opts.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: opts.queueUrl,
          Entries: done.slice(i, i + 10).map((r, k) => ({ Id: `d${k}`, ReceiptHandle: r.receiptHandle })),
        }),
      );
      if (del.Failed?.length) opts.onProblem?.(`bulk worker: ${del.Failed.length} messages not deleted`);
    }
    counts.batches++;
    counts.succeeded += done.length;
    counts.failed += failed.size;
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        await once();
      } catch (err) {
        if (stopping) return;
        opts.onProblem?.(`bulk worker: ${describeError(err)}`);
        await sleep(500);
      }
    }
  }

  const loops = Array.from({ length: Math.max(1, opts.concurrency ?? 2) }, () => loop());
  return {
    stats: () => ({ ...counts }),
    async stop() {
      stopping = true;
      // Receives that are only waiting are cut short; batches being handled finish.
      setTimeout(() => controller.abort(), (opts.waitTimeSeconds ?? 1) * 1000 + 100).unref();
      await Promise.all(loops);
    },
  };
}
