import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DynamoDbCounterStore } from '../../enrich/reputation/dynamodb-counter-store';
import { UsageError } from '../../lib/errors';
import { keys } from '../../lib/table-design';
import {
  EndpointsFileSchema,
  EndpointsResourcesSchema,
  endpointsFilePath,
  readEndpointsFile,
} from '../../local/pipeline/endpoints-file';
import { createLocalClients } from '../../local/stack/clients';
import { openLake } from '../../queries/duckdb-lake';
import { DynamoDbTenantRepository } from '../../tenants/dynamodb-tenant-repository';
import type {
  ConsumerPosition,
  DestinationExpectations,
  QuietReason,
  RecentEventsSource,
  TenantActivity,
} from './checks';

/** Everything the checks need to look at one deployment: the local pipeline or an AWS stage. */
export interface DoctorTarget {
  /** Which deployment, in words ("the local pipeline in ./.sesflow", "AWS stage staging in us-east-1"). */
  label: string;
  ses: SESv2Client;
  sqs: SQSClient;
  kinesis: KinesisClient;
  destinations: DestinationExpectations;
  recentEvents: RecentEventsSource;
  /** Dead-letter queue names. */
  deadLetterQueues(): Promise<string[]>;
  /** The SES events stream the consumers read. */
  stream: string;
  consumers(): Promise<ConsumerPosition[]>;
  quietReason?: QuietReason;
  close(): void;
}

// ---------------------------------------------------------------- sources

/** Events per tenant from the lake's Parquet files (DuckDB), with the latest event time. */
export function lakeActivitySource(lakeDir: string): RecentEventsSource {
  return {
    describe: 'the lake',
    async activitySince(sinceMs) {
      const db = await openLake(lakeDir, { threads: 1 });
      try {
        const rows = await db.query<{ tenant_id: string; events: number; last_ms: number }>(
          `SELECT tenant_id, CAST(count(*) AS DOUBLE) AS events, CAST(epoch_ms(max(event_time)) AS DOUBLE) AS last_ms
           FROM events_raw WHERE epoch_ms(event_time) >= ? GROUP BY tenant_id`,
          [sinceMs],
        );
        return new Map<string, TenantActivity>(
          rows.map((r) => [r.tenant_id, { events: Number(r.events), lastEventMs: Number(r.last_ms) }]),
        );
      } finally {
        db.close();
      }
    },
  };
}

const hourOf = (ms: number) => new Date(ms).toISOString().slice(0, 13);

/**
 * Events per tenant from the reputation live path's hourly counters (DynamoDB): what AWS deployments have without
 * running Athena. Counters are hourly by event time, so the window is widened to whole hours, and they hold the
 * reputation events (sends, deliveries, hard bounces, complaints), not opens and clicks.
 */
export function counterActivitySource(
  doc: DynamoDBDocumentClient,
  table: string,
  now: () => number,
): RecentEventsSource {
  const counters = new DynamoDbCounterStore(doc, table);
  return {
    describe: 'the live reputation counters (whole hours)',
    async activitySince(sinceMs, tenants) {
      const out = new Map<string, TenantActivity>();
      for (const tenant of tenants) {
        const hours = await counters.readHours(tenant, hourOf(sinceMs), hourOf(now()));
        const events = hours.reduce((n, h) => n + h.sent + h.delivered + h.hardBounces + h.complaints, 0);
        out.set(tenant, { events, lastEventMs: null });
      }
      return out;
    },
  };
}

/** A tenant paused or suspended is expected to send nothing. */
export function statusQuietReason(doc: DynamoDBDocumentClient, table: string): QuietReason {
  const status = new DynamoDbTenantRepository(doc, table);
  return async (tenant) => {
    const s = await status.getState(tenant);
    if (s.status !== 'paused' && s.status !== 'suspended') return null;
    return `${s.status}${s.statusSince ? ` since ${s.statusSince}` : ''}`;
  };
}

// ---------------------------------------------------------------- the local pipeline

/** What the doctor needs of the local pipeline's endpoints file. */
const LocalTargetSchema = EndpointsFileSchema.required({
  fauxqs: true,
  kinesis: true,
  ses: true,
  lakeDir: true,
}).extend({
  resources: EndpointsResourcesSchema.required({
    eventsStream: true,
    reputationStream: true,
    reportingDlq: true,
    table: true,
  }),
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Shard positions of every local stream consumer: `<data-dir>/<consumer>-consumer.json` (local/kinesis-poller.ts). */
export function readLocalConsumers(dataDir: string): ConsumerPosition[] {
  if (!existsSync(dataDir)) return [];
  return readdirSync(dataDir)
    .filter((f) => f.endsWith('-consumer.json'))
    .sort()
    .map((f) => {
      let positions: Record<string, unknown> = {};
      try {
        positions = JSON.parse(readFileSync(join(dataDir, f), 'utf8')) as Record<string, unknown>;
      } catch {
        // An unreadable file: the consumer starts from the oldest record, so lag is measured from there.
      }
      return {
        consumer: basename(f, '-consumer.json'),
        positions: new Map(Object.entries(positions).filter((e): e is [string, string] => typeof e[1] === 'string')),
      };
    });
}

/**
 * The local pipeline `sesflow start` runs, found through `<data-dir>/endpoints.json`. A missing file or a stopped
 * pipeline is a usage error saying so.
 */
export function localTarget(dataDir: string): DoctorTarget {
  const endpoints = readEndpointsFile(dataDir);
  if (!endpoints) {
    throw new UsageError(`no local pipeline in ${dataDir} (no endpoints.json): run sesflow start, or pass --stage`);
  }
  const r = LocalTargetSchema.safeParse(endpoints);
  if (!r.success) {
    const missing = r.error.issues[0]?.path.join('.') ?? 'invalid';
    throw new UsageError(`${endpointsFilePath(dataDir)} is not a sesflow endpoints file (${missing})`);
  }
  const parsed = r.data;
  if (parsed.pid !== undefined && !isAlive(parsed.pid)) {
    throw new UsageError(`the local pipeline of ${dataDir} (pid ${parsed.pid}) is not running: run sesflow start`);
  }
  const clients = createLocalClients(parsed);
  const res = parsed.resources;
  const doc = clients.documentClient;
  return {
    label: `the local pipeline in ${dataDir}`,
    ses: clients.ses!,
    sqs: clients.sqs!,
    kinesis: clients.kinesis!,
    destinations: { eventsStream: res.eventsStream, requireEventBridge: false },
    recentEvents: lakeActivitySource(parsed.lakeDir),
    async deadLetterQueues() {
      const listed = await clients.sqs!.send(new ListQueuesCommand({}));
      const names = (listed.QueueUrls ?? []).map((u) => u.split('/').pop()!).filter((n) => /-(dlq|failures)$/.test(n));
      return [...new Set([res.reportingDlq, ...names])].sort();
    },
    stream: res.reputationStream,
    consumers: async () => readLocalConsumers(dataDir),
    quietReason: doc ? statusQuietReason(doc, res.table) : undefined,
    close: () => clients.destroy(),
  };
}

// ---------------------------------------------------------------- an AWS stage

/** Resource names of a deployed stage: serverless.yml's `custom.names` (deploy/template.test.ts keeps them equal). */
export function awsNames(stage: string) {
  return {
    table: `sesflow-${stage}`,
    glueDatabase: `sesflow_${stage}`,
    workgroup: `sesflow-${stage}`,
    eventsStream: `sesflow-${stage}-events`,
    reputationStream: `sesflow-${stage}-ses-events`,
    deadLetterQueues: [
      `sesflow-${stage}-reporting-dlq`,
      `sesflow-${stage}-send-jobs-dlq`,
      `sesflow-${stage}-reputation-failures`,
      `sesflow-${stage}-push-producer-failures`,
      `sesflow-${stage}-events-rule-dlq`,
    ],
    /** The deployed functions (each behind the alias `live`, serverless.yml). */
    functions: [
      `sesflow-${stage}-ingest-transform`,
      `sesflow-${stage}-reputation`,
      `sesflow-${stage}-reports-api`,
      `sesflow-${stage}-email-api`,
      `sesflow-${stage}-bulk-worker`,
      `sesflow-${stage}-push-producer`,
      `sesflow-${stage}-pusher`,
      `sesflow-${stage}-compact-lake`,
      `sesflow-${stage}-pre-token`,
      `sesflow-${stage}-sender-auth`,
      `sesflow-${stage}-unsubscribe`,
      `sesflow-${stage}-erase-recipient`,
    ],
  };
}

/**
 * A deployed stage, through the default AWS credentials and region. Consumer positions come from the reputation
 * consumer's per-(shard, tenant) checkpoints in DynamoDB: the highest per shard is where it stands.
 */
export function awsTarget(stage: string, region: string, now: () => number): DoctorTarget {
  const names = awsNames(stage);
  const ses = new SESv2Client({ region });
  const sqs = new SQSClient({ region });
  const kinesis = new KinesisClient({ region, requestHandler: new NodeHttpHandler() });
  const ddb = new DynamoDBClient({ region });
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  return {
    label: `AWS stage ${stage} in ${region}`,
    ses,
    sqs,
    kinesis,
    destinations: { eventsStream: names.eventsStream, requireEventBridge: true },
    recentEvents: counterActivitySource(doc, names.table, now),
    deadLetterQueues: async () => names.deadLetterQueues,
    stream: names.reputationStream,
    async consumers() {
      const shards = await kinesis.send(new ListShardsCommand({ StreamName: names.reputationStream }));
      const positions = new Map<string, string>();
      for (const s of shards.Shards ?? []) {
        const k = keys.shardCheckpoint(names.reputationStream, s.ShardId!);
        const got = await doc.send(
          new QueryCommand({
            TableName: names.table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': k.pk },
          }),
        );
        // Sequence numbers are stored padded to 128 digits, so the string maximum is the numeric maximum.
        const best = (got.Items ?? [])
          .map((i) => String(i.sequenceNumber ?? ''))
          .filter(Boolean)
          .sort()
          .pop();
        if (best) positions.set(s.ShardId!, best.replace(/^0+(?=\d)/, ''));
      }
      return [{ consumer: 'reputation', positions }];
    },
    quietReason: statusQuietReason(doc, names.table),
    close() {
      for (const c of [ses, sqs, kinesis, ddb]) c.destroy();
    },
  };
}
