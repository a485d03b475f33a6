import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describeError } from '../lib/errors';
import { composeSend } from './api/compose';
import { readEmailApiConfig, readUnsubscribeConfig } from './api/config';
import { createBulkWorkerHandler } from './bulk-worker';

const config = readEmailApiConfig();
const logger = new Logger({ serviceName: 'sesflow-bulk-worker' });
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const send = composeSend({
  doc,
  sqs: new SQSClient({}),
  ses: new SESv2Client({ maxAttempts: 1 }),
  tableName: config.tableName,
  sendQueueUrl: config.sendQueueUrl,
  rateScope: `ses-${process.env.AWS_REGION ?? 'local'}`,
  // One-click unsubscribe links on marketing mail (SESFLOW_UNSUBSCRIBE_URL and _SECRET).
  unsubscribe: readUnsubscribeConfig(),
  workerLog: (e) => logger.info('bulk chunk', { ...e }),
});

/**
 * Bulk worker Lambda on the send jobs queue (event source mapping with `FunctionResponseTypes:
 * ['ReportBatchItemFailures']`): each record is one chunk of a job; records with entries left to retry are reported
 * in `batchItemFailures` and come back after the visibility timeout, the DLQ takes them after maxReceiveCount.
 */
export const handler = createBulkWorkerHandler(send.worker, {
  onRecordError: (messageId, err) => logger.warn('bulk chunk not done', { messageId, error: describeError(err) }),
});
