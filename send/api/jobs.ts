import { z } from 'zod';
import type { BulkEntryOutcome } from '../ports';
import type { ChunkMessage, ChunkState, ChunkUpdate, JobRecord } from './ports';
import {
  AddressSchema,
  type BatchBody,
  BulkDestinationSchema,
  CHUNK_SIZE,
  FromSchema,
  TagValueSchema,
} from './schemas';

/** The message a batch, its chunks and their SendBulkEmail call share; unset optional fields are left out. */
export function bulkContent(m: Pick<ChunkMessage, 'from' | 'subject' | 'html' | 'text' | 'campaign' | 'messageKind'>) {
  return {
    from: m.from,
    subject: m.subject,
    ...(m.html !== undefined ? { html: m.html } : {}),
    ...(m.text !== undefined ? { text: m.text } : {}),
    ...(m.campaign !== undefined ? { campaign: m.campaign } : {}),
    ...(m.messageKind !== undefined ? { messageKind: m.messageKind } : {}),
  };
}

/** Cuts a validated batch into SQS messages of at most 50 destinations (one SendBulkEmail call each). */
export function splitIntoChunks(jobId: string, tenantId: string, body: BatchBody): ChunkMessage[] {
  const chunks: ChunkMessage[] = [];
  for (let i = 0; i < body.destinations.length; i += CHUNK_SIZE) {
    chunks.push({
      jobId,
      chunk: chunks.length,
      tenantId,
      ...bulkContent(body),
      destinations: body.destinations.slice(i, i + CHUNK_SIZE),
    });
  }
  return chunks;
}

/** The worker's view of an SQS message body: validated again, since anything may have written to the queue. */
export const ChunkMessageSchema = z.object({
  jobId: z.string().regex(/^job-[0-9a-f-]{36}$/),
  chunk: z.number().int().min(0),
  tenantId: z.string().min(1).max(64),
  from: FromSchema,
  subject: z.string().min(1),
  html: z.string().optional(),
  text: z.string().optional(),
  campaign: TagValueSchema.optional(),
  messageKind: TagValueSchema.optional(),
  destinations: z
    .array(BulkDestinationSchema.extend({ to: AddressSchema }))
    .min(1)
    .max(CHUNK_SIZE),
});

/** An outcome is final unless it is a failure worth retrying (throttling, a transient SES error). */
export function isFinal(o: BulkEntryOutcome | null | undefined): o is BulkEntryOutcome {
  return !!o && !(o.status === 'failed' && o.retryable);
}

/** Positions in the chunk that still need sending (no outcome yet, or a retryable failure). */
export function pendingPositions(size: number, state: ChunkState | null): number[] {
  const out: number[] = [];
  for (let i = 0; i < size; i++) if (!isFinal(state?.outcomes[i])) out.push(i);
  return out;
}

/**
 * Merges the outcomes of one attempt (for `positions`, in order) into the chunk's state, and counts what became
 * final in this attempt only, so the job's counters add each entry exactly once whatever the number of attempts.
 */
export function mergeAttempt(
  jobId: string,
  chunk: number,
  size: number,
  state: ChunkState | null,
  positions: readonly number[],
  results: readonly BulkEntryOutcome[],
): ChunkUpdate {
  if (results.length !== positions.length)
    throw new Error(`the sender answered ${results.length} outcomes for ${positions.length} entries`);
  const outcomes: (BulkEntryOutcome | null)[] = Array.from({ length: size }, (_, i) => state?.outcomes[i] ?? null);
  const delta = { sent: 0, suppressed: 0, failed: 0, chunksDone: 0 };
  positions.forEach((pos, k) => {
    const r = results[k]!;
    outcomes[pos] = r;
    if (!isFinal(r)) return;
    if (r.status === 'sent') delta.sent++;
    else if (r.status === 'suppressed') delta.suppressed++;
    else delta.failed++;
  });
  if (positions.length > 0 && outcomes.every(isFinal)) delta.chunksDone = 1;
  return {
    jobId,
    chunk,
    expectedVersion: state?.version ?? 0,
    attempts: (state?.attempts ?? 0) + 1,
    outcomes,
    delta,
  };
}

export type JobStatus = 'queued' | 'in_progress' | 'completed';

/** What `GET /v1/batches/{id}` answers: the counters, and a status derived from them. */
export function jobView(job: JobRecord, failures: { to: string; error: string }[]) {
  const done = job.sent + job.suppressed + job.failed;
  const status: JobStatus = job.chunksDone >= job.chunks ? 'completed' : done > 0 ? 'in_progress' : 'queued';
  return {
    jobId: job.jobId,
    tenantId: job.tenantId,
    status,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.campaign ? { campaign: job.campaign } : {}),
    destinations: job.destinations,
    sent: job.sent,
    suppressed: job.suppressed,
    failed: job.failed,
    pending: job.destinations - done,
    chunks: job.chunks,
    chunksDone: job.chunksDone,
    failures,
  };
}
