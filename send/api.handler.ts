import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHandler } from '../lib/http/lambda';
import { composeSend } from './api/compose';
import { readEmailApiConfig } from './api/config';
import { createEmailApiRouter } from './api/router';

const config = readEmailApiConfig();
const logger = new Logger({ serviceName: 'sesflow-email-api' });
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const send = composeSend({
  doc,
  sqs: new SQSClient({}),
  // One attempt per call: the sender retries throttling through the shared rate limiter.
  ses: new SESv2Client({ maxAttempts: 1 }),
  tableName: config.tableName,
  sendQueueUrl: config.sendQueueUrl,
  rateScope: `ses-${process.env.AWS_REGION ?? 'local'}`,
  // One structured line per request: ids, route and status (never keys, addresses or subjects).
  apiLog: (e) =>
    e.status >= 500 ? logger.error('email api request', { ...e }) : logger.info('email api request', { ...e }),
});

/**
 * Email API Lambda behind API Gateway (HTTP API, payload 2.0): the event becomes the same request the local
 * node:http server hands to the router, and the router's answer becomes the response.
 */
export const handler = createHandler(createEmailApiRouter(send.api));
