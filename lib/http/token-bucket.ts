/**
 * A token bucket per key: `capacity` requests at once, refilled at `refillPerSecond`. Pure: the caller passes the
 * time, so tests need no clock. Buckets idle long enough to be full again are forgotten.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly capacity: number,
    readonly refillPerSecond: number,
  ) {}

  /** Takes one token for `key` at `nowMs`: `{ ok: true }`, or the seconds until a token is back. */
  take(key: string, nowMs: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    return this.spend(key, nowMs, true);
  }

  /** Whether `key` has a token at `nowMs`, without taking it. */
  peek(key: string, nowMs: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    return this.spend(key, nowMs, false);
  }

  private spend(key: string, nowMs: number, take: boolean): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const b = this.buckets.get(key) ?? { tokens: this.capacity, at: nowMs };
    const elapsed = Math.max(0, nowMs - b.at) / 1000;
    b.tokens = Math.min(this.capacity, b.tokens + elapsed * this.refillPerSecond);
    b.at = nowMs;
    this.buckets.set(key, b);
    if (this.buckets.size > 10_000) this.forgetFull(nowMs);
    if (b.tokens >= 1) {
      if (take) b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.refillPerSecond)) };
  }

  private forgetFull(nowMs: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((nowMs - b.at) / 1000) * this.refillPerSecond >= this.capacity) this.buckets.delete(k);
    }
  }
}
