import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describeError } from '../../lib/errors';
import { type PusherDeps, pushQueuedBatch } from './pusher';

export interface LocalPusherOptions {
  sqs: SQSClient;
  queueUrl: string;
  deps: PusherDeps;
  /** Receive loops, each with up to 10 messages in flight (default 4). */
  concurrency?: number;
  /** Long-poll wait of an empty receive, seconds (default 1). */
  waitTimeSeconds?: number;
  /** Time one message may take, like the Lambda timeout (default 60 s). */
  messageBudgetMs?: number;
  onProblem?: (line: string) => void;
}

export interface LocalPusherStats {
  messages: number;
  records: number;
  deadLettered: number;
  retriedLater: number;
}

export interface LocalPusher {
  stats(): LocalPusherStats;
  /** Resolves once the queue is empty and nothing is in flight (tests and the benchmark). */
  drain(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A stand-in for the Lambda SQS event source mapping, used by `sesflow start`, the tests and the benchmark: receive
 * loops hand each message to the same `pushQueuedBatch` the Lambda runs and delete what is done; a message that is
 * not done stays on the queue and comes back after its visibility timeout, as with `ReportBatchItemFailures`.
 */
export function startLocalPusher(opts: LocalPusherOptions): LocalPusher {
  const concurrency = opts.concurrency ?? 4;
  const budget = opts.messageBudgetMs ?? 60_000;
  const problem = opts.onProblem ?? (() => {});
  const stats: LocalPusherStats = { messages: 0, records: 0, deadLettered: 0, retriedLater: 0 };
  let stopped = false;
  let inFlight = 0;
  const abort = new AbortController();

  const handle = async (m: Message): Promise<boolean> => {
    try {
      const receiveCount = Number(m.Attributes?.ApproximateReceiveCount ?? '1') || 1;
      const out = await pushQueuedBatch(
        opts.deps,
        { body: m.Body ?? '', receiveCount, messageId: m.MessageId ?? '' },
        Date.now() + budget,
      );
      stats.records += out.delivered;
      stats.deadLettered += out.deadLettered;
      if (!out.done) stats.retriedLater++;
      return out.done;
    } catch (err) {
      problem(`push: message ${m.MessageId ?? '?'} failed, retried later: ${describeError(err)}`);
      stats.retriedLater++;
      return false;
    }
  };

  const loop = async () => {
    while (!stopped) {
      let messages: Message[];
      try {
        const got = await opts.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: opts.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: opts.waitTimeSeconds ?? 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: abort.signal },
        );
        messages = got.Messages ?? [];
      } catch (err) {
        if (stopped) return;
        problem(`push: receive failed: ${describeError(err)}`);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (messages.length === 0) continue;
      inFlight += messages.length;
      try {
        const done = await Promise.all(messages.map(handle));
        stats.messages += messages.length;
        const finished = messages.filter((_, i) => done[i]);
        if (finished.length > 0) {
          await opts.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: opts.queueUrl,
              Entries: finished.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
            }),
          );
        }
      } catch (err) {
        problem(`push: delete failed (the messages come back and are recognised by their keys): ${describeError(err)}`);
      } finally {
        inFlight -= messages.length;
      }
    }
  };
  const loops = Array.from({ length: concurrency }, () => loop());

  return {
    stats: () => ({ ...stats }),
    async drain(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const a = await opts.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: opts.queueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        const visible = Number(a.Attributes?.ApproximateNumberOfMessages ?? 0);
        const hidden = Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
        if (visible === 0 && hidden === 0 && inFlight === 0) return;
        if (Date.now() > deadline) {
          throw new Error(`push queue not drained in time (${visible} visible, ${hidden} in flight)`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      stopped = true;
      abort.abort();
      await Promise.allSettled(loops);
    },
  };
}
