import type { BackoffPolicy } from '../lib/retry';

export { backoffDelay } from '../lib/retry';

/** How the sender retries what SES throttled (the wait: lib/retry.ts `backoffDelay`, full jitter). */
export interface RetryPolicy extends BackoffPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5_000 };

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
