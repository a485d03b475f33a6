import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describeError } from '../../lib/errors';
import { type PusherDeps, pushQueuedBatch } from './pusher';

/** Free slots a receive loop waits for before it asks the queue again (the first receive takes what there is). */
const MIN_RECEIVE = 2;

/** How long a done message waits for nine others before its delete is sent anyway. */
const DELETE_WAIT_MS = 20;

export interface LocalPusherOptions {
  sqs: SQSClient;
  queueUrl: string;
  deps: PusherDeps;
  /** Receive loops (default 4); up to 10 messages per loop are in flight. */
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
 * not done stays on the queue and comes back after its visibility timeout, as with `ReportBatchItemFailures`. Unlike
 * one Lambda invocation, which lasts as long as its slowest record, a free slot is refilled at once (the many
 * concurrent invocations of the deployed function behave alike).
 */
export function startLocalPusher(opts: LocalPusherOptions): LocalPusher {
  const concurrency = opts.concurrency ?? 4;
  const maxInFlight = concurrency * 10;
  const budget = opts.messageBudgetMs ?? 60_000;
  const problem = opts.onProblem ?? (() => {});
  const stats: LocalPusherStats = { messages: 0, records: 0, deadLettered: 0, retriedLater: 0 };
  let stopped = false;
  let inFlight = 0;
  const abort = new AbortController();
  /** Receive loops waiting for a free slot: all woken when a message settles. */
  const waiting = new Set<() => void>();
  const waitForSlot = () => new Promise<void>((resolve) => waiting.add(resolve));
  const wakeAll = () => {
    for (const wake of [...waiting]) wake();
    waiting.clear();
  };

  /**
   * Done messages are deleted ten at a time (DeleteMessageBatch), gathered for at most {@link DELETE_WAIT_MS}: one call
   * per message cost about as much CPU as pushing its 500 records. A message whose delete fails comes back after its
   * visibility timeout and is recognised by its key.
   */
  const toDelete: { id: string; handle: string }[] = [];
  let deleteTimer: NodeJS.Timeout | null = null;
  const deletes = new Set<Promise<void>>();
  const flushDeletes = () => {
    if (deleteTimer) clearTimeout(deleteTimer);
    deleteTimer = null;
    while (toDelete.length > 0) {
      const group = toDelete.splice(0, 10);
      const p = opts.sqs
        .send(
          new DeleteMessageBatchCommand({
            QueueUrl: opts.queueUrl,
            Entries: group.map((g, i) => ({ Id: String(i), ReceiptHandle: g.handle })),
          }),
        )
        .then(
          (out) => {
            for (const f of out.Failed ?? []) {
              const id = group[Number(f.Id)]?.id ?? '?';
              problem(`push: message ${id} not deleted, comes back later: ${f.Code ?? ''} ${f.Message ?? ''}`.trim());
            }
          },
          (err) => problem(`push: ${group.length} messages not deleted, come back later: ${describeError(err)}`),
        )
        .finally(() => deletes.delete(p));
      deletes.add(p);
    }
  };
  const deleteLater = (m: Message) => {
    toDelete.push({ id: m.MessageId ?? '?', handle: m.ReceiptHandle! });
    if (toDelete.length >= 10) flushDeletes();
    else deleteTimer ??= setTimeout(flushDeletes, DELETE_WAIT_MS);
  };

  const handle = async (m: Message): Promise<void> => {
    let done = false;
    try {
      const receiveCount = Number(m.Attributes?.ApproximateReceiveCount ?? '1') || 1;
      const out = await pushQueuedBatch(
        opts.deps,
        { body: m.Body ?? '', receiveCount, messageId: m.MessageId ?? '' },
        Date.now() + budget,
      );
      stats.records += out.delivered;
      stats.deadLettered += out.deadLettered;
      done = out.done;
      if (done) deleteLater(m);
      else stats.retriedLater++;
    } catch (err) {
      problem(
        `push: message ${m.MessageId ?? '?'} ${done ? 'not deleted' : 'failed'}, comes back later: ${describeError(err)}`,
      );
      if (!done) stats.retriedLater++;
    } finally {
      stats.messages++;
      inFlight--;
      wakeAll();
    }
  };

  /**
   * One receive loop: keeps receiving while there are free slots; each message is pushed and deleted on its own, so
   * a slow batch holds one slot, not the others received with it.
   */
  const release = async (messages: readonly Message[]) => {
    for (let i = 0; i < messages.length; i += 10) {
      const group = messages.slice(i, i + 10);
      try {
        await opts.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: opts.queueUrl,
            Entries: group.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
          }),
        );
      } catch (err) {
        problem(`push: ${group.length} messages received while stopping come back later: ${describeError(err)}`);
      }
    }
  };

  const loop = async () => {
    while (!stopped) {
      const free = Math.min(10, maxInFlight - inFlight);
      // A receive call costs milliseconds of CPU whatever it brings back: wait for two free slots, not one.
      if (free < Math.min(MIN_RECEIVE, maxInFlight)) {
        await waitForSlot();
        continue;
      }
      let messages: Message[];
      try {
        const got = await opts.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: opts.queueUrl,
            MaxNumberOfMessages: free,
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
      if (stopped) {
        // Received while stopping: handed back at once rather than hidden until their visibility timeout.
        await release(messages);
        return;
      }
      inFlight += messages.length;
      for (const m of messages) void handle(m);
    }
  };
  const loops = Array.from({ length: concurrency }, () => loop());

  return {
    stats: () => ({ ...stats }),
    async drain(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // While messages are being pushed or deleted the queue is not drained: no need to ask it (each call costs
        // milliseconds of CPU here, as much as a few hundred records).
        if (inFlight > 0 || toDelete.length > 0 || deletes.size > 0) {
          if (Date.now() > deadline) throw new Error(`push queue not drained in time (${inFlight} messages in flight)`);
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
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
      wakeAll();
      // A receive in progress is let finish (within its long-poll wait) and what it got handed back: aborting it
      // here would not stop the queue's side, which could still take messages out of sight for their visibility
      // timeout. Aborted only if the queue does not answer in time.
      const giveUp = setTimeout(() => abort.abort(), ((opts.waitTimeSeconds ?? 1) + 5) * 1000);
      await Promise.allSettled(loops);
      clearTimeout(giveUp);
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 20));
      flushDeletes();
      await Promise.allSettled([...deletes]);
    },
  };
}
