import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { checkAllTenants } from './sender-auth/check-tenant';
import { composeSenderAuth } from './sender-auth/compose';
import { readSenderAuthConfig } from './sender-auth/config';

const config = readSenderAuthConfig();
const logger = new Logger({ serviceName: 'sesflow-sender-auth' });
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const deps = composeSenderAuth({
  doc,
  ses: new SESv2Client({}),
  tableName: config.tableName,
  region: config.region,
  dnsServers: config.dnsServers,
  oneClickUnsubscribe: config.oneClickUnsubscribe,
});

/**
 * The scheduled sender-auth check (EventBridge schedule): every tenant's domains checked, results stored and changes
 * audited. A tenant whose check fails is logged by id and reason and checked again at the next run; the run itself
 * succeeds, so one tenant's DNS trouble does not retry everyone's checks.
 */
export const handler = async (): Promise<{ checked: number; failed: number }> => {
  const r = await checkAllTenants(deps, { actor: 'sender-auth schedule' });
  for (const c of r.checked) logger.info('sender readiness', { tenant: c.tenantId, verdict: c.verdict });
  for (const f of r.failed) logger.error('sender readiness not checked', { tenant: f.tenantId, error: f.error });
  return { checked: r.checked.length, failed: r.failed.length };
};
