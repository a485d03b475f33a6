import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BulkWorkerDeps, ChunkLog } from '../bulk-worker';
import { FirehoseUnsubscribeEvents } from '../firehose-unsubscribe-events';
import type { Sender } from '../ports';
import { AccountSendRate, DynamoDbRateLimiter, type SendRateLimiter } from '../rate-limiter';
import { TenantRegistry } from '../registry';
import { SesSender } from '../sender';
import { SesSuppressionList } from '../suppression-list';
import { type UnsubscribeOutcome, unsubscribe } from '../unsubscribe';
import type { AccessTokenVerifier } from './caller-auth';
import type { UnsubscribeConfig } from './config';
import { DynamoDbSendStore } from './dynamodb-send-store';
import type { EmailApiDeps, EmailApiLog } from './router';
import { SqsJobQueue } from './sqs-job-queue';

export interface SendComposition {
  registry: TenantRegistry;
  sender: Sender;
  store: DynamoDbSendStore;
  limiter: SendRateLimiter;
  api: EmailApiDeps;
  worker: BulkWorkerDeps;
  /** The one-click unsubscribe use case (null when unsubscribe is not configured). */
  unsubscribe: ((token: string) => Promise<UnsubscribeOutcome>) | null;
}

export interface ComposeOptions {
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** Created with `maxAttempts: 1`: the sender retries throttling itself, through the rate limiter. */
  ses: SESv2Client;
  tableName: string;
  sendQueueUrl: string;
  /** What shares MaxSendRate: one SES account and region (default `account`). */
  rateScope?: string;
  /** Replaces the DynamoDB limiter at the account's MaxSendRate (GetAccount). */
  limiter?: SendRateLimiter;
  apiLog?: (entry: EmailApiLog) => void;
  workerLog?: (entry: ChunkLog) => void;
  /** Checks the OAuth access tokens of tenants that require them (none: such a tenant is refused). */
  verifyAccessToken?: AccessTokenVerifier;
  /** One-click unsubscribe links on marketing mail, and the endpoint's settings. */
  unsubscribe?: UnsubscribeConfig | null;
  /** Where unsubscribes are recorded (the events stream named in `unsubscribe.eventsStream`). */
  firehose?: FirehoseClient;
}

/**
 * Wires the Email API and the bulk worker to their adapters: the registry (keys, profiles) and the message and job
 * items in the single table, the job queue on SQS, and the SES sender behind the gate, the suppression lists and the
 * DynamoDB rate limiter shared by every process at the account's MaxSendRate. Lambda and `sesflow start` both use it.
 */
export function composeSend(o: ComposeOptions): SendComposition {
  const registry = new TenantRegistry(o.doc, o.tableName);
  const store = new DynamoDbSendStore(o.doc, o.tableName);
  const accountRate = new AccountSendRate(o.ses);
  const limiter =
    o.limiter ??
    new DynamoDbRateLimiter({
      doc: o.doc,
      tableName: o.tableName,
      scope: o.rateScope ?? 'account',
      rate: () => accountRate.get(),
    });
  const suppression = new SesSuppressionList(o.ses);
  const sender = new SesSender({ ses: o.ses, tenants: registry, limiter, suppression, unsubscribe: o.unsubscribe });
  const u = o.unsubscribe;
  const events = u?.eventsStream && o.firehose ? new FirehoseUnsubscribeEvents(o.firehose, u.eventsStream) : null;
  return {
    registry,
    sender,
    store,
    limiter,
    api: {
      lookupKey: (hash) => registry.lookupKey(hash),
      sender,
      messages: store,
      jobs: store,
      queue: new SqsJobQueue(o.sqs, o.sendQueueUrl),
      log: o.apiLog,
      tenantAuth: (tenantId) => registry.getTenant(tenantId),
      ...(o.verifyAccessToken ? { verifyAccessToken: o.verifyAccessToken } : {}),
    },
    worker: { sender, jobs: store, messages: store, log: o.workerLog },
    unsubscribe: u ? (token) => unsubscribe({ secret: u.secret, tenants: registry, suppression, events }, token) : null,
  };
}
