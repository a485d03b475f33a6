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
