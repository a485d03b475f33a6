import { ChunkConflictError } from './errors';
import type { ChunkState, ChunkUpdate, JobRecord, JobStore, MessageRecord, MessageStore } from './ports';

/** Messages, jobs and chunks in memory (unit tests), with the DynamoDB store's version check. */
export class MemorySendStore implements MessageStore, JobStore {
  readonly messages = new Map<string, MessageRecord>();
  readonly jobs = new Map<string, JobRecord>();
  readonly chunks = new Map<string, ChunkState>();

  async putMessages(records: readonly MessageRecord[]): Promise<void> {
    for (const r of records) this.messages.set(r.messageId, { ...r });
  }

  async getMessage(messageId: string): Promise<MessageRecord | null> {
    return this.messages.get(messageId) ?? null;
  }

  async createJob(job: JobRecord): Promise<void> {
    if (this.jobs.has(job.jobId)) throw new Error(`job ${job.jobId} exists`);
    this.jobs.set(job.jobId, { ...job });
  }

  async getJob(jobId: string): Promise<JobRecord | null> {
    const j = this.jobs.get(jobId);
    return j ? { ...j } : null;
  }

  async getChunk(jobId: string, chunk: number): Promise<ChunkState | null> {
    const c = this.chunks.get(`${jobId}#${chunk}`);
    return c ? { ...c, outcomes: [...c.outcomes] } : null;
  }

  async recordChunk(u: ChunkUpdate): Promise<void> {
    const key = `${u.jobId}#${u.chunk}`;
    const job = this.jobs.get(u.jobId);
    if ((this.chunks.get(key)?.version ?? 0) !== u.expectedVersion || !job)
      throw new ChunkConflictError(`chunk ${u.chunk} of ${u.jobId} was written by another delivery`);
    this.chunks.set(key, {
      jobId: u.jobId,
      chunk: u.chunk,
      version: u.expectedVersion + 1,
      attempts: u.attempts,
      outcomes: [...u.outcomes],
    });
    job.sent += u.delta.sent;
    job.suppressed += u.delta.suppressed;
    job.failed += u.delta.failed;
    job.chunksDone += u.delta.chunksDone;
  }

  async listFailures(jobId: string, limit: number): Promise<{ to: string; error: string }[]> {
    const out: { to: string; error: string }[] = [];
    const chunks = [...this.chunks.values()].filter((c) => c.jobId === jobId).sort((a, b) => a.chunk - b.chunk);
    for (const c of chunks)
      for (const o of c.outcomes)
        if (o?.status === 'failed' && !o.retryable && out.length < limit) out.push({ to: o.to, error: o.error ?? '' });
    return out;
  }
}
