import { SesflowError } from '../errors';

/**
 * Errors an HTTP API answers on purpose. Each carries its status; the message is one line written for the caller
 * (never a stack trace, never a serialised object). Both APIs (the Reports API in dashboards/, the Email API in
 * send/api/) raise these; an area's `errors.ts` re-exports the ones it uses.
 */
export class HttpError extends SesflowError {
  override name = 'HttpError';
  readonly status: number = 500;
}

/** Bad JSON, a missing field, a bad parameter, an unknown report: 400. */
export class BadRequestError extends HttpError {
  override name = 'BadRequestError';
  override readonly status = 400;
}

/** No credential, or one that does not verify: 401. */
export class UnauthenticatedError extends HttpError {
  override name = 'UnauthenticatedError';
  override readonly status = 401;
}

/** A valid credential asking for another tenant's data or an action its role does not allow: 403. */
export class ForbiddenError extends HttpError {
  override name = 'ForbiddenError';
  override readonly status = 403;
}

/** An unknown route or resource: 404. */
export class NotFoundError extends HttpError {
  override name = 'NotFoundError';
  override readonly status = 404;
}

/** A route that exists with another method: 405. */
export class MethodNotAllowedError extends HttpError {
  override name = 'MethodNotAllowedError';
  override readonly status = 405;
}

/** The resource's state does not allow the request (a pause already in force, a refused send): 409. */
export class ConflictError extends HttpError {
  override name = 'ConflictError';
  override readonly status = 409;
}

/** The body is over the route's limit: 413. */
export class PayloadTooLargeError extends HttpError {
  override name = 'PayloadTooLargeError';
  override readonly status = 413;
}

/** SES refused the message itself (a bad address, an unverified sender): 422. */
export class UnprocessableError extends HttpError {
  override name = 'UnprocessableError';
  override readonly status = 422;
}

/** Too many requests (a key's bucket is empty, SES throttles): 429, with the seconds to wait. */
export class TooManyRequestsError extends HttpError {
  override name = 'TooManyRequestsError';
  override readonly status = 429;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A dependency failed in a way the caller may retry: 503. */
export class UnavailableError extends HttpError {
  override name = 'UnavailableError';
  override readonly status = 503;
}

/** The status an error is answered with: 500 for anything not raised on purpose. */
export function statusOf(err: unknown): number {
  return err instanceof HttpError ? err.status : 500;
}

/** A byte count as a 413 message names it: `16 KiB`, `5 MiB`. */
export function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KiB`;
}
