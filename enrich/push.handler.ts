import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { readPushConfig } from './push/config';
import { type PusherDeps, pushSqsMessage } from './push/pusher';
import { createReportingApiClient, type ReportingApi } from './push/reporting-api-client';
import { fixedTargetSource, type ReportingTarget, secretTargetSource } from './push/reporting-target';
import { SqsDeadLetterQueue } from './push/sqs-record-queue';

/** Time kept back from the Lambda timeout: a batch is never cut off mid-request by the runtime. */
const SAFETY_MARGIN_MS = 5_000;

const config = readPushConfig();
const logger = new Logger({ serviceName: 'sesflow-push' });
// The URL and key are read when the function runs (Secrets Manager in AWS, cached with a TTL): a rotated key is used
// from the first invocation after the cache expires, on a new client; an unchanged target keeps its connections.
const target =
  config.reporting.source === 'secret'
    ? secretTargetSource({ secretId: config.reporting.secretId, maxAgeSeconds: config.reporting.maxAgeSeconds })
    : fixedTargetSource({ url: config.reporting.reportingUrl, apiKey: config.reporting.apiKey });
let current: { target: ReportingTarget; api: ReportingApi } | null = null;
async function reportingApi(): Promise<ReportingApi> {
  const t = await target();
  if (current && current.target.url === t.url && current.target.apiKey === t.apiKey) return current.api;
  current?.api.close();
  current = { target: t, api: createReportingApiClient({ baseUrl: t.url, apiKey: t.apiKey }) };
  return current.api;
}
const deps: Omit<PusherDeps, 'api'> = {
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
  const api = await reportingApi();
  const recordHandler = async (record: SQSRecord) => {
    const out = await pushSqsMessage({ ...deps, api }, record, deadline);
    logger.info('batch pushed', {
      messageId: record.messageId,
      delivered: out.delivered,
      deadLettered: out.deadLettered,
    });
  };
  return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
}
