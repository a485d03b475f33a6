import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbTenantRepository } from '../../tenants/dynamodb-tenant-repository';
import { DynamoDbCounterStore } from '../reputation/dynamodb-counter-store';
import type { CheckDeps } from './check-tenant';
import { CounterComplaintRate } from './counter-complaint-rate';
import { ResolverDnsSource } from './dns-record-source';
import { DynamoDbReadinessStore } from './dynamodb-readiness-store';
import { SesV2AwsVerdictSource, SesV2IdentitySource } from './sesv2-identity-source';
import { TenantRepositorySource } from './tenant-repository-source';

/**
 * Wires the checks to their adapters: the tenant module's profiles, SESv2, DNS through `dns.Resolver`, the reputation
 * counters and the readiness item in the single table. The Lambda, the CLI and `sesflow start` all use it.
 */
export function composeSenderAuth(o: {
  doc: DynamoDBDocumentClient;
  ses: SESv2Client;
  tableName: string;
  region: string;
  dnsServers: readonly string[];
  oneClickUnsubscribe: boolean;
}): CheckDeps {
  return {
    tenants: new TenantRepositorySource(new DynamoDbTenantRepository(o.doc, o.tableName)),
    identities: new SesV2IdentitySource(o.ses),
    dns: new ResolverDnsSource(o.dnsServers),
    complaints: new CounterComplaintRate(new DynamoDbCounterStore(o.doc, o.tableName)),
    aws: new SesV2AwsVerdictSource(o.ses),
    store: new DynamoDbReadinessStore(o.doc, o.tableName),
    region: o.region,
    oneClickUnsubscribe: o.oneClickUnsubscribe,
  };
}
