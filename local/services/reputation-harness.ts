import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateConfigurationSetCommand,
  CreateTenantCommand,
  CreateTenantResourceAssociationCommand,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbCounterStore } from '../../enrich/reputation/dynamodb-counter-store';
import type { LiveDeps } from '../../enrich/reputation/live';
import { LogAlerter } from '../../enrich/reputation/log-alerter';
import { SesV2TenantControl } from '../../enrich/reputation/sesv2-tenant-control';
import { createTableInput, keys } from '../../lib/table-design';
import { DynamoDbTenantRepository } from '../../tenants/dynamodb-tenant-repository';
import { createLocalClients, startDynamoDbLocal, startSesSimulator } from '../stack';

/** The live path on the local stand-ins (DynamoDB Local, the SES simulator): for integration tests and the bench. */
export interface ReputationHarness {
  deps: LiveDeps;
  ses: SESv2Client;
  alerts: string[];
  counters: DynamoDbCounterStore;
  status: DynamoDbTenantRepository;
  /** Creates the SES tenant with its configuration set and the tenant profile (status active). */
  addTenant(tenantId: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startReputationHarness(now: () => Date): Promise<ReputationHarness> {
  const ddb = await startDynamoDbLocal();
  const sim = await startSesSimulator({ port: 0 });
  const clients = createLocalClients({ dynamodb: ddb.endpoint, ses: sim.endpoint });
  const table = `sesflow-rep-${process.pid}`;
  await clients.dynamodb!.send(new CreateTableCommand(createTableInput(table)));
  const doc = clients.documentClient!;
  const ses = clients.ses!;
  const counters = new DynamoDbCounterStore(doc, table);
  const status = new DynamoDbTenantRepository(doc, table);
  const alerts: string[] = [];
  const deps: LiveDeps = {
    counters,
    status,
    ses: new SesV2TenantControl(ses),
    alerter: new LogAlerter((e) => alerts.push(String(e.subject))),
    now,
  };
  return {
    deps,
    ses,
    alerts,
    counters,
    status,
    async addTenant(tenantId) {
      await ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: `${tenantId}-set` }));
      const t = await ses.send(new CreateTenantCommand({ TenantName: tenantId }));
      await ses.send(
        new CreateTenantResourceAssociationCommand({
          TenantName: tenantId,
          ResourceArn: `${String(t.TenantArn).split(':tenant/')[0]}:configuration-set/${tenantId}-set`,
        }),
      );
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: { ...keys.tenantProfile(tenantId), gsi1pk: 'TENANTS', gsi1sk: tenantId, status: 'active' },
        }),
      );
    },
    async stop() {
      clients.destroy();
      await sim.close();
      await ddb.stop();
    },
  };
}
