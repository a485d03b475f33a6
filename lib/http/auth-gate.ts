import { TooManyRequestsError, UnauthenticatedError } from './errors';
import type { ApiRequest } from './request';
import { TokenBucketLimiter } from './token-bucket';

/** Failed authentications allowed per client address: a burst of `capacity`, then `refillPerSecond`. */
export interface FailedAuthLimit {
  capacity: number;
  refillPerSecond: number;
}

/** 20 failures at once, then one every 5 s: a client with a stale key is told at once; guessing keys is not on. */
export const DEFAULT_FAILED_AUTH_LIMIT: FailedAuthLimit = { capacity: 20, refillPerSecond: 0.2 };

export interface AuthGateOptions<P> {
  /**
   * The caller of a request, or null when its credentials are missing or wrong; may throw an
   * {@link UnauthenticatedError} with its own reason. Only the headers (and the TLS client certificate) are read:
   * the body may not be there yet.
   */
  authenticate(req: ApiRequest): Promise<P | null>;
  /** The 401's one line when `authenticate` answers null. */
  unauthenticated: string;
  /** Null: no throttling of failures. */
  failedAuth?: FailedAuthLimit | null;
  now?: () => number;
}

/**
 * Authentication in front of a router, shared by the Email API and the Reports API:
 *
 * - failed attempts are throttled per client address: once an address has spent its allowance, its requests are
 *   answered 429 with `Retry-After` without their credentials being checked, so a guess tells nothing;
 * - the outcome is kept per request, so the node:http server can authenticate from the headers before it reads a
 *   body (a request without a valid key is refused unread) and the router then reads the same outcome.
 */
export class AuthGate<P> {
  private readonly outcomes = new WeakMap<ApiRequest, { principal: P } | { error: Error }>();
  private readonly failures: TokenBucketLimiter | null;
  private readonly now: () => number;

  constructor(private readonly opts: AuthGateOptions<P>) {
    const limit = opts.failedAuth === undefined ? DEFAULT_FAILED_AUTH_LIMIT : opts.failedAuth;
    this.failures = limit ? new TokenBucketLimiter(limit.capacity, limit.refillPerSecond) : null;
    this.now = opts.now ?? Date.now;
  }

  /** The request's caller; throws UnauthenticatedError (401) or TooManyRequestsError (429). */
  async principal(req: ApiRequest): Promise<P> {
    const known = this.outcomes.get(req);
    if (known) {
      if ('error' in known) throw known.error;
      return known.principal;
    }
    try {
      const principal = await this.check(req);
      this.outcomes.set(req, { principal });
      return principal;
    } catch (err) {
      if (err instanceof Error) this.outcomes.set(req, { error: err });
      throw err;
    }
  }

  /** Whether the request's credentials hold, answered from its headers alone (a body is not needed for it). */
  async admits(req: ApiRequest): Promise<boolean> {
    try {
      await this.principal(req);
      return true;
    } catch {
      return false;
    }
  }

  private async check(req: ApiRequest): Promise<P> {
    const address = req.clientIp ?? 'unknown';
    const blocked = this.failures?.peek(address, this.now());
    if (blocked && !blocked.ok) {
      throw new TooManyRequestsError(
        'too many failed authentication attempts from this address',
        blocked.retryAfterSeconds,
      );
    }
    let principal: P | null;
    try {
      principal = await this.opts.authenticate(req);
    } catch (err) {
      if (err instanceof UnauthenticatedError) this.failures?.take(address, this.now());
      throw err;
    }
    if (principal === null) {
      this.failures?.take(address, this.now());
      throw new UnauthenticatedError(this.opts.unauthenticated);
    }
    return principal;
  }
}
