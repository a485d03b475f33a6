import { Logger } from '@aws-lambda-powertools/logger';
import { describeError } from '../lib/errors';
import { refreshedBefore } from '../lib/secret-source';
import { composeSendForLambda } from './api/compose-aws';
import { createBulkWorkerHandler } from './bulk-worker';

const logger = new Logger({ serviceName: 'sesflow-bulk-worker' });
const send = composeSendForLambda({ workerLog: (e) => logger.info('bulk chunk', { ...e }) });

/**
 * Bulk worker Lambda on the send jobs queue (event source mapping with `FunctionResponseTypes:
 * ['ReportBatchItemFailures']`): each record is one chunk of a job; records with entries left to retry are reported
 * in `batchItemFailures` and come back after the visibility timeout, the DLQ takes them after maxReceiveCount.
 */
export const handler = refreshedBefore(
  send.refreshSecrets,
  createBulkWorkerHandler(send.worker, {
    onRecordError: (messageId, err) => logger.warn('bulk chunk not done', { messageId, error: describeError(err) }),
  }),
);
