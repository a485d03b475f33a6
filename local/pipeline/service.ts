import type { LocalConfig } from '../config';
import type { LocalClients, LocalEndpoints } from '../stack/clients';

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
  /** Named objects services hand to later services (e.g. `sesSimulator`, `firehose`, `planner`). */
  shared: Map<string, unknown>;
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

/**
 * Services other areas add to `sesflow start` (the dashboard, the Email API, DynamoDB tables): push an entry here
 * from the area's own module, and import that module from cli/commands/start.ts. They start after the stand-ins,
 * the demo tenants and the history, and before live traffic.
 */
export const PIPELINE_EXTENSIONS: PipelineService[] = [];
