import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { DynamoDbTenantRepository } from '../tenants/dynamodb-tenant-repository';
import { readReputationConfig } from './reputation/config';
import { DynamoDbCounterStore } from './reputation/dynamodb-counter-store';
import { processStreamBatch, type StreamRecord } from './reputation/live';
import { LogAlerter } from './reputation/log-alerter';
import { SesV2TenantControl } from './reputation/sesv2-tenant-control';
import { SnsAlerter } from './reputation/sns-alerter';

const config = readReputationConfig();
const logger = new Logger({ serviceName: 'sesflow-reputation' });
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const deps = {
  counters: new DynamoDbCounterStore(doc, config.tableName),
  status: new DynamoDbTenantRepository(doc, config.tableName),
  ses: new SesV2TenantControl(new SESv2Client({})),
  alerter: config.alertTopicArn ? new SnsAlerter(new SNSClient({}), config.alertTopicArn) : new LogAlerter(),
  now: () => new Date(),
  defaultPolicy: config.defaultPolicy,
  log: (level: 'info' | 'warn' | 'error', message: string, keys: Record<string, unknown>) =>
    logger[level](message, keys),
};

/**
 * Reputation Lambda on the Kinesis stream (raw SES event JSON, partition key = tenant). The event source mapping has
 * `FunctionResponseTypes: ['ReportBatchItemFailures']`: failed records come back by sequence number and Lambda
 * retries from the lowest; records counted before are skipped by the per-(shard, tenant) checkpoint. The batch is
 * processed as a whole (counters are summed per tenant and hour), so this returns the partial-failure response itself
 * rather than going record by record through `processPartialResponse`.
 */
export async function handler(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  const shards = new Map<string, { streamArn: string; shardId: string; records: StreamRecord[] }>();
  for (const r of event.Records) {
    const shardId = r.eventID.split(':')[0] ?? 'unknown-shard';
    const key = `${r.eventSourceARN}|${shardId}`;
    let s = shards.get(key);
    if (!s) {
      s = { streamArn: r.eventSourceARN, shardId, records: [] };
      shards.set(key, s);
    }
    s.records.push({ sequenceNumber: r.kinesis.sequenceNumber, data: Buffer.from(r.kinesis.data, 'base64') });
  }
  const failed: string[] = [];
  for (const s of shards.values()) failed.push(...(await processStreamBatch(deps, s)).failed);
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
