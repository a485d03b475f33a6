import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { describeError, SesflowError } from '../lib/errors';
import { bulkContent, ChunkMessageSchema, isFinal, mergeAttempt, pendingPositions } from './api/jobs';
import type { ChunkMessage, JobStore, MessageRecord, MessageStore } from './api/ports';
import type { BulkEntryOutcome, Sender } from './ports';

/** A chunk that still has entries worth retrying (throttled, transient): its SQS message is reported failed. */
export class ChunkRetryError extends SesflowError {
  override name = 'ChunkRetryError';
}

/** An SQS message that is not a bulk chunk: never succeeds, so it fails until the queue's DLQ takes it. */
export class BadChunkError extends SesflowError {
  override name = 'BadChunkError';
}

export interface BulkWorkerDeps {
  sender: Sender;
  jobs: JobStore;
  messages: MessageStore;
  now?: () => Date;
  /** One structured line per chunk: ids and counts only, never addresses or content. */
  log?: (entry: ChunkLog) => void;
}

export interface ChunkLog {
  jobId: string;
  chunk: number;
  tenant: string;
  attempt: number;
  sent: number;
  suppressed: number;
  failed: number;
  retrying: number;
  /** Entries already final from an earlier delivery (skipped). */
  skipped: number;
}

/** The sender's refusals that hold for every entry of the chunk and that a retry will not change. */
function refusesWholeChunk(err: unknown): boolean {
  return (
    err instanceof Error &&
    [
      'TenantPausedError',
      'SendingPausedException',
      'AccountSuspendedException',
      'InvalidMessageError',
      'UnknownTenantError',
    ].includes(err.name)
  );
}

/**
 * Sends one chunk of a bulk job, exactly once per entry as far as the store can tell: entries with a final outcome
 * from an earlier delivery are skipped, the others go to `Sender.sendBulk`, the new outcomes and the job counters'
 * increments are written in one transaction, and each sent entry gets its message status item. A paused tenant's
 * entries fail for good (the pause is deliberate). Throws ChunkRetryError when entries are left to retry, so the
 * SQS message is retried; a crash between SES and the write sends those entries again (at least once).
 */
export async function processChunk(deps: BulkWorkerDeps, chunk: ChunkMessage): Promise<ChunkLog> {
  const now = deps.now ?? (() => new Date());
  const size = chunk.destinations.length;
  const state = await deps.jobs.getChunk(chunk.jobId, chunk.chunk);
  const positions = pendingPositions(size, state);
  const base = { jobId: chunk.jobId, chunk: chunk.chunk, tenant: chunk.tenantId, attempt: (state?.attempts ?? 0) + 1 };
  if (positions.length === 0) {
    const done = { ...base, sent: 0, suppressed: 0, failed: 0, retrying: 0, skipped: size };
    deps.log?.(done);
    return done;
  }
  const destinations = positions.map((p) => chunk.destinations[p]!);
  let results: BulkEntryOutcome[];
  try {
    results = await deps.sender.sendBulk({
      tenantId: chunk.tenantId,
      ...bulkContent(chunk),
      destinations,
    });
  } catch (err) {
    if (!refusesWholeChunk(err)) throw err;
    const error = describeError(err);
    results = destinations.map((d) => ({ to: d.to, status: 'failed', error, retryable: false }));
  }
  const update = mergeAttempt(chunk.jobId, chunk.chunk, size, state, positions, results);
  const at = now().toISOString();
  const sent: MessageRecord[] = results
    .filter((r) => r.status === 'sent' && r.messageId)
    .map((r) => ({
      messageId: r.messageId!,
      tenantId: chunk.tenantId,
      status: 'sent',
      createdAt: at,
      updatedAt: at,
      recipients: 1,
      suppressed: 0,
      jobId: chunk.jobId,
      ...(chunk.campaign ? { campaign: chunk.campaign } : {}),
      ...(chunk.messageKind ? { messageKind: chunk.messageKind } : {}),
    }));
  await deps.messages.putMessages(sent);
  await deps.jobs.recordChunk(update);
  const retrying = update.outcomes.filter((o) => !isFinal(o)).length;
  const entry: ChunkLog = {
    ...base,
    sent: update.delta.sent,
    suppressed: update.delta.suppressed,
    failed: update.delta.failed,
    retrying,
    skipped: size - positions.length,
  };
  deps.log?.(entry);
  if (retrying > 0) {
    const reasons = [...new Set(update.outcomes.filter((o) => o && !isFinal(o)).map((o) => o!.error ?? 'failed'))];
    throw new ChunkRetryError(
      `${retrying} of ${size} entries of chunk ${chunk.chunk} of ${chunk.jobId} are to be retried (${reasons.join(', ')})`,
    );
  }
  return entry;
}

/** Parses an SQS record's body as a chunk; a malformed one is a BadChunkError with the first reason. */
export function parseChunkRecord(record: Pick<SQSRecord, 'body' | 'messageId'>): ChunkMessage {
  let value: unknown;
  try {
    value = JSON.parse(record.body);
  } catch {
    throw new BadChunkError(`SQS message ${record.messageId} is not JSON`);
  }
  const parsed = ChunkMessageSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BadChunkError(
      `SQS message ${record.messageId} is not a bulk chunk (${issue?.path.join('.') || 'body'}: ${issue?.message})`,
    );
  }
  return parsed.data;
}

/**
 * The SQS handler (Lambda and the local poller run the same code): each record is processed on its own, and the
 * records that threw are reported in `batchItemFailures`, so only they come back after the visibility timeout.
 */
export function createBulkWorkerHandler(
  deps: BulkWorkerDeps,
  opts: { onRecordError?: (messageId: string, err: unknown) => void } = {},
): (event: SQSEvent) => Promise<SQSBatchResponse> {
  const recordHandler = async (record: SQSRecord) => {
    try {
      await processChunk(deps, parseChunkRecord(record));
    } catch (err) {
      opts.onRecordError?.(record.messageId, err);
      throw err;
    }
  };
  // One processor per call: it holds the batch's state, and the local poller runs several batches at once.
  // A fully failed batch is answered with every id (same effect as throwing, and the local poller can read it).
  return async (event) =>
    processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), { throwOnFullBatchFailure: false });
}
