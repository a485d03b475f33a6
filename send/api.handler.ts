import { Logger } from '@aws-lambda-powertools/logger';
import { createHandler } from '../lib/http/lambda';
import { refreshedBefore } from '../lib/secret-source';
import { composeSendForLambda } from './api/compose-aws';
import { createEmailApiRouter } from './api/router';

const logger = new Logger({ serviceName: 'sesflow-email-api' });
const send = composeSendForLambda({
  // One structured line per request: ids, route and status (never keys, addresses or subjects).
  apiLog: (e) =>
    e.status >= 500 ? logger.error('email api request', { ...e }) : logger.info('email api request', { ...e }),
});

/**
 * Email API Lambda behind API Gateway (HTTP API, payload 2.0): the event becomes the same request the local
 * node:http server hands to the router (lib/http/lambda.ts), and the router's answer becomes the response. The
 * unsubscribe token key is read from Secrets Manager first when its cached copy is older than the max age.
 */
export const handler = refreshedBefore(send.refreshSecrets, createHandler(createEmailApiRouter(send.api)));
