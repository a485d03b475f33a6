import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableSesError, isThrottlingError, type RetryPolicy } from './retry';

const policy: RetryPolicy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1_000 };

function named(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(name), { name, ...extra });
}

describe('backoff', () => {
  it('doubles the ceiling with each retry until the cap', () => {
    const top = (retry: number) => backoffDelay(retry, policy, () => 0.999_999);
    expect([1, 2, 3, 4, 5, 6].map(top)).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('is full jitter: anywhere from 0 up to the ceiling', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(4, policy);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(800);
      seen.add(d);
    }
    expect(seen.size).toBeGreaterThan(20);
  });
});

describe('which SES errors are retried', () => {
  it('retries throttling, server faults and unanswered requests', () => {
    expect(isThrottlingError(named('TooManyRequestsException', { $fault: 'client' }))).toBe(true);
    expect(isRetryableSesError(named('LimitExceededException', { $fault: 'client' }))).toBe(true);
    expect(
      isRetryableSesError(
        named('InternalServiceErrorException', { $fault: 'server', $metadata: { httpStatusCode: 500 } }),
      ),
    ).toBe(true);
    expect(isRetryableSesError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
  });

  it('does not retry SES refusing the request', () => {
    for (const name of ['SendingPausedException', 'MessageRejected', 'BadRequestException', 'NotFoundException']) {
      expect(isRetryableSesError(named(name, { $fault: 'client', $metadata: { httpStatusCode: 400 } }))).toBe(false);
    }
  });
});
