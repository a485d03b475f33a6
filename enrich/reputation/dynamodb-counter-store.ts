import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lib/table-design';
import { aggregateHours, emptyHour, type HourCounts, hourStartMs } from './buckets';
import { CounterWriteError } from './errors';
import type { CounterStore, SequencedRows } from './ports';

/** TransactWriteItems takes at most 100 actions (aws-facts §6.3): one checkpoint plus up to 99 hour items. */
const MAX_HOURS_PER_TRANSACTION = 99;
/** Hour items outlive the 7-day window by a week (dashboards may read them), then DynamoDB expires them. */
const HOUR_TTL_SECONDS = 14 * 24 * 3600;
/** Evidence maps are top-level attributes with a prefix per dimension (ADD works on top-level numbers). */
const PREFIX = { domains: 'd:', campaigns: 'c:', diagnosticCodes: 'x:' } as const;

/**
 * Kinesis sequence numbers are decimal strings of up to 128 digits, beyond DynamoDB's 38-digit numbers: stored
 * zero-padded so that string order is numeric order in a condition expression.
 */
export const padSequence = (seq: string): string => seq.padStart(128, '0');

const streamName = (arn: string) => arn.split('/').pop() ?? arn;

/** The item of a tenant's hour bucket (the armed part of a resume hour has its own sort key). */
export function hourKey(tenantId: string, hour: string, armedSince?: number) {
  const k = keys.hourCounter(tenantId, hour);
  return armedSince === undefined ? k : { pk: k.pk, sk: `${k.sk}#ARMED#${armedSince}` };
}

/** A tenant's checkpoint on one shard: the highest sequence number already counted. */
export function checkpointKey(streamArn: string, shardId: string, tenantId: string) {
  const k = keys.shardCheckpoint(streamName(streamArn), shardId);
  return { pk: k.pk, sk: `${k.sk}#${tenantId}` };
}

function isCheckpointConflict(err: unknown): boolean {
  return err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';
}

/**
 * Hourly reputation counters in the single table, exactly once per stream record, at one transaction per tenant and
 * batch (not one write per event): the batch's records of a tenant are summed per hour in memory, and one
 * TransactWriteItems adds every hour's sums and advances the tenant's checkpoint on the shard, on the condition that
 * the checkpoint is below the first record. A retry or a redelivery fails the condition, reads the checkpoint, and
 * counts only the records above it. Kinesis keeps a partition key (the tenant) on one shard, in order, so a
 * per-(shard, tenant) checkpoint is exact, and tenants of one batch never contend on one item. docs/reputation.md.
 */
export class DynamoDbCounterStore implements CounterStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async addRecords(input: {
    streamArn: string;
    shardId: string;
    tenantId: string;
    records: readonly SequencedRows[];
    armedSince: number | null;
  }): Promise<number> {
    const ckptKey = checkpointKey(input.streamArn, input.shardId, input.tenantId);
    let pending = [...input.records].sort((a, b) =>
      padSequence(a.sequenceNumber) < padSequence(b.sequenceNumber) ? -1 : 1,
    );
    let counted = 0;
    while (pending.length > 0) {
      const chunk = takeChunk(pending, input.armedSince);
      const first = padSequence(chunk[0]!.sequenceNumber);
      const last = padSequence(chunk[chunk.length - 1]!.sequenceNumber);
      const buckets = aggregateHours(
        chunk.flatMap((r) => r.rows),
        input.armedSince,
      );
      const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
        {
          Update: {
            TableName: this.tableName,
            Key: ckptKey,
            UpdateExpression: 'SET #seq = :last, tenantId = :t',
            ConditionExpression: 'attribute_not_exists(#seq) OR #seq < :first',
            ExpressionAttributeNames: { '#seq': 'sequenceNumber' },
            ExpressionAttributeValues: { ':last': last, ':first': first, ':t': input.tenantId },
          },
        },
        ...buckets.map((b) => ({ Update: this.hourUpdate(input.tenantId, b) })),
      ];
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
        counted += chunk.length;
        pending = pending.slice(chunk.length);
      } catch (err) {
        if (!isCheckpointConflict(err)) {
          throw new CounterWriteError(`could not add the counters of tenant ${input.tenantId}`, { cause: err });
        }
        // Counted before (a retry or a redelivery): keep only the records above the checkpoint.
        const got = await this.doc.send(
          new GetCommand({ TableName: this.tableName, Key: ckptKey, ConsistentRead: true }),
        );
        const ckpt = String(got.Item?.sequenceNumber ?? '');
        const before = pending.length;
        pending = pending.filter((r) => padSequence(r.sequenceNumber) > ckpt);
        if (pending.length === before) {
          throw new CounterWriteError(`checkpoint of tenant ${input.tenantId} moved meanwhile`, { cause: err });
        }
      }
    }
    return counted;
  }

  private hourUpdate(tenantId: string, b: HourCounts) {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {
      ':s': b.sent,
      ':d': b.delivered,
      ':h': b.hardBounces,
      ':c': b.complaints,
      ':t': tenantId,
      ':hr': b.hour,
      ':ttl': Math.floor(hourStartMs(b.hour) / 1000) + HOUR_TTL_SECONDS,
    };
    const adds = ['sent :s', 'delivered :d', 'hardBounces :h', 'complaints :c'];
    let i = 0;
    for (const [field, prefix] of Object.entries(PREFIX) as [keyof typeof PREFIX, string][]) {
      for (const [k, v] of Object.entries(b[field])) {
        names[`#k${i}`] = `${prefix}${k}`;
        values[`:k${i}`] = v;
        adds.push(`#k${i} :k${i}`);
        i++;
      }
    }
    const sets = ['tenantId = :t', '#hour = :hr', '#ttl = :ttl'];
    names['#hour'] = 'hour';
    names['#ttl'] = 'ttl';
    if (b.armedSince !== undefined) {
      sets.push('armedSince = :a');
      values[':a'] = b.armedSince;
    }
    return {
      TableName: this.tableName,
      Key: hourKey(tenantId, b.hour, b.armedSince),
      UpdateExpression: `ADD ${adds.join(', ')} SET ${sets.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  async readHours(tenantId: string, fromHour: string, toHour: string): Promise<HourCounts[]> {
    const out: HourCounts[] = [];
    let start: Record<string, unknown> | undefined;
    const pk = keys.hourCounter(tenantId, fromHour).pk;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': pk,
            ':from': keys.hourCounter(tenantId, fromHour).sk,
            ':to': `${keys.hourCounter(tenantId, toHour).sk}#~`,
          },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) out.push(toHourCounts(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}

/** The longest prefix of `records` whose rows touch at most 99 hour items. */
function takeChunk(records: readonly SequencedRows[], armedSince: number | null): SequencedRows[] {
  const hours = new Set<string>();
  const out: SequencedRows[] = [];
  for (const r of records) {
    const next = new Set(hours);
    for (const b of aggregateHours(r.rows, armedSince)) next.add(`${b.hour}#${b.armedSince ?? ''}`);
    if (next.size > MAX_HOURS_PER_TRANSACTION && out.length > 0) break;
    for (const h of next) hours.add(h);
    out.push(r);
  }
  return out;
}

function toHourCounts(item: Record<string, unknown>): HourCounts {
  const b = emptyHour(String(item.hour), typeof item.armedSince === 'number' ? item.armedSince : undefined);
  b.sent = Number(item.sent ?? 0);
  b.delivered = Number(item.delivered ?? 0);
  b.hardBounces = Number(item.hardBounces ?? 0);
  b.complaints = Number(item.complaints ?? 0);
  for (const [k, v] of Object.entries(item)) {
    for (const [field, prefix] of Object.entries(PREFIX) as [keyof typeof PREFIX, string][]) {
      if (k.startsWith(prefix)) b[field][k.slice(prefix.length)] = Number(v);
    }
  }
  return b;
}
