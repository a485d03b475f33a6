import type { RecipientEraser } from '../../dashboards/api/ports';
import type { LocalPusher } from '../../enrich/push/local-pusher';
import type { DynamoDbTenantRepository } from '../../tenants/dynamodb-tenant-repository';
import type { LocalConfig } from '../config';
import type { LocalDnsServer } from '../dns-server/server';
import type { LocalFirehose } from '../firehose/server';
import type { KinesisPoller } from '../kinesis-poller';
import type { ReportingReceiver } from '../reporting-receiver/server';
import type { LocalEmailApi } from '../services/email-api';
import type { LocalSenderAuth } from '../services/sender-auth';
import type { SesSimulatorServer } from '../ses-simulator/server';
import type { LocalClients, LocalEndpoints } from '../stack/clients';
import type { MessagePlanner } from '../traffic-model';
import type { LakeCompactor } from './lake-compactor';
import type { TrafficDriver } from './traffic-driver';

/**
 * What the services hand to later ones and to callers (tests, `sesflow start`'s summary), typed: each is set by the
 * service named beside it, once it has started.
 */
export interface PipelineShared {
  /** firehose */
  firehose?: LocalFirehose;
  /** ses-simulator */
  sesSimulator?: SesSimulatorServer;
  /** demo-tenants: the demo tenants and their traffic model. */
  planner?: MessagePlanner;
  /** lake-compaction */
  compactor?: LakeCompactor;
  /** traffic */
  traffic?: TrafficDriver;
  /** reputation */
  reputationPoller?: KinesisPoller;
  /** reputation: the tenant repository it writes. */
  tenantStatus?: DynamoDbTenantRepository;
  /** push */
  reportingReceiver?: ReportingReceiver;
  /** push */
  pushPusher?: LocalPusher;
  /** push */
  pushProducer?: KinesisPoller;
  /** email-api */
  emailApi?: LocalEmailApi;
  /** erasure: forgets a recipient in every store of the stack (the dashboard's `POST /v1/erasures`). */
  recipientEraser?: RecipientEraser;
  /** dns-server: the demo tenants' public DNS. */
  dnsServer?: LocalDnsServer;
  /** sender-auth */
  senderAuth?: LocalSenderAuth;
}

/** What the services of a local pipeline share while it starts and runs. */
export interface PipelineContext {
  dataDir: string;
  lakeDir: string;
  /** Names of the streams, queues, bucket and table the pipeline creates (local/config.ts). */
  resources: LocalConfig['resources'];
  /** Endpoints of the stand-ins started so far (`dynamodb`, `fauxqs`, `kinesis`, `ses`, `firehose`, and extras). */
  endpoints: LocalEndpoints & Record<string, string | undefined>;
  /** SDK clients for the endpoints so far; rebuilt by `refreshClients()` after a stand-in starts. */
  clients: LocalClients;
  refreshClients(): void;
  /** What services hand to later services, typed (PipelineShared). */
  shared: PipelineShared;
  /** Lines printed in the start banner: `label → where`. */
  links: { label: string; url: string }[];
  log(line: string): void;
}

/** A service of the local pipeline: started in list order, stopped in reverse order. */
export interface PipelineService {
  name: string;
  /** Starts the service; returns how to stop it (nothing to stop: return undefined). */
  start(ctx: PipelineContext): Promise<{ stop(): Promise<void> } | undefined>;
}

/** The stand-in behind each client of the context, as a log line names it. */
const CLIENT_STAND_INS = {
  dynamodb: 'DynamoDB Local',
  documentClient: 'DynamoDB Local',
  sqs: 'fauxqs',
  sns: 'fauxqs',
  s3: 'fauxqs',
  kinesis: 'kinesalite',
  ses: 'the SES simulator',
  firehose: 'the local Firehose',
} as const;
/** The stand-in behind each endpoint a service may need besides its clients. */
const ENDPOINT_STAND_INS = { ses: 'the SES simulator', dns: 'the local DNS server' } as const;

type ClientName = keyof typeof CLIENT_STAND_INS;
type EndpointName = keyof typeof ENDPOINT_STAND_INS;

/**
 * A service that runs only with the stand-ins it names: `clients` of the context, and `endpoints` it reaches itself.
 * When one of them is not running it logs `<name>: not started (needs …)` and starts nothing; otherwise `start` is
 * given them, none undefined.
 */
export function serviceNeeding<C extends ClientName, E extends EndpointName = never>(
  name: string,
  needs: { clients: readonly C[]; endpoints?: readonly E[] },
  start: (
    ctx: PipelineContext,
    clients: { [K in C]-?: NonNullable<LocalClients[K]> },
    endpoints: Record<E, string>,
  ) => ReturnType<PipelineService['start']>,
): PipelineService {
  return {
    name,
    async start(ctx) {
      const clients = {} as { [K in C]-?: NonNullable<LocalClients[K]> };
      const endpoints = {} as Record<E, string>;
      const missing: string[] = [];
      for (const c of needs.clients) {
        const client = ctx.clients[c];
        if (client) clients[c] = client as NonNullable<LocalClients[typeof c]>;
        else missing.push(CLIENT_STAND_INS[c]);
      }
      for (const e of needs.endpoints ?? []) {
        const url = ctx.endpoints[e];
        if (url) endpoints[e] = url;
        else missing.push(ENDPOINT_STAND_INS[e]);
      }
      if (missing.length === 0) return start(ctx, clients, endpoints);
      const names = [
        ...new Set([
          ...needs.clients.map((c) => CLIENT_STAND_INS[c]),
          ...(needs.endpoints ?? []).map((e) => ENDPOINT_STAND_INS[e]),
        ]),
      ];
      const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names[0];
      ctx.log(`${name}: not started (needs ${list})`);
      return undefined;
    },
  };
}
