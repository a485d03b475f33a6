import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { readBatchLimits } from './push/config';
import { DynamoDbRecordStateStore } from './push/dynamodb-record-state-store';
import { PushConfigError } from './push/errors';
import { type ProducerDeps, type ProducerStreamRecord, processProducerBatch } from './push/producer';
import { enqueueBatches } from './push/sqs-record-queue';

const tableName = process.env.SESFLOW_TABLE;
const queueUrl = process.env.SESFLOW_PUSH_QUEUE_URL;
if (!tableName) throw new PushConfigError('SESFLOW_TABLE is not set (the DynamoDB table name)');
if (!queueUrl) throw new PushConfigError('SESFLOW_PUSH_QUEUE_URL is not set (the records queue URL)');
const logger = new Logger({ serviceName: 'sesflow-push-producer' });
const sqs = new SQSClient({});
const deps: ProducerDeps = {
  state: new DynamoDbRecordStateStore(
    DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
    tableName,
  ),
  queue: { enqueue: (batches) => enqueueBatches(sqs, queueUrl, batches) },
  limits: readBatchLimits(),
  log: (level, message, keys) => logger[level](message, keys),
};

/**
 * Record producer on the SES events Kinesis stream (the stream the reputation consumer reads; partition key = tenant,
 * so one message's events stay on one shard, in order). Builds and merges delivery records and enqueues those that
 * changed; a failed batch is reported whole (`ReportBatchItemFailures`) and retried, which the merge makes harmless.
 */
export async function handler(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  const shards = new Map<string, ProducerStreamRecord[]>();
  for (const r of event.Records) {
    const shardId = r.eventID.split(':')[0] ?? 'unknown-shard';
    let list = shards.get(shardId);
    if (!list) {
      list = [];
      shards.set(shardId, list);
    }
    list.push({ sequenceNumber: r.kinesis.sequenceNumber, data: Buffer.from(r.kinesis.data, 'base64') });
  }
  const failed: string[] = [];
  for (const records of shards.values()) failed.push(...(await processProducerBatch(deps, { records })).failed);
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
