/** How the sender retries what SES throttled. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The first retry waits up to this long; each later one up to twice as long as the one before. */
  baseDelayMs: number;
  /** No wait is longer than this. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5_000 };

/**
 * Exponential backoff with full jitter (a uniform wait between 0 and `base * 2^(retry-1)`, capped): the workers
 * SES throttled at the same moment do not come back together. `retry` counts from 1 (the first retry).
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * SES errors that mean "slow down, then try again": TooManyRequestsException (MaxSendRate or an API rate),
 * LimitExceededException, and the SDK's generic throttling names.
 */
const THROTTLING = new Set(['TooManyRequestsException', 'LimitExceededException', 'ThrottlingException', 'Throttling']);

export function isThrottlingError(err: unknown): boolean {
  return err instanceof Error && THROTTLING.has(err.name);
}

/**
 * Errors worth another attempt now: throttling, SES's own transient faults (5xx), and failures that never got an
 * answer from SES (a reset connection: the SDK error then carries no HTTP status).
 */
export function isRetryableSesError(err: unknown): boolean {
  if (isThrottlingError(err)) return true;
  if (!(err instanceof Error)) return false;
  const meta = err as { $fault?: string; $metadata?: { httpStatusCode?: number } };
  const status = meta.$metadata?.httpStatusCode;
  if (err.name === 'InternalServiceErrorException' || meta.$fault === 'server') return true;
  if (typeof status === 'number') return status >= 500;
  return meta.$fault === undefined;
}
