import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { sleep } from '../../lib/retry';
import { keys } from '../../lib/table-design';
import { ProducerError } from './errors';
import { type DeliveryRecord, revisionOf } from './record';

/** A record's state lives this long after its last change (late opens months later start a new state). */
const STATE_TTL_SECONDS = 180 * 24 * 3600;
/** BatchGetItem reads at most 100 keys per call. */
const MAX_BATCH_GET = 100;

/** Where the producer keeps each record between stream batches. */
export interface RecordStateStore {
  /** The records held for these (message, record) ids. */
  getMany(ids: readonly { messageId: string; recordId: string }[]): Promise<Map<string, DeliveryRecord>>;
  /**
   * Writes a record if the held one still has `expectedRevision` (0: none held). Returns false when another writer
   * got there first (the caller re-reads and merges again).
   */
  put(record: DeliveryRecord, expectedRevision: number): Promise<boolean>;
}

/** Record state in the single table (lib/table-design.ts `deliveryRecord`), one item per record. */
export class DynamoDbRecordStateStore implements RecordStateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async getMany(ids: readonly { messageId: string; recordId: string }[]): Promise<Map<string, DeliveryRecord>> {
    const out = new Map<string, DeliveryRecord>();
    const unique = [...new Map(ids.map((i) => [i.recordId, i])).values()];
    for (let i = 0; i < unique.length; i += MAX_BATCH_GET) {
      let pending: Record<string, unknown>[] | undefined = unique
        .slice(i, i + MAX_BATCH_GET)
        .map((k) => keys.deliveryRecord(k.messageId, k.recordId));
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 8) throw new ProducerError('record state reads were left unprocessed too many times');
        if (attempt > 0) await sleep(50 * 2 ** attempt);
        const got = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of got.Responses?.[this.tableName] ?? []) {
          const record = JSON.parse(String(item.record)) as DeliveryRecord;
          out.set(record.record_id, record);
        }
        pending = got.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined;
      }
    }
    return out;
  }

  async put(record: DeliveryRecord, expectedRevision: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.deliveryRecord(record.message_id, record.record_id),
            tenantId: record.tenant_id,
            revision: revisionOf(record),
            record: JSON.stringify(record),
            ttl: Math.floor(this.now() / 1000) + STATE_TTL_SECONDS,
          },
          ConditionExpression:
            expectedRevision === 0 ? 'attribute_not_exists(pk)' : 'attribute_exists(pk) AND revision = :expected',
          ExpressionAttributeValues: expectedRevision === 0 ? undefined : { ':expected': expectedRevision },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw new ProducerError(`could not write the state of record ${record.record_id}`, { cause: err });
    }
  }
}
