import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describeError } from '../../lib/errors';
import { sleep } from '../../lib/retry';
import { type PusherDeps, pushQueuedBatch } from './pusher';

/**
 * Messages received ahead of a free slot, beyond those being pushed: a receive call costs milliseconds of CPU whatever
 * it brings back, so the loops ask for ten at a time (the most SQS gives) and keep them until a slot frees, rather
 * than asking for the one or two slots just freed.
 */
const PREFETCH = 10;

/**
 * How long a done message waits for nine others before its delete is sent anyway (at once when nothing else is being
 * pushed or held).
 */
const DELETE_WAIT_MS = 200;

export interface LocalPusherOptions {
  sqs: SQSClient;
  queueUrl: string;
  deps: PusherDeps;
  /**
   * Receive loops (default 4); up to 10 messages per loop are in flight (pushed at once), and up to 10 more are held
   * received, waiting for a free slot.
   */
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
  /** Messages received and waiting for a free slot. */
  const held: Message[] = [];
  /** Receive calls under way. */
  let receiving = 0;
  const abort = new AbortController();
  /** Receive loops waiting for room: all woken when a message settles. */
  const waiting = new Set<() => void>();
  const waitForSlot = () => new Promise<void>((resolve) => waiting.add(resolve));
  const wakeAll = () => {
    for (const wake of [...waiting]) wake();
    waiting.clear();
  };

  /**
   * Done messages are deleted ten at a time (DeleteMessageBatch), gathered for at most {@link DELETE_WAIT_MS}, or until
   * nothing else is being pushed or held: one call per message cost about as much CPU as pushing its 500 records. A
   * message whose delete fails comes back after its visibility timeout and is recognised by its key.
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
      startHeld();
      if (inFlight === 0 && toDelete.length > 0) flushDeletes();
      wakeAll();
    }
  };

  /** Starts held messages while there are free slots (none once stopping: those are handed back). */
  const startHeld = () => {
    while (!stopped && inFlight < maxInFlight && held.length > 0) {
      inFlight++;
      void handle(held.shift()!);
    }
  };

  /**
   * Received messages handed back at once (visibility 0), rather than hidden until their visibility timeout: those
   * received while stopping, and those still held when stopped.
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

  /**
   * One receive loop: asks for ten messages whenever there is room for ten beside those being pushed, held and being
   * received; each message is pushed and deleted on its own, so a slow batch holds one slot, not the others received
   * with it.
   */
  const loop = async () => {
    while (!stopped) {
      const room = maxInFlight + PREFETCH - inFlight - held.length - receiving * 10;
      if (room < 10) {
        await waitForSlot();
        continue;
      }
      let messages: Message[];
      receiving++;
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
        await sleep(500);
        continue;
      } finally {
        receiving--;
      }
      if (stopped) {
        // Received while stopping: handed back at once rather than hidden until their visibility timeout.
        await release(messages);
        return;
      }
      held.push(...messages);
      startHeld();
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
        if (inFlight > 0 || held.length > 0 || toDelete.length > 0 || deletes.size > 0) {
          if (Date.now() > deadline) throw new Error(`push queue not drained in time (${inFlight} messages in flight)`);
          await sleep(20);
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
        await sleep(50);
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
      await release(held.splice(0));
      while (inFlight > 0) await sleep(20);
      flushDeletes();
      await Promise.allSettled([...deletes]);
    },
  };
}
