import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';

/**
 * The single DynamoDB table (name from config: `SESFLOW_TABLE`, set by serverless.yml or `sesflow start`).
 * Every item has `pk` and `sk`; items listed across tenants also carry `gsi1pk` / `gsi1sk`; expiring items carry
 * `ttl` (epoch seconds). docs/ARCHITECTURE.md documents the access patterns.
 *
 * | item | pk | sk | gsi1pk / gsi1sk |
 * |---|---|---|---|
 * | tenant profile | TENANT#<id> | PROFILE | TENANTS / <id> |
 * | API key (hash only) | APIKEY#<sha256> | APIKEY | KEYS#<tenant> / <created>#<keyId> |
 * | audit entry | TENANT#<id> | AUDIT#<iso time>#<uuid> | AUDIT / <iso time> |
 * | reputation counters, one hour | TENANT#<id> | HOUR#<yyyy-mm-ddThh> | |
 * | reputation state and evidence | TENANT#<id> | REPUTATION | REPUTATION / <id> |
 * | stream checkpoint (idempotency) | SHARD#<stream>#<shard> | CHECKPOINT | |
 * | message status | MSG#<messageId> | MSG | MSGS#<tenant> / <iso time> |
 * | delivery record state (push to External Reporting) | MSG#<messageId> | REPORT#<record id> | |
 * | bulk job (Email API batch) and its counters | JOB#<jobId> | JOB | JOBS#<tenant> / <iso time> |
 * | bulk job chunk: per-entry outcomes | JOB#<jobId> | CHUNK#<nnnnn> | |
 * | send rate limiter window | RATE#<scope> | <window second> | |
 * | sender readiness (domain checks) | TENANT#<id> | SENDER_AUTH | SENDER_AUTH / <id> |
 */
export const keys = {
  tenantProfile: (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'PROFILE' }),
  apiKey: (keyHash: string) => ({ pk: `APIKEY#${keyHash}`, sk: 'APIKEY' }),
  auditPrefix: (tenantId: string) => ({ pk: `TENANT#${tenantId}`, skPrefix: 'AUDIT#' }),
  audit: (tenantId: string, isoTime: string, id: string) => ({
    pk: `TENANT#${tenantId}`,
    sk: `AUDIT#${isoTime}#${id}`,
  }),
  hourCounter: (tenantId: string, hour: string) => ({ pk: `TENANT#${tenantId}`, sk: `HOUR#${hour}` }),
  hourCounterPrefix: (tenantId: string) => ({ pk: `TENANT#${tenantId}`, skPrefix: 'HOUR#' }),
  reputation: (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'REPUTATION' }),
  shardCheckpoint: (stream: string, shardId: string) => ({ pk: `SHARD#${stream}#${shardId}`, sk: 'CHECKPOINT' }),
  message: (messageId: string) => ({ pk: `MSG#${messageId}`, sk: 'MSG' }),
  deliveryRecord: (messageId: string, recordId: string) => ({ pk: `MSG#${messageId}`, sk: `REPORT#${recordId}` }),
  job: (jobId: string) => ({ pk: `JOB#${jobId}`, sk: 'JOB' }),
  jobChunk: (jobId: string, chunk: number) => ({ pk: `JOB#${jobId}`, sk: `CHUNK#${String(chunk).padStart(5, '0')}` }),
  jobChunkPrefix: (jobId: string) => ({ pk: `JOB#${jobId}`, skPrefix: 'CHUNK#' }),
  rateWindow: (scope: string, second: number) => ({ pk: `RATE#${scope}`, sk: String(second) }),
  senderAuth: (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'SENDER_AUTH' }),
} as const;

export const GSI1 = 'gsi1';

/** CreateTable input for DynamoDB Local and tests; serverless.yml declares the same table for AWS. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'gsi1pk', AttributeType: 'S' },
      { AttributeName: 'gsi1sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: GSI1,
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/** Creates the table where it does not exist yet (DynamoDB Local; idempotent, so every local service may call it). */
export async function ensureTable(ddb: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await ddb.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
}
