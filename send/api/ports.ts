import type { ApiKeyScope, BulkEntryOutcome, BulkSend, MessageStatus } from '../ports';

/**
 * The Email API's and the bulk worker's ports. Adapters: DynamoDB (the single table, lib/table-design.ts) and SQS
 * in AWS and locally (DynamoDB Local, fauxqs); memory in unit tests.
 */

/** Finds the tenant scope of an API key by the key's SHA-256 (the registry stores hashes only). */
export type ApiKeyLookup = (keyHash: string) => Promise<ApiKeyScope | null>;

/** A message SES accepted (`MSG#<messageId>` / `MSG`). */
export interface MessageRecord extends MessageStatus {
  createdAt: string;
  /** Recipients SES was asked to send to (suppressed ones excluded). */
  recipients: number;
  /** Recipients skipped because they are on the suppression list. */
  suppressed: number;
  campaign?: string;
  messageKind?: string;
  /** The bulk job the message came from. */
  jobId?: string;
}

export interface MessageStore {
  /** Writes accepted messages (idempotent: the same message id twice is one item). */
  putMessages(records: readonly MessageRecord[]): Promise<void>;
  getMessage(messageId: string): Promise<MessageRecord | null>;
}

/** A bulk job as created by `POST /v1/batches` (`JOB#<jobId>` / `JOB`), with its counters. */
export interface JobRecord {
  jobId: string;
  tenantId: string;
  createdAt: string;
  updatedAt: string;
  destinations: number;
  chunks: number;
  /** Entries with a final outcome so far (a retryable failure is not final). */
  sent: number;
  suppressed: number;
  failed: number;
  /** Chunks whose every entry has a final outcome. */
  chunksDone: number;
  campaign?: string;
  messageKind?: string;
}

/** One chunk's per-entry outcomes (`JOB#<jobId>` / `CHUNK#<n>`), by position in the chunk; null = not final yet. */
export interface ChunkState {
  jobId: string;
  chunk: number;
  /** Optimistic-lock counter: each write expects the version it read. */
  version: number;
  attempts: number;
  outcomes: (BulkEntryOutcome | null)[];
}

/** What one processing of a chunk changes: the new outcomes and the job counters' increments. */
export interface ChunkUpdate {
  jobId: string;
  chunk: number;
  /** The version read (0 = no item yet). */
  expectedVersion: number;
  attempts: number;
  outcomes: (BulkEntryOutcome | null)[];
  delta: { sent: number; suppressed: number; failed: number; chunksDone: number };
}

export interface JobStore {
  createJob(job: JobRecord): Promise<void>;
  getJob(jobId: string): Promise<JobRecord | null>;
  getChunk(jobId: string, chunk: number): Promise<ChunkState | null>;
  /**
   * Writes a chunk's outcomes and adds the deltas to the job's counters, atomically, if the chunk is still at
   * `expectedVersion`; throws ChunkConflictError otherwise (another delivery of the same chunk got there first).
   */
  recordChunk(update: ChunkUpdate): Promise<void>;
  /** Failed entries of the job (final failures), at most `limit`, in chunk order. */
  listFailures(jobId: string, limit: number): Promise<{ to: string; error: string }[]>;
}

/** One SQS message of a bulk job: the content and up to 50 destinations. */
export interface ChunkMessage extends BulkSend {
  jobId: string;
  chunk: number;
}

export interface JobQueue {
  /** Enqueues every chunk, or throws (after retrying the entries SQS refused). */
  enqueue(chunks: readonly ChunkMessage[]): Promise<void>;
}
