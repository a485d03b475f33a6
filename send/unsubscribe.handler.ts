import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHandler } from '../lib/http/lambda';
import { refreshedBefore } from '../lib/secret-source';
import { readUnsubscribeConfig } from './api/config';
import { createUnsubscribeRouter } from './api/unsubscribe-router';
import { unsubscribeSecretRefresh } from './api/unsubscribe-secret';
import { UnsubscribeConfigError } from './errors';
import { FirehoseUnsubscribeEvents } from './firehose-unsubscribe-events';
import { TenantRegistry } from './registry';
import { SesSuppressionList } from './suppression-list';
import { unsubscribe } from './unsubscribe';

const config = readUnsubscribeConfig();
if (!config) throw new UnsubscribeConfigError('SESFLOW_UNSUBSCRIBE_URL is not set');
const tableName = process.env.SESFLOW_TABLE;
if (!tableName) throw new UnsubscribeConfigError('SESFLOW_TABLE is not set');
const logger = new Logger({ serviceName: 'sesflow-unsubscribe' });
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const registry = new TenantRegistry(doc, tableName);
const suppression = new SesSuppressionList(new SESv2Client({}));
const events = config.eventsStream ? new FirehoseUnsubscribeEvents(new FirehoseClient({}), config.eventsStream) : null;

/**
 * The one-click unsubscribe endpoint behind API Gateway (`GET|POST /v1/unsubscribe`, no authorizer: the token is the
 * credential). One log line per request: status, tenant and outcome, never the token or the address. The token key
 * is read from Secrets Manager (SESFLOW_UNSUBSCRIBE_SECRET_ID) first when its cached copy is older than the max age.
 */
export const handler = refreshedBefore(
  unsubscribeSecretRefresh(config),
  createHandler(
    createUnsubscribeRouter({
      unsubscribe: (token) => unsubscribe({ secret: config.secret, tenants: registry, suppression, events }, token),
      log: (e) => (e.status >= 500 ? logger.error('unsubscribe', { ...e }) : logger.info('unsubscribe', { ...e })),
    }),
  ),
);
