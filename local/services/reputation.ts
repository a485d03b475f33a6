import { join } from 'node:path';
import { DynamoDbCounterStore } from '../../enrich/reputation/dynamodb-counter-store';
import { type LiveDeps, processStreamBatch } from '../../enrich/reputation/live';
import { LogAlerter } from '../../enrich/reputation/log-alerter';
import { SesV2TenantControl } from '../../enrich/reputation/sesv2-tenant-control';
import { ensureTable } from '../../lib/table-design';
import { DynamoDbTenantRepository } from '../../tenants/dynamodb-tenant-repository';
import { startKinesisPoller } from '../kinesis-poller';
import { type PipelineService, serviceNeeding } from '../pipeline/service';

export interface ReputationServiceOptions {
  /** Pause when a shard has nothing new (default 200 ms). */
  idleMs?: number;
}

/**
 * The reputation live path as a service of `sesflow start`: the same `processStreamBatch` the Lambda runs, fed by a
 * local stand-in for the Kinesis event source mapping (local/kinesis-poller.ts) on the pipeline's stream, with the
 * counters and tenant status in the shared table on DynamoDB Local, the SES simulator as SES, and alerts as log
 * lines. Shard positions are kept in `<dataDir>/reputation-consumer.json`.
 */
export function reputationPipelineService(opts: ReputationServiceOptions = {}): PipelineService {
  return serviceNeeding(
    'reputation',
    { clients: ['dynamodb', 'documentClient', 'kinesis', 'ses'] },
    async (ctx, { dynamodb, documentClient, kinesis, ses }) => {
      const table = ctx.resources.table;
      await ensureTable(dynamodb, table);
      const status = new DynamoDbTenantRepository(documentClient, table);
      const deps: LiveDeps = {
        counters: new DynamoDbCounterStore(documentClient, table),
        status,
        ses: new SesV2TenantControl(ses),
        alerter: new LogAlerter((e) => ctx.log(`reputation alert: ${String(e.subject)}`)),
        now: () => new Date(),
        log: (level, message, keys) => {
          if (level !== 'info') ctx.log(JSON.stringify({ level, msg: `reputation: ${message}`, ...keys }));
        },
      };
      const poller = await startKinesisPoller({
        kinesis,
        streamName: ctx.resources.reputationStream,
        consumer: 'reputation',
        checkpointFile: join(ctx.dataDir, 'reputation-consumer.json'),
        idleMs: opts.idleMs ?? 200,
        handler: (batch) => processStreamBatch(deps, batch),
        onProblem: (line) => ctx.log(line),
      });
      ctx.shared.reputationPoller = poller;
      ctx.shared.tenantStatus = status;
      ctx.log(`reputation: consuming ${ctx.resources.reputationStream} (counters and status in table ${table})`);
      return poller;
    },
  );
}
