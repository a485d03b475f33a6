/** How long retries wait: exponential from `baseDelayMs`, never over `maxDelayMs`. */
export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Exponential backoff with full jitter: a uniform wait in [0, min(max, base · 2^(retry-1))), whole milliseconds.
 * Callers that failed at the same moment do not come back together. `retry` counts from 1 (the first retry).
 */
export function backoffDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(retry, policy));
}

/** The longest wait before retry `retry` (from 1): `min(max, base · 2^(retry-1))`. */
export function backoffCeiling(retry: number, policy: BackoffPolicy): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
