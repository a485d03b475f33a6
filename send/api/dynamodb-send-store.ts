import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { sleep } from '../../lib/retry';
import { keys } from '../../lib/table-design';
import type { BulkEntryOutcome } from '../ports';
import { ChunkConflictError } from './errors';
import type { ChunkState, ChunkUpdate, JobRecord, JobStore, MessageRecord, MessageStore } from './ports';

/** BatchWriteItem takes at most 25 items; unprocessed ones are retried with a growing pause. */
const BATCH_WRITE_MAX = 25;
const BATCH_WRITE_ATTEMPTS = 8;

/** Outcomes as stored: no undefined fields (DynamoDB refuses them), null for "not final yet". */
function storedOutcome(o: BulkEntryOutcome | null): Record<string, unknown> | null {
  if (!o) return null;
  const out: Record<string, unknown> = { to: o.to, status: o.status };
  if (o.messageId) out.messageId = o.messageId;
  if (o.error) out.error = o.error;
  if (o.retryable) out.retryable = true;
  return out;
}

function readOutcome(v: unknown): BulkEntryOutcome | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  return {
    to: String(o.to),
    status: o.status as BulkEntryOutcome['status'],
    ...(typeof o.messageId === 'string' ? { messageId: o.messageId } : {}),
    ...(typeof o.error === 'string' ? { error: o.error } : {}),
    ...(o.retryable === true ? { retryable: true } : {}),
  };
}

type Item = Record<string, unknown>;

/** The item's text attributes among `names` (one that is absent or not text is left out). */
function texts<K extends string>(item: Item, ...names: K[]): { [P in K]?: string } {
  const out: { [P in K]?: string } = {};
  for (const n of names) {
    const v = item[n];
    if (typeof v === 'string') out[n] = v;
  }
  return out;
}

/** What a message item and a job item both hold. */
const sharedFields = (item: Item) => ({
  tenantId: String(item.tenantId),
  createdAt: String(item.createdAt),
  updatedAt: String(item.updatedAt),
  suppressed: Number(item.suppressed ?? 0),
  ...texts(item, 'campaign', 'messageKind'),
});

function readMessage(item: Item): MessageRecord {
  return {
    messageId: String(item.messageId),
    ...sharedFields(item),
    status: String(item.status),
    recipients: Number(item.recipients ?? 0),
    ...texts(item, 'jobId'),
  };
}

function readJob(item: Item): JobRecord {
  return {
    jobId: String(item.jobId),
    ...sharedFields(item),
    destinations: Number(item.destinations),
    chunks: Number(item.chunks),
    sent: Number(item.sent ?? 0),
    failed: Number(item.failed ?? 0),
    chunksDone: Number(item.chunksDone ?? 0),
  };
}

/**
 * Message status items (`MSG#<messageId>` / `MSG`), bulk jobs (`JOB#<jobId>` / `JOB`) and their chunks' per-entry
 * outcomes (`JOB#<jobId>` / `CHUNK#<n>`) in the single table (lib/table-design.ts).
 */
export class DynamoDbSendStore implements MessageStore, JobStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putMessages(records: readonly MessageRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += BATCH_WRITE_MAX) {
      let requests = records.slice(i, i + BATCH_WRITE_MAX).map((r) => ({
        PutRequest: {
          Item: {
            ...keys.message(r.messageId),
            gsi1pk: `MSGS#${r.tenantId}`,
            gsi1sk: r.createdAt,
            ...r,
          },
        },
      }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt >= BATCH_WRITE_ATTEMPTS)
          throw new Error(`DynamoDB left ${requests.length} message items unwritten`);
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }));
        requests = (out.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
  }

  async getMessage(messageId: string): Promise<MessageRecord | null> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.message(messageId) }));
    return out.Item ? readMessage(out.Item) : null;
  }

  async createJob(job: JobRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.job(job.jobId), gsi1pk: `JOBS#${job.tenantId}`, gsi1sk: job.createdAt, ...job },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getJob(jobId: string): Promise<JobRecord | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.job(jobId), ConsistentRead: true }),
    );
    return out.Item ? readJob(out.Item) : null;
  }

  async getChunk(jobId: string, chunk: number): Promise<ChunkState | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.jobChunk(jobId, chunk), ConsistentRead: true }),
    );
    const item = out.Item;
    if (!item) return null;
    return {
      jobId,
      chunk,
      version: Number(item.version),
      attempts: Number(item.attempts ?? 0),
      outcomes: (Array.isArray(item.outcomes) ? item.outcomes : []).map(readOutcome),
    };
  }

  async recordChunk(u: ChunkUpdate): Promise<void> {
    const failed = u.outcomes.filter((o) => o?.status === 'failed' && !o.retryable).length;
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...keys.jobChunk(u.jobId, u.chunk),
                  jobId: u.jobId,
                  chunk: u.chunk,
                  version: u.expectedVersion + 1,
                  attempts: u.attempts,
                  failedEntries: failed,
                  outcomes: u.outcomes.map(storedOutcome),
                },
                ConditionExpression:
                  u.expectedVersion === 0 ? 'attribute_not_exists(pk)' : '#version = :expectedVersion',
                ...(u.expectedVersion === 0
                  ? {}
                  : {
                      ExpressionAttributeNames: { '#version': 'version' },
                      ExpressionAttributeValues: { ':expectedVersion': u.expectedVersion },
                    }),
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: keys.job(u.jobId),
                UpdateExpression:
                  'ADD sent :sent, suppressed :suppressed, failed :failed, chunksDone :chunksDone SET updatedAt = :now',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeValues: {
                  ':sent': u.delta.sent,
                  ':suppressed': u.delta.suppressed,
                  ':failed': u.delta.failed,
                  ':chunksDone': u.delta.chunksDone,
                  ':now': new Date().toISOString(),
                },
              },
            },
          ],
        }),
      );
    } catch (err) {
      if (err instanceof TransactionCanceledException) {
        const [chunkReason, jobReason] = err.CancellationReasons ?? [];
        if (chunkReason?.Code === 'ConditionalCheckFailed')
          throw new ChunkConflictError(`chunk ${u.chunk} of ${u.jobId} was written by another delivery`, {
            cause: err,
          });
        if (jobReason?.Code === 'ConditionalCheckFailed')
          throw new ChunkConflictError(`job ${u.jobId} does not exist`, { cause: err });
      }
      throw err;
    }
  }

  async listFailures(jobId: string, limit: number): Promise<{ to: string; error: string }[]> {
    const out: { to: string; error: string }[] = [];
    const { pk, skPrefix } = keys.jobChunkPrefix(jobId);
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          FilterExpression: 'failedEntries > :zero',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix, ':zero': 0 },
          ProjectionExpression: 'outcomes',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        for (const raw of Array.isArray(item.outcomes) ? item.outcomes : []) {
          const o = readOutcome(raw);
          if (o?.status === 'failed' && !o.retryable) out.push({ to: o.to, error: o.error ?? 'failed' });
          if (out.length >= limit) return out;
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
