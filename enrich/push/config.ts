import { PushConfigError } from './errors';
import { DEFAULT_SECRET_MAX_AGE_SECONDS } from './reporting-target';

/** Batch limits of a push: at most `maxRecords` records and `maxBytes` body bytes per request. */
export interface BatchLimits {
  maxRecords: number;
  maxBytes: number;
}

/** Default batch: up to 500 records or 1 MB, what the External Reporting API accepts per request. */
export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxRecords: 500, maxBytes: 1_000_000 };

/** How a batch is retried within one run: exponential backoff with full jitter, `Retry-After` honoured. */
export interface RetryPolicy {
  /** Attempts per batch in one run (then the queue message is retried later, or dead-lettered). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per-request timeout: a request not answered by then counts as failed and is retried. */
  timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  timeoutMs: 10_000,
};

/** Configuration of the push area, read once from the environment (names come from serverless.yml). */
export interface PushConfig {
  /**
   * Where External Reporting's URL and key come from: in AWS, `SESFLOW_REPORTING_SECRET_ID` (a Secrets Manager secret
   * read at run time, cached `SESFLOW_REPORTING_SECRET_MAX_AGE_SECONDS`); elsewhere `SESFLOW_REPORTING_URL` and
   * `SESFLOW_REPORTING_API_KEY`.
   */
  reporting:
    | { source: 'secret'; secretId: string; maxAgeSeconds: number }
    | { source: 'env'; reportingUrl: string; apiKey: string };
  /** `SESFLOW_PUSH_QUEUE_URL`: the records queue. */
  queueUrl: string;
  /** `SESFLOW_PUSH_DLQ_URL`: where refused batches go, with their reason. */
  dlqUrl: string;
  /** `SESFLOW_TABLE`: the single table (record state of the producer). */
  tableName: string | null;
  limits: BatchLimits;
  retry: RetryPolicy;
  /** `SESFLOW_PUSH_MAX_RECEIVE_COUNT`: the queue's redrive maxReceiveCount; at the last receive a failing batch is dead-lettered with its reason. */
  maxReceiveCount: number;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new PushConfigError(`${name} must be a whole number above 0, not ${v}`);
  return n;
}

function required(env: NodeJS.ProcessEnv, name: string, what: string): string {
  const v = env[name];
  if (!v) throw new PushConfigError(`${name} is not set (${what})`);
  return v;
}

/** Batch limits from `SESFLOW_PUSH_BATCH_RECORDS` and `SESFLOW_PUSH_BATCH_BYTES`. */
export function readBatchLimits(env: NodeJS.ProcessEnv = process.env): BatchLimits {
  return {
    maxRecords: positiveInt(env, 'SESFLOW_PUSH_BATCH_RECORDS', DEFAULT_BATCH_LIMITS.maxRecords),
    maxBytes: positiveInt(env, 'SESFLOW_PUSH_BATCH_BYTES', DEFAULT_BATCH_LIMITS.maxBytes),
  };
}

/** Retry policy from `SESFLOW_PUSH_MAX_ATTEMPTS`, `SESFLOW_PUSH_BASE_DELAY_MS`, `_MAX_DELAY_MS`, `_TIMEOUT_MS`. */
export function readRetryPolicy(env: NodeJS.ProcessEnv = process.env): RetryPolicy {
  return {
    maxAttempts: positiveInt(env, 'SESFLOW_PUSH_MAX_ATTEMPTS', DEFAULT_RETRY_POLICY.maxAttempts),
    baseDelayMs: positiveInt(env, 'SESFLOW_PUSH_BASE_DELAY_MS', DEFAULT_RETRY_POLICY.baseDelayMs),
    maxDelayMs: positiveInt(env, 'SESFLOW_PUSH_MAX_DELAY_MS', DEFAULT_RETRY_POLICY.maxDelayMs),
    timeoutMs: positiveInt(env, 'SESFLOW_PUSH_TIMEOUT_MS', DEFAULT_RETRY_POLICY.timeoutMs),
  };
}

/** Where the External Reporting target comes from (see {@link PushConfig.reporting}). */
export function readReportingSource(env: NodeJS.ProcessEnv = process.env): PushConfig['reporting'] {
  if (env.SESFLOW_REPORTING_SECRET_ID) {
    return {
      source: 'secret',
      secretId: env.SESFLOW_REPORTING_SECRET_ID,
      maxAgeSeconds: positiveInt(env, 'SESFLOW_REPORTING_SECRET_MAX_AGE_SECONDS', DEFAULT_SECRET_MAX_AGE_SECONDS),
    };
  }
  const reportingUrl = required(
    env,
    'SESFLOW_REPORTING_URL',
    'the External Reporting API base URL; or SESFLOW_REPORTING_SECRET_ID',
  );
  try {
    new URL(reportingUrl);
  } catch {
    throw new PushConfigError(`SESFLOW_REPORTING_URL is not a URL: ${reportingUrl}`);
  }
  return {
    source: 'env',
    reportingUrl,
    apiKey: required(env, 'SESFLOW_REPORTING_API_KEY', 'the External Reporting x-api-key'),
  };
}

export function readPushConfig(env: NodeJS.ProcessEnv = process.env): PushConfig {
  return {
    reporting: readReportingSource(env),
    queueUrl: required(env, 'SESFLOW_PUSH_QUEUE_URL', 'the records queue URL'),
    dlqUrl: required(env, 'SESFLOW_PUSH_DLQ_URL', 'the dead-letter queue URL'),
    tableName: env.SESFLOW_TABLE || null,
    limits: readBatchLimits(env),
    retry: readRetryPolicy(env),
    maxReceiveCount: positiveInt(env, 'SESFLOW_PUSH_MAX_RECEIVE_COUNT', 5),
  };
}
