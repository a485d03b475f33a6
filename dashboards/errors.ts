import { SesflowError, UsageError } from '../lib/errors';

/**
 * Errors of the dashboards area. Each carries the HTTP status the Reports API answers with; the message is one line
 * written for the caller (never a stack trace, never a serialised object).
 */
export class DashboardError extends SesflowError {
  override name = 'DashboardError';
  readonly status: number = 500;
}

/** A bad parameter, an unknown report, a malformed body: 400. */
export class BadRequestError extends UsageError {
  override name = 'BadRequestError';
  readonly status = 400;
}

/** No credential, or one that does not verify: 401. */
export class UnauthenticatedError extends DashboardError {
  override name = 'UnauthenticatedError';
  override readonly status = 401;
}

/** A valid credential asking for another tenant or an action its role does not allow: 403. */
export class ForbiddenError extends DashboardError {
  override name = 'ForbiddenError';
  override readonly status = 403;
}

/** An unknown route, tenant or report: 404. */
export class NotFoundError extends DashboardError {
  override name = 'NotFoundError';
  override readonly status = 404;
}

/** The key spent its token bucket: 429, with the seconds to wait. */
export class RateLimitedError extends DashboardError {
  override name = 'RateLimitedError';
  override readonly status = 429;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A pause that is already in force, a resume of an active tenant: 409. */
export class ConflictError extends DashboardError {
  override name = 'ConflictError';
  override readonly status = 409;
}

/** The status an error is answered with: 500 for anything not raised on purpose. */
export function statusOf(err: unknown): number {
  if (err instanceof BadRequestError) return 400;
  if (err instanceof DashboardError) return err.status;
  return 500;
}
