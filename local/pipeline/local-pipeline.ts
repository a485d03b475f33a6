import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { CreateStreamCommand, ResourceInUseException, waitUntilStreamExists } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { FsLakeStore } from '../../ingest/fs-lake-store';
import type { LakeStore } from '../../ingest/lake-store';
import { LakeWriter } from '../../ingest/lake-writer';
import { S3LakeStore } from '../../ingest/s3-lake-store';
import type { LocalConfig } from '../config';
import { type DemoSenderAuth, demoSenderAuth } from '../dns-server/demo-zone';
import { demoIdentityStatus, dnsServerService } from '../dns-server/service';
import type { RowSink } from '../firehose/row-sink';
import { type LocalFirehose, startLocalFirehose } from '../firehose/server';
import { KinesisEventSink, resolveSinks } from '../ses-simulator/event-sinks';
import { type SesSimulatorServer, startSesSimulator } from '../ses-simulator/server';
import { createLocalClients } from '../stack/clients';
import { startDynamoDbLocal } from '../stack/dynamodb-local';
import { startFauxqsServer } from '../stack/fauxqs';
import { startKinesalite } from '../stack/kinesis-local';
import { findFreePort } from '../stack/ports';
import { ensureQueueWithDlq } from '../stack/sqs-queues';
import {
  createTrafficModel,
  defaultTenants,
  generateTraffic,
  MessagePlanner,
  recordEventTime,
  SeededRandom,
  type TenantProfile,
} from '../traffic-model';
import { onboardDemoTenant, setUpDemoIdentity } from './demo-tenants';
import { writeEndpointsFile } from './endpoints-file';
import { startLakeCompactor } from './lake-compactor';
import type { PipelineContext, PipelineService } from './service';
import { startTrafficDriver } from './traffic-driver';

export interface LocalPipelineOptions {
  config: LocalConfig;
  /** The lake directory (default `<dataDir>/lake`). */
  lakeDir?: string;
  /** Delete the data directory first. */
  fresh?: boolean;
  /** Listen on free ports instead of the configured ones (tests). */
  ephemeralPorts?: boolean;
  /** Keep DynamoDB Local and kinesalite in memory (tests). */
  inMemory?: boolean;
  /** Demo tenants (default 5: acme, globex, initech, umbrella — a bad sender — and hooli). */
  tenants?: readonly TenantProfile[] | number;
  seed?: number;
  /** Model delays × this factor in wall-clock time (default 0.02: an open 50 min after delivery comes in 1 min). */
  timeFactor?: number;
  /** GetAccount MaxSendRate of the simulated account (default 50). */
  maxSendRate?: number;
  /** Messages of the past 24 h sent straight into the local Firehose on a fresh data dir (default 10,000; 0: none). */
  historyMessages?: number;
  /** Live messages per second through the SES simulator (default 5; 0: no live traffic). */
  trafficRate?: number;
  /**
   * Where the lake writer puts the lake: `fs` (default) the directory `lakeDir`, which DuckDB and the dashboards read
   * and which survives restarts; `s3` the lake bucket on fauxqs (kept in memory), as the deployed stack does.
   */
  lakeStore?: 'fs' | 's3';
  /**
   * Compact the closed hours of the local lake this often (default 10 minutes; 0: never). Only for the `fs` lake:
   * hours that ended over an hour ago, each partition's files merged into one, duplicates dropped.
   */
  compactEveryMs?: number;
  /** Replaces the lake writer as the local Firehose's row sink (tests). */
  rowSink?: (ctx: PipelineContext) => RowSink;
  /** Services other areas add (dashboard, Email API, tables), started before live traffic. */
  extensions?: readonly PipelineService[];
  log?: (line: string) => void;
}

export interface RunningPipeline {
  ctx: PipelineContext;
  /** Names of the services that started, in order. */
  services: string[];
  /** Stops everything in reverse order (flushing the Firehose buffers first); safe to call twice. */
  stop(): Promise<void>;
}

async function preferredPort(port: number, ephemeral: boolean | undefined): Promise<number> {
  if (ephemeral || port === 0) return 0;
  const { createServer } = await import('node:net');
  const free = await new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  return free ? port : 0;
}

/** The stand-ins, resources, demo tenants, history and live traffic, in start order. */
export function coreServices(opts: LocalPipelineOptions): { before: PipelineService[]; after: PipelineService[] } {
  const cfg = opts.config;
  const res = cfg.resources;
  const seed = opts.seed ?? 1;
  const accountId = '123456789012';
  const region = 'us-east-1';
  const model = createTrafficModel();
  const tenantProfiles =
    typeof opts.tenants === 'number' || opts.tenants === undefined
      ? defaultTenants(opts.tenants ?? 5)
      : [...opts.tenants];
  // Sender authentication of the demo tenants (DNS records, SES identity statuses), once their domains are known.
  let senderAuth: DemoSenderAuth[] = [];
  const persistDir = (name: string) => (opts.inMemory ? undefined : join(cfg.dataDir, name));

  const before: PipelineService[] = [
    {
      name: 'dynamodb',
      async start(ctx) {
        const port = (await preferredPort(cfg.ports.dynamodb, opts.ephemeralPorts)) || (await findFreePort());
        const s = await startDynamoDbLocal({ port, dataDir: persistDir('dynamodb') });
        ctx.endpoints.dynamodb = s.endpoint;
        ctx.links.push({ label: 'DynamoDB Local', url: s.endpoint });
        return s;
      },
    },
    {
      name: 'fauxqs',
      async start(ctx) {
        const s = await startFauxqsServer({ port: await preferredPort(cfg.ports.fauxqs, opts.ephemeralPorts) });
        ctx.endpoints.fauxqs = s.endpoint;
        ctx.refreshClients();
        const { s3, sqs } = ctx.clients;
        await s3!.send(new CreateBucketCommand({ Bucket: res.lakeBucket }));
        await ensureQueueWithDlq(sqs!, { queue: res.reportingQueue, dlq: res.reportingDlq }, { maxReceiveCount: 5 });
        await sqs!.send(new CreateQueueCommand({ QueueName: res.sendQueue }));
        ctx.links.push({ label: 'SQS / SNS / S3 (fauxqs)', url: s.endpoint });
        return s;
      },
    },
    {
      name: 'kinesis',
      async start(ctx) {
        const s = await startKinesalite({
          port: await preferredPort(cfg.ports.kinesis, opts.ephemeralPorts),
          dataDir: persistDir('kinesis'),
        });
        ctx.endpoints.kinesis = s.endpoint;
        ctx.refreshClients();
        const k = ctx.clients.kinesis!;
        try {
          await k.send(new CreateStreamCommand({ StreamName: res.reputationStream, ShardCount: 2 }));
        } catch (err) {
          if (!(err instanceof ResourceInUseException)) throw err;
        }
        await waitUntilStreamExists({ client: k, maxWaitTime: 20, minDelay: 1 }, { StreamName: res.reputationStream });
        ctx.links.push({ label: `Kinesis (kinesalite), stream ${res.reputationStream}`, url: s.endpoint });
        return s;
      },
    },
    {
      name: 'firehose',
      async start(ctx) {
        const fh: LocalFirehose = await startLocalFirehose({
          port: await preferredPort(cfg.ports.firehose, opts.ephemeralPorts),
          streams: [res.eventsStream],
          sinkFor: (stream) => {
            if (opts.rowSink) return opts.rowSink(ctx);
            const store: LakeStore =
              opts.lakeStore === 's3' ? new S3LakeStore(ctx.clients.s3!, res.lakeBucket) : new FsLakeStore(ctx.lakeDir);
            return new LakeWriter({ store, stream });
          },
          // Locally the Firehose fan-out stands in for the EventBridge → Kinesis leg of the deployed stack.
          fanOutFor: () => new KinesisEventSink(ctx.clients.kinesis!, res.reputationStream),
          bufferIntervalMs: 5000,
          onProblem: (line) => ctx.log(line),
        });
        ctx.endpoints.firehose = fh.endpoint;
        ctx.refreshClients();
        ctx.shared.firehose = fh;
        ctx.links.push({ label: `Firehose (local), stream ${res.eventsStream}`, url: fh.endpoint });
        ctx.links.push({
          label: 'Lake (Parquet, events/dt=…/hour=…)',
          url: opts.lakeStore === 's3' ? `s3://${res.lakeBucket}/ on fauxqs` : ctx.lakeDir,
        });
        return { stop: () => fh.close() };
      },
    },
    {
      name: 'ses-simulator',
      async start(ctx) {
        const behaviour = new Map(tenantProfiles.map((t) => [t.name, t.sender]));
        const sim: SesSimulatorServer = await startSesSimulator({
          port: await preferredPort(cfg.ports.ses, opts.ephemeralPorts),
          dataDir: opts.inMemory ? undefined : cfg.dataDir,
          seed,
          accountId,
          region,
          timeFactor: opts.timeFactor ?? 0.02,
          maxSendRate: opts.maxSendRate ?? 50,
          sinks: resolveSinks({ firehose: ctx.clients.firehose }),
          senderBehaviour: ({ tenantName, tags }) => behaviour.get(tenantName ?? tags.tenant ?? ''),
          identityStatus: (domain) => demoIdentityStatus(senderAuth)(domain),
          onPublishError: (n, reason) => ctx.log(`ses-simulator: ${n} event records not published: ${reason}`),
        });
        ctx.endpoints.ses = sim.endpoint;
        ctx.refreshClients();
        ctx.shared.sesSimulator = sim;
        ctx.links.push({ label: 'SES v2 (simulator)', url: sim.endpoint });
        return { stop: () => sim.close({ flush: true }) };
      },
    },
    {
      name: 'demo-tenants',
      async start(ctx) {
        const planner = new MessagePlanner(tenantProfiles, model, new SeededRandom(seed + 1));
        senderAuth = demoSenderAuth(planner.profiles.map((p) => ({ name: p.tenant.name, fromDomain: p.fromDomain })));
        for (const s of senderAuth) await setUpDemoIdentity(ctx.clients.ses!, s.domain, s.mailFromDomain);
        for (const p of planner.profiles) {
          await onboardDemoTenant(ctx.clients.ses!, {
            tenant: p.tenant.name,
            configurationSet: p.configurationSet,
            deliveryStreamArn: `arn:aws:firehose:${region}:${accountId}:deliverystream/${res.eventsStream}`,
            accountId,
            region,
          });
        }
        ctx.shared.planner = planner;
        const bad = tenantProfiles.filter((t) => t.sender).map((t) => t.name);
        ctx.log(
          `tenants: ${tenantProfiles.map((t) => t.name).join(', ')}${bad.length ? ` (bad sender: ${bad.join(', ')})` : ''}`,
        );
        return undefined;
      },
    },
    dnsServerService({ setups: () => senderAuth, region, port: cfg.ports.dns }),
    {
      name: 'history',
      async start(ctx) {
        const n = opts.historyMessages ?? 10_000;
        const marker = join(cfg.dataDir, 'history-seeded');
        if (n <= 0 || existsSync(marker)) return undefined;
        ctx.log(`history: loading ${n.toLocaleString('en-US')} messages of the past 24 h through the Firehose ...`);
        const fh = ctx.shared.firehose!;
        const firehose = ctx.clients.firehose!;
        let batch: Uint8Array[] = [];
        let bytes = 0;
        let records = 0;
        const put = async () => {
          if (batch.length === 0) return;
          const out = await firehose.send(
            new PutRecordBatchCommand({
              DeliveryStreamName: res.eventsStream,
              Records: batch.map((Data) => ({ Data })),
            }),
          );
          if (out.FailedPutCount) throw new Error(`${out.FailedPutCount} history records were refused`);
          batch = [];
          bytes = 0;
        };
        const start = new Date(Date.now() - 24 * 3600_000);
        for (const r of generateTraffic({
          seed,
          tenants: tenantProfiles,
          messages: n,
          start,
          spanHours: 23.5,
          model,
        })) {
          // History ends now: events the model puts in the future (a late open) are left out.
          if (recordEventTime(r) > Date.now()) continue;
          const data = Buffer.from(`${JSON.stringify(r)}\n`);
          if (batch.length === 500 || bytes + data.byteLength > 3.5 * 1024 * 1024) await put();
          batch.push(data);
          bytes += data.byteLength;
          records++;
        }
        await put();
        await fh.flush();
        mkdirSync(cfg.dataDir, { recursive: true });
        writeFileSync(marker, `${new Date().toISOString()} ${records} records\n`);
        ctx.log(`history: ${records.toLocaleString('en-US')} SES records loaded`);
        return undefined;
      },
    },
  ];
  const after: PipelineService[] = [
    {
      name: 'lake-compaction',
      async start(ctx) {
        const everyMs = opts.compactEveryMs ?? 600_000;
        if (everyMs <= 0 || opts.lakeStore === 's3' || opts.rowSink) return undefined;
        const compactor = startLakeCompactor({ lakeDir: ctx.lakeDir, everyMs, settleMs: 3_600_000, log: ctx.log });
        ctx.shared.compactor = compactor;
        return compactor;
      },
    },
    {
      name: 'traffic',
      async start(ctx) {
        const rate = opts.trafficRate ?? 5;
        if (rate <= 0) return undefined;
        const driver = startTrafficDriver({
          ses: ctx.clients.ses!,
          planner: ctx.shared.planner!,
          ratePerSecond: rate,
          onProblem: (line) => ctx.log(line),
        });
        ctx.shared.traffic = driver;
        ctx.log(`traffic: ${rate} messages/s through the SES simulator`);
        return driver;
      },
    },
  ];
  return { before, after };
}

/**
 * Starts the local pipeline: stand-ins, resources, demo tenants, history, extensions, live traffic. If a service
 * fails to start, the ones already started are stopped and the error is rethrown.
 */
export async function startLocalPipeline(opts: LocalPipelineOptions): Promise<RunningPipeline> {
  const cfg = opts.config;
  if (opts.fresh) rmSync(cfg.dataDir, { recursive: true, force: true });
  mkdirSync(cfg.dataDir, { recursive: true });
  const lakeDir = opts.lakeDir ?? join(cfg.dataDir, 'lake');
  mkdirSync(lakeDir, { recursive: true });
  const log = opts.log ?? (() => {});
  // Clients handed to long-lived sinks stay in use after a refresh: retire them, destroy them all at the end.
  const retired: ReturnType<typeof createLocalClients>[] = [];
  let endpointsKey = '';
  const ctx: PipelineContext = {
    dataDir: cfg.dataDir,
    lakeDir,
    resources: cfg.resources,
    endpoints: {},
    clients: createLocalClients({}),
    refreshClients() {
      const key = JSON.stringify(ctx.endpoints);
      if (key === endpointsKey) return;
      endpointsKey = key;
      retired.push(ctx.clients);
      ctx.clients = createLocalClients(ctx.endpoints);
    },
    shared: {},
    links: [],
    log,
  };
  const { before, after } = coreServices(opts);
  const services = [...before, ...(opts.extensions ?? []), ...after];
  const started: { name: string; stop(): Promise<void> }[] = [];
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      for (const s of [...started].reverse()) {
        try {
          await s.stop();
        } catch (err) {
          log(`stopping ${s.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      ctx.clients.destroy();
      for (const c of retired) c.destroy();
    })();
    return stopping;
  };
  try {
    for (const service of services) {
      const t0 = Date.now();
      const handle = await service.start(ctx);
      if (process.env.SESFLOW_DEBUG) log(`${service.name} started in ${Date.now() - t0} ms`);
      ctx.refreshClients();
      started.push({ name: service.name, stop: handle ? () => handle.stop() : async () => {} });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  writeEndpointsFile(cfg.dataDir, { ...ctx.endpoints, lakeDir, resources: cfg.resources, pid: process.pid });
  return { ctx, services: started.map((s) => s.name), stop };
}
