import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { sleep } from '../../lib/retry';
import { encodeQueueBody, encodeQueuedBatch, type RecordBatch } from './batches';
import { ProducerError } from './errors';
import type { DeadLetterQueue, DeadLetterReason } from './pusher';

/** SendMessageBatch takes at most 10 entries and 1 MiB of payload in all (aws-facts §6.1). */
const MAX_ENTRIES = 10;
const MAX_BATCH_PAYLOAD = 1024 * 1024;
const SEND_ATTEMPTS = 4;

/** Message attributes of a dead letter (names: letters, digits, `.`, `_`, `-`). */
export const DEAD_LETTER_ATTRIBUTES = {
  reason: 'FailureReason',
  status: 'FailureStatus',
  key: 'IdempotencyKey',
  records: 'Records',
  failedAt: 'FailedAt',
} as const;

const text = (v: string): MessageAttributeValue => ({ DataType: 'String', StringValue: v });
const num = (v: number): MessageAttributeValue => ({ DataType: 'Number', StringValue: String(v) });

/** The dead-letter queue on SQS: the batch body as is, the reason in message attributes. */
export class SqsDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly dlqUrl: string,
  ) {}

  async send(body: string, why: DeadLetterReason): Promise<void> {
    const attrs: Record<string, MessageAttributeValue> = {
      [DEAD_LETTER_ATTRIBUTES.reason]: text(why.reason.slice(0, 1000) || 'unknown'),
      [DEAD_LETTER_ATTRIBUTES.status]: num(why.status),
      [DEAD_LETTER_ATTRIBUTES.records]: num(why.records),
      [DEAD_LETTER_ATTRIBUTES.failedAt]: text(why.failedAt),
    };
    if (why.idempotencyKey) attrs[DEAD_LETTER_ATTRIBUTES.key] = text(why.idempotencyKey);
    // A batch body is kept compressed like on the records queue; a message that was not a batch is kept as it came.
    const stored = body.startsWith('{"schema_version"') ? await encodeQueueBody(body) : body;
    await this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.dlqUrl, MessageBody: stored, MessageAttributes: attrs }),
    );
  }
}

/**
 * Sends bodies to a queue with SendMessageBatch (10 per call, at most 1 MiB per call), retrying the entries SQS
 * reports as failed; throws {@link ProducerError} if some still fail, so the caller's batch is retried.
 */
export async function sendBodies(sqs: SQSClient, queueUrl: string, bodies: readonly string[]): Promise<void> {
  let pending = bodies.map((body, i) => ({ id: String(i), body, size: Buffer.byteLength(body) }));
  for (let attempt = 1; pending.length > 0; attempt++) {
    const failed: typeof pending = [];
    for (let i = 0; i < pending.length; ) {
      const group: typeof pending = [];
      let size = 0;
      while (i < pending.length && group.length < MAX_ENTRIES) {
        const e = pending[i]!;
        if (group.length > 0 && size + e.size > MAX_BATCH_PAYLOAD) break;
        group.push(e);
        size += e.size;
        i++;
      }
      try {
        const out = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: group.map((e) => ({ Id: e.id, MessageBody: e.body })),
          }),
        );
        const bad = new Set((out.Failed ?? []).map((f) => f.Id));
        for (const e of group) if (bad.has(e.id)) failed.push(e);
      } catch (err) {
        if (attempt >= SEND_ATTEMPTS)
          throw new ProducerError('could not send record batches to the queue', { cause: err });
        failed.push(...group);
      }
    }
    if (failed.length > 0 && attempt >= SEND_ATTEMPTS) {
      throw new ProducerError(`${failed.length} record batches were refused by the queue`);
    }
    pending = failed;
    if (pending.length > 0) await sleep(100 * 2 ** attempt);
  }
}

/** Enqueues record batches: one queue message each, the request body compressed behind its key (`sfb1:`). */
export async function enqueueBatches(sqs: SQSClient, queueUrl: string, batches: readonly RecordBatch[]): Promise<void> {
  await sendBodies(sqs, queueUrl, await Promise.all(batches.map((b) => encodeQueuedBatch(b))));
}

/** A dead letter as `sesflow push --redrive` shows it. */
export interface DeadLetterSummary {
  reason: string;
  status: number | null;
  records: number | null;
}

export function summariseDeadLetter(m: Message): DeadLetterSummary {
  const a = m.MessageAttributes ?? {};
  const n = (name: string) => {
    const v = a[name]?.StringValue;
    return v === undefined ? null : Number(v);
  };
  return {
    reason:
      a[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue ?? 'moved by the queue after too many receives (no reason kept)',
    status: n(DEAD_LETTER_ATTRIBUTES.status),
    records: n(DEAD_LETTER_ATTRIBUTES.records),
  };
}

export interface RedriveResult {
  /** Dead letters moved back to the records queue (dry run: that would be). */
  moved: number;
  /** Count per reason. */
  reasons: Map<string, number>;
}

/**
 * Moves dead letters back to the records queue (the same bodies, so the same idempotency keys: a batch that did
 * arrive before is recognised), deleting each from the dead-letter queue only once it is on the records queue.
 * Implemented with Receive/Send/Delete rather than StartMessageMoveTask, which fauxqs does not have and which needs
 * the DLQ to be named in the source queue's redrive policy. `dryRun` only counts them and leaves them in place.
 */
export async function redriveDeadLetters(
  sqs: SQSClient,
  opts: { dlqUrl: string; queueUrl: string; dryRun?: boolean; limit?: number; onProgress?: (moved: number) => void },
): Promise<RedriveResult> {
  const reasons = new Map<string, number>();
  const seen: Message[] = [];
  let moved = 0;
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  while (moved < limit) {
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: opts.dlqUrl,
        MaxNumberOfMessages: Math.min(10, limit - moved),
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = got.Messages ?? [];
    if (messages.length === 0) break;
    for (const m of messages) {
      const s = summariseDeadLetter(m);
      reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
    }
    if (opts.dryRun) {
      seen.push(...messages);
      moved += messages.length;
      continue;
    }
    await sendBodies(
      sqs,
      opts.queueUrl,
      messages.map((m) => m.Body ?? ''),
    );
    const del = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: opts.dlqUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
    if (del.Failed?.length) {
      // Already on the records queue: a later redrive would send them twice, which their keys make harmless.
      throw new ProducerError(`${del.Failed.length} dead letters were moved but could not be deleted from the DLQ`);
    }
    moved += messages.length;
    opts.onProgress?.(moved);
  }
  if (opts.dryRun) {
    for (let i = 0; i < seen.length; i += 10) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: opts.dlqUrl,
          Entries: seen.slice(i, i + 10).map((m, j) => ({
            Id: String(j),
            ReceiptHandle: m.ReceiptHandle!,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }
  return { moved, reasons };
}
