import { backoffCeiling, sleep as defaultSleep } from '../../lib/retry';
import { queuedBatches, type RecordBatch, splitBatch } from './batches';
import type { BatchLimits, RetryPolicy } from './config';
import { MalformedBatchError, PushRefusedError, PushRetryLaterError } from './errors';
import type { ApiAnswer, ReportingApi } from './reporting-api-client';

/** Why a batch was dead-lettered: kept as message attributes beside the batch body, so redrive can send it as is. */
export interface DeadLetterReason {
  /** HTTP status of the refusal (0: no answer, or the message was not a batch). */
  status: number;
  /** One line: what the receiver said, or why the batch was given up. */
  reason: string;
  idempotencyKey: string | null;
  records: number;
  failedAt: string;
  /** Tenants of the batch's records (for the summary of a backfill). */
  tenants?: string[];
}

/** The dead-letter queue as the pusher uses it. */
export interface DeadLetterQueue {
  send(body: string, why: DeadLetterReason): Promise<void>;
  /** Whether it keeps a refusal of this status (default: every one); when not, the batch's settling throws. */
  accepts?(status: number): boolean;
}

export type LogFn = (level: 'info' | 'warn' | 'error', message: string, keys: Record<string, unknown>) => void;

export interface PusherDeps {
  api: ReportingApi;
  deadLetters: DeadLetterQueue;
  limits: BatchLimits;
  retry: RetryPolicy;
  /** The queue's maxReceiveCount: at the last receive, what is still undelivered is dead-lettered with its reason. */
  maxReceiveCount: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  log?: LogFn;
}

/** What became of one batch. */
export type BatchOutcome =
  | { kind: 'delivered'; attempts: number; replayed: boolean }
  | { kind: 'refused'; status: number; reason: string; attempts: number }
  | { kind: 'unfinished'; reason: string; attempts: number };

/**
 * Which answers are worth retrying: no answer (timeout, dropped connection), 408, 409 (the same key in progress),
 * 425, 429 and every 5xx. Any other 4xx is a refusal that the same request would get again.
 */
export function isRetryable(status: number): boolean {
  return status === 0 || status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

/**
 * Refusals that may concern only some records, and how to isolate them: a 400 (a bad record) and a 413 (too large)
 * split by tenant and then in halves; a 422 (a refused tenant) splits by tenant only.
 */
const ISOLATE: ReadonlyMap<number, 'halves' | 'tenants'> = new Map([
  [400, 'halves'],
  [413, 'halves'],
  [422, 'tenants'],
]);

/**
 * Delay before attempt `attempt + 1`: exponential backoff with full jitter (uniform in [0, min(cap, base·2^(n-1))]),
 * and never less than the receiver's `Retry-After`.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number, retryAfterMs: number | null) {
  const jittered = random() * backoffCeiling(attempt, policy);
  return retryAfterMs === null ? jittered : retryAfterMs + random() * policy.baseDelayMs;
}

const describe = (a: ApiAnswer) =>
  a.status === 0 ? (a.error ?? 'no answer') : `HTTP ${a.status}: ${a.error ?? ''}`.trim();

/**
 * Posts one batch until it is delivered, refused, or out of attempts or time (`deadline`, epoch ms). Every attempt
 * sends the same body with the same `Idempotency-Key`, so a batch that arrived but whose answer was lost is not
 * stored twice.
 */
export async function deliverBatch(deps: PusherDeps, batch: RecordBatch, deadline: number): Promise<BatchOutcome> {
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const now = deps.now ?? Date.now;
  let last = 'not attempted';
  for (let attempt = 1; attempt <= deps.retry.maxAttempts; attempt++) {
    const timeout = Math.max(1, Math.min(deps.retry.timeoutMs, deadline - now()));
    const answer = await deps.api.postBatch(
      batch.idempotencyKey,
      batch.gzip ? { gzip: batch.gzip } : batch.body,
      timeout,
    );
    if (answer.status >= 200 && answer.status < 300) {
      return { kind: 'delivered', attempts: attempt, replayed: answer.replayed };
    }
    last = describe(answer);
    if (!isRetryable(answer.status)) return { kind: 'refused', status: answer.status, reason: last, attempts: attempt };
    if (attempt === deps.retry.maxAttempts) break;
    const delay = backoffDelay(attempt, deps.retry, random, answer.retryAfterMs);
    if (now() + delay + Math.min(deps.retry.timeoutMs, 1000) > deadline) {
      return { kind: 'unfinished', reason: `${last} (no time left for another attempt)`, attempts: attempt };
    }
    deps.log?.('warn', 'batch attempt failed, retrying', {
      idempotencyKey: batch.idempotencyKey,
      records: batch.size,
      attempt,
      answer: last,
      delayMs: Math.round(delay),
    });
    await sleep(delay);
  }
  return {
    kind: 'unfinished',
    reason: `${last} (after ${deps.retry.maxAttempts} attempts)`,
    attempts: deps.retry.maxAttempts,
  };
}

interface Isolated {
  delivered: number;
  refused: { batch: RecordBatch; status: number; reason: string }[];
  unfinished: { batch: RecordBatch; reason: string }[];
}

/** Delivers a batch; a refusal that may concern only some records is retried in parts (by tenant, then halves). */
async function deliverIsolating(deps: PusherDeps, batch: RecordBatch, deadline: number): Promise<Isolated> {
  const out = await deliverBatch(deps, batch, deadline);
  if (out.kind === 'delivered') return { delivered: batch.size, refused: [], unfinished: [] };
  if (out.kind === 'unfinished') return { delivered: 0, refused: [], unfinished: [{ batch, reason: out.reason }] };
  const how = ISOLATE.get(out.status);
  const parts = how && (how === 'halves' || batch.tenants.length > 1) ? splitBatch(batch) : null;
  if (!parts) return { delivered: 0, refused: [{ batch, status: out.status, reason: out.reason }], unfinished: [] };
  const results = await Promise.all(parts.map((p) => deliverIsolating(deps, p, deadline)));
  return {
    delivered: results.reduce((n, r) => n + r.delivered, 0),
    refused: results.flatMap((r) => r.refused),
    unfinished: results.flatMap((r) => r.unfinished),
  };
}

/** What became of one queue message. `done: false` means: leave it on the queue, it is retried later. */
export interface QueuedBatchResult {
  done: boolean;
  delivered: number;
  deadLettered: number;
  reason?: string;
}

/**
 * Pushes one queue message (a record batch): delivers it, sends what the receiver refuses to the dead-letter queue
 * with the reason (isolating the refused records: by tenant, or in halves for a bad record), and reports what could not be delivered yet as not done,
 * so the queue retries the message (delivered parts are then recognised by their keys). At the queue's last receive
 * (`receiveCount >= maxReceiveCount`), what is still undelivered is dead-lettered with its reason instead of being
 * dropped by the queue's own redrive without one. A message that is not a batch is dead-lettered at once.
 */
export async function pushQueuedBatch(
  deps: PusherDeps,
  message: { body: string; receiveCount: number; messageId: string },
  deadline: number,
): Promise<QueuedBatchResult> {
  const failedAt = () => new Date((deps.now ?? Date.now)()).toISOString();
  const malformed = async (err: MalformedBatchError): Promise<QueuedBatchResult> => {
    await deps.deadLetters.send(message.body, {
      status: 0,
      reason: err.message,
      idempotencyKey: null,
      records: 0,
      failedAt: failedAt(),
    });
    deps.log?.('error', 'malformed queue message dead-lettered', { messageId: message.messageId, reason: err.message });
    return { done: true, delivered: 0, deadLettered: 1, reason: err.message };
  };
  let batches: RecordBatch[];
  let results: Isolated[];
  try {
    batches = await queuedBatches(message.body, deps.limits);
    // A compressed batch is first read when the receiver refuses it (to isolate the refused records): it may only
    // then turn out not to be a batch. Such a message holds that one batch, so nothing of it was delivered.
    results = await Promise.all(batches.map((b) => deliverIsolating(deps, b, deadline)));
  } catch (err) {
    if (!(err instanceof MalformedBatchError)) throw err;
    return malformed(err);
  }
  const refused = results.flatMap((r) => r.refused);
  const unfinished = results.flatMap((r) => r.unfinished);
  const delivered = results.reduce((n, r) => n + r.delivered, 0);
  for (const r of refused) {
    await deps.deadLetters.send(r.batch.body, {
      status: r.status,
      reason: r.reason,
      idempotencyKey: r.batch.idempotencyKey,
      records: r.batch.size,
      failedAt: failedAt(),
    });
    deps.log?.('error', 'batch refused, dead-lettered', {
      messageId: message.messageId,
      idempotencyKey: r.batch.idempotencyKey,
      records: r.batch.size,
      tenants: r.batch.tenants,
      status: r.status,
      reason: r.reason,
    });
  }
  let deadLettered = refused.length;
  if (unfinished.length === 0) return { done: true, delivered, deadLettered };
  const reason = unfinished[0]!.reason;
  if (message.receiveCount < deps.maxReceiveCount) return { done: false, delivered, deadLettered, reason };
  for (const u of unfinished) {
    await deps.deadLetters.send(u.batch.body, {
      status: 0,
      reason: `given up at receive ${message.receiveCount} of ${deps.maxReceiveCount}: ${u.reason}`,
      idempotencyKey: u.batch.idempotencyKey,
      records: u.batch.size,
      failedAt: failedAt(),
    });
    deadLettered++;
  }
  deps.log?.('error', 'batch given up, dead-lettered', { messageId: message.messageId, reason });
  return { done: true, delivered, deadLettered, reason };
}

/**
 * The record handler of the SQS Lambda: pushes the message and throws when it must be retried later (the batch
 * processor then reports it in `batchItemFailures`; it is never acknowledged while undelivered).
 */
export async function pushSqsMessage(
  deps: PusherDeps,
  record: { messageId: string; body: string; attributes: { ApproximateReceiveCount?: string } },
  deadline: number,
): Promise<QueuedBatchResult> {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1') || 1;
  const result = await pushQueuedBatch(
    deps,
    { body: record.body, receiveCount, messageId: record.messageId },
    deadline,
  );
  if (!result.done) throw new PushRetryLaterError(`batch not delivered yet: ${result.reason ?? 'unknown reason'}`);
  return result;
}

/**
 * Settles one batch outside the queue (the backfill): delivered, or refused parts dead-lettered with their reason.
 * Throws when a refused part cannot be dead-lettered (no DLQ) or the batch could not be delivered in time, so the
 * caller stops and resumes later from its checkpoint.
 */
export async function settleBatch(
  deps: Omit<PusherDeps, 'deadLetters'> & { deadLetters: DeadLetterQueue | null },
  batch: RecordBatch,
  deadline: number,
): Promise<{ delivered: number; deadLettered: number }> {
  const out = await deliverIsolating(deps as PusherDeps, batch, deadline);
  if (out.unfinished.length > 0) {
    throw new PushRetryLaterError(`a batch could not be delivered: ${out.unfinished[0]!.reason}`);
  }
  // Nothing is dead-lettered unless every refused part can be: a refusal kept nowhere stops the caller.
  const kept = deps.deadLetters;
  const unkept = out.refused.find((r) => !kept || kept.accepts?.(r.status) === false);
  if (unkept || !kept) {
    const r = unkept ?? out.refused[0];
    if (r) throw new PushRefusedError(`External Reporting refused a batch of ${r.batch.size} records: ${r.reason}`);
    return { delivered: out.delivered, deadLettered: 0 };
  }
  for (const r of out.refused) {
    await kept.send(r.batch.body, {
      status: r.status,
      reason: r.reason,
      idempotencyKey: r.batch.idempotencyKey,
      records: r.batch.size,
      failedAt: new Date((deps.now ?? Date.now)()).toISOString(),
      tenants: r.batch.tenants,
    });
  }
  return { delivered: out.delivered, deadLettered: out.refused.length };
}
