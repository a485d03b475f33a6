import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { readPushConfig } from './push/config';
import { type PusherDeps, pushSqsMessage } from './push/pusher';
import { createReportingApiClient } from './push/reporting-api-client';
import { SqsDeadLetterQueue } from './push/sqs-record-queue';

/** Time kept back from the Lambda timeout: a batch is never cut off mid-request by the runtime. */
const SAFETY_MARGIN_MS = 5_000;

const config = readPushConfig();
const logger = new Logger({ serviceName: 'sesflow-push' });
const deps: PusherDeps = {
  api: createReportingApiClient({ baseUrl: config.reportingUrl, apiKey: config.apiKey }),
  deadLetters: new SqsDeadLetterQueue(new SQSClient({}), config.dlqUrl),
  limits: config.limits,
  retry: config.retry,
  maxReceiveCount: config.maxReceiveCount,
  log: (level, message, keys) => logger[level](message, keys),
};
const processor = new BatchProcessor(EventType.SQS);

/**
 * Push Lambda on the records queue (event source mapping with `FunctionResponseTypes: ['ReportBatchItemFailures']`):
 * each message is one record batch, posted to External Reporting with its idempotency key and retried with backoff
 * within the invocation; refused batches go to the DLQ with their reason; a message not delivered in time is reported
 * in `batchItemFailures` and comes back after its visibility timeout.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const deadline = Date.now() + Math.max(1_000, context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS);
  const recordHandler = async (record: SQSRecord) => {
    const out = await pushSqsMessage(deps, record, deadline);
    logger.info('batch pushed', {
      messageId: record.messageId,
      delivered: out.delivered,
      deadLettered: out.deadLettered,
    });
  };
  return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
}
