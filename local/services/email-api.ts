import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { describeError } from '../../lib/errors';
import { hashApiKey } from '../../lib/http/api-key';
import { ensureTable } from '../../lib/table-design';
import type { AccessTokenVerifier } from '../../send/api/caller-auth';
import { composeSend, type SendComposition } from '../../send/api/compose';
import { readEmailApiPort, readEmailApiTls, type UnsubscribeConfig } from '../../send/api/config';
import { createAccessTokenVerifier, readOAuthIssuerConfig } from '../../send/api/oauth';
import { createEmailApiRouter, type EmailApiLog } from '../../send/api/router';
import { type RunningEmailApi, startEmailApiServer } from '../../send/api/server';
import { createUnsubscribeRouter, UNSUBSCRIBE_PATH } from '../../send/api/unsubscribe-router';
import { type ChunkLog, createBulkWorkerHandler } from '../../send/bulk-worker';
import { type BulkWorkerPoller, startBulkWorkerPoller } from '../../send/bulk-worker-poller';
import type { SendRateLimiter } from '../../send/rate-limiter';
import { type PipelineService, serviceNeeding } from '../pipeline/service';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../stack/clients';
import { ensureQueueWithDlq } from '../stack/sqs-queues';

export interface LocalEmailApiOptions {
  dynamodb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** The SES simulator's endpoint (a client with `maxAttempts: 1` is made for the sender). */
  sesEndpoint: string;
  tableName: string;
  /** HTTPS with client certificates checked against `ca` (mutual TLS for tenants that require it). */
  tls?: { key: string; cert: string; ca?: string };
  /** Checks OAuth access tokens (a local OpenID Connect provider's JWKS). */
  verifyAccessToken?: AccessTokenVerifier;
  queueName: string;
  /** Preferred port (busy: a free one); 0 = a free port. */
  port: number;
  /** Visibility timeout of the job queue: how long a chunk with throttled entries waits before its retry (10 s). */
  visibilityTimeoutSeconds?: number;
  /** Deliveries before the DLQ takes a chunk (5, as serverless.yml). */
  maxReceiveCount?: number;
  /** Receive loops of the local worker (Lambda's concurrency); default 2. */
  workerConcurrency?: number;
  limiter?: SendRateLimiter;
  /** The sender's SES client (default: one for `sesEndpoint` with `maxAttempts: 1`; a given one is not destroyed). */
  ses?: SESv2Client;
  apiLog?: (entry: EmailApiLog) => void;
  workerLog?: (entry: ChunkLog) => void;
  onProblem?: (line: string) => void;
  /** The unsubscribe token key (default: a random one for this run); null: no one-click unsubscribe. */
  unsubscribeSecret?: string | null;
  /** Where unsubscribes are recorded for the reports: the local Firehose and the events stream. */
  firehose?: FirehoseClient;
  eventsStream?: string;
}

export interface LocalEmailApi {
  url: string;
  /** The one-click unsubscribe endpoint the links point to (null: not configured). */
  unsubscribeUrl: string | null;
  queueUrl: string;
  dlqUrl: string;
  send: SendComposition;
  poller: BulkWorkerPoller;
  stop(): Promise<void>;
}

/**
 * The Email API on node:http and the bulk worker polling the job queue, over DynamoDB Local, fauxqs and the SES
 * simulator: the same router and handler Lambda runs (`sesflow start`, the integration tests, the load benchmark).
 */
export async function startLocalEmailApi(o: LocalEmailApiOptions): Promise<LocalEmailApi> {
  await ensureTable(o.dynamodb, o.tableName);
  const q = await ensureQueueWithDlq(
    o.sqs,
    { queue: o.queueName, dlq: `${o.queueName}-dlq` },
    {
      visibilityTimeoutSeconds: o.visibilityTimeoutSeconds ?? 10,
      maxReceiveCount: o.maxReceiveCount ?? 5,
    },
  );
  const ses =
    o.ses ??
    new SESv2Client({ endpoint: o.sesEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const secret = o.unsubscribeSecret === undefined ? randomBytes(32).toString('base64url') : o.unsubscribeSecret;
  // The URL is known once the server listens: the sender reads it at send time.
  const unsubscribe: UnsubscribeConfig | null = secret
    ? { url: 'http://127.0.0.1/', secret, mailto: null, ttlDays: 60, eventsStream: o.eventsStream ?? null }
    : null;
  const send = composeSend({
    doc: o.doc,
    sqs: o.sqs,
    ses,
    tableName: o.tableName,
    sendQueueUrl: q.queueUrl,
    rateScope: 'local',
    limiter: o.limiter,
    apiLog: o.apiLog,
    workerLog: o.workerLog,
    ...(o.verifyAccessToken ? { verifyAccessToken: o.verifyAccessToken } : {}),
    unsubscribe,
    firehose: o.firehose,
  });
  const emailApi = createEmailApiRouter(send.api);
  const oneClick = send.unsubscribe ? createUnsubscribeRouter({ unsubscribe: send.unsubscribe }) : null;
  // One server for both, as API Gateway routes them to their functions in AWS.
  const isUnsubscribe = (req: { path: string }) => oneClick !== null && req.path === UNSUBSCRIBE_PATH;
  const handle: typeof emailApi = Object.assign(
    (req: Parameters<typeof emailApi>[0]) => (isUnsubscribe(req) ? oneClick!(req) : emailApi(req)),
    // The one-click endpoint takes no key: only the Email API's requests are checked before their body is read.
    { precheck: async (req: Parameters<typeof emailApi>[0]) => (isUnsubscribe(req) ? null : emailApi.precheck(req)) },
  );
  let server: RunningEmailApi;
  try {
    server = await startEmailApiServer({ handle, port: o.port, ...(o.tls ? { tls: o.tls } : {}) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    server = await startEmailApiServer({ handle, port: 0, ...(o.tls ? { tls: o.tls } : {}) });
  }
  if (unsubscribe) unsubscribe.url = `${server.url}${UNSUBSCRIBE_PATH}`;
  const poller = startBulkWorkerPoller({
    sqs: o.sqs,
    queueUrl: q.queueUrl,
    queueArn: q.queueArn,
    concurrency: o.workerConcurrency ?? 2,
    visibilityTimeoutSeconds: o.visibilityTimeoutSeconds ?? 10,
    handler: createBulkWorkerHandler(send.worker, {
      // One line per chunk left for SQS to retry: ids and the reason, never addresses or content.
      onRecordError: (messageId, err) => o.onProblem?.(`bulk worker: message ${messageId}: ${describeError(err)}`),
    }),
    onProblem: o.onProblem,
  });
  let stopped = false;
  return {
    url: server.url,
    unsubscribeUrl: unsubscribe?.url ?? null,
    queueUrl: q.queueUrl,
    dlqUrl: q.dlqUrl,
    send,
    poller,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await poller.stop();
      if (!o.ses) ses.destroy();
    },
  };
}

/** The local unsubscribe token key, kept in `<dataDir>/unsubscribe-secret` (0600) so links survive restarts. */
function demoUnsubscribeSecret(dataDir: string): string {
  const file = join(dataDir, 'unsubscribe-secret');
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) return kept;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

const DemoKeysSchema = z.record(z.string(), z.string().min(20));

/**
 * One API key per demo tenant, kept in `<dataDir>/email-api-keys.json` (mode 0600) so they survive restarts; a key
 * the registry no longer knows (a fresh DynamoDB) is issued again. The registry itself stores hashes only.
 */
async function ensureDemoKeys(
  send: SendComposition,
  file: string,
  tenants: readonly string[],
): Promise<Record<string, string>> {
  let keys: Record<string, string> = {};
  if (existsSync(file)) {
    const parsed = DemoKeysSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) keys = parsed.data;
  }
  let changed = false;
  for (const t of tenants) {
    const known = keys[t] ? await send.registry.lookupKey(hashApiKey(keys[t])) : null;
    if (known?.tenantId === t) continue;
    keys[t] = (await send.registry.issueKey(t, { actor: 'sesflow start', label: 'local demo key' })).key;
    changed = true;
  }
  if (changed) writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return keys;
}

/**
 * The Email API and the bulk worker as a service of `sesflow start`: the job queue and its DLQ on fauxqs, the demo
 * tenants in the registry (their profiles and a key each, in `<dataDir>/email-api-keys.json`), the API on
 * `SESFLOW_PORT_EMAIL_API` (8081), and the worker polling the queue.
 */
export function emailApiPipelineService(
  opts: Partial<
    Pick<
      LocalEmailApiOptions,
      'port' | 'visibilityTimeoutSeconds' | 'workerConcurrency' | 'limiter' | 'tls' | 'verifyAccessToken'
    >
  > = {},
): PipelineService {
  return serviceNeeding(
    'email-api',
    { clients: ['dynamodb', 'documentClient', 'sqs'], endpoints: ['ses'] },
    async (ctx, { dynamodb, documentClient, sqs }, { ses: sesEndpoint }) => {
      // Mutual TLS and OAuth for the tenants that require them: from the options, else the environment.
      const tls = opts.tls ?? readEmailApiTls();
      const oauth = readOAuthIssuerConfig();
      const verifyAccessToken = opts.verifyAccessToken ?? (oauth ? createAccessTokenVerifier(oauth) : undefined);
      const api = await startLocalEmailApi({
        dynamodb,
        doc: documentClient,
        sqs,
        sesEndpoint,
        tableName: ctx.resources.table,
        queueName: ctx.resources.sendQueue,
        port: opts.port ?? readEmailApiPort(),
        visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds,
        workerConcurrency: opts.workerConcurrency,
        limiter: opts.limiter,
        ...(tls ? { tls } : {}),
        ...(verifyAccessToken ? { verifyAccessToken } : {}),
        unsubscribeSecret: demoUnsubscribeSecret(ctx.dataDir),
        firehose: ctx.clients.firehose,
        eventsStream: ctx.resources.eventsStream,
        // Failures only, as one structured line (ids, route and status; never keys, addresses or subjects).
        apiLog: (e) => {
          if (e.status >= 500) ctx.log(JSON.stringify({ level: 'error', msg: 'email api request failed', ...e }));
        },
        onProblem: (line) => ctx.log(line),
      });
      try {
        const planner = ctx.shared.planner;
        const profiles = planner?.profiles ?? [];
        for (const p of profiles) {
          await api.send.registry.registerTenant(
            {
              tenantId: p.tenant.name,
              configurationSet: p.configurationSet,
              sesTenantName: p.tenant.name,
              sendingDomains: [p.fromDomain],
            },
            'sesflow start',
          );
        }
        mkdirSync(ctx.dataDir, { recursive: true });
        const keysFile = join(ctx.dataDir, 'email-api-keys.json');
        await ensureDemoKeys(
          api.send,
          keysFile,
          profiles.map((p) => p.tenant.name),
        );
        const first = profiles[0];
        ctx.shared.emailApi = api;
        // Where the keys are, never a key: the banner and the log reach terminals, CI logs and screenshots.
        ctx.links.push({ label: 'Email API (x-api-key)', url: api.url });
        if (first) {
          ctx.links.push({
            label: `Email API keys (one per tenant, e.g. ${first.tenant.name} from *@${first.fromDomain})`,
            url: keysFile,
          });
        }
        if (api.unsubscribeUrl) ctx.endpoints.unsubscribe = api.unsubscribeUrl;
        ctx.log(`email-api: ${api.url}, bulk jobs on ${ctx.resources.sendQueue} (keys in ${keysFile})`);
      } catch (err) {
        await api.stop();
        throw new Error(`email-api: ${describeError(err)}`, { cause: err });
      }
      return api;
    },
  );
}
