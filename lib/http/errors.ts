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

/**
 * A subclass of {@link HttpError} answering with `status`. Each error keeps its explicit `name` string (bundlers may
 * rename classes, and callers match errors by name).
 */
function httpErrorClass(status: number, errorName: string) {
  return class extends HttpError {
    override name = errorName;
    override readonly status = status;
  };
}

/** Bad JSON, a missing field, a bad parameter, an unknown report: 400. */
export class BadRequestError extends httpErrorClass(400, 'BadRequestError') {}

/** No credential, or one that does not verify: 401. */
export class UnauthenticatedError extends httpErrorClass(401, 'UnauthenticatedError') {}

/** A valid credential asking for another tenant's data or an action its role does not allow: 403. */
export class ForbiddenError extends httpErrorClass(403, 'ForbiddenError') {}

/** An unknown route or resource: 404. */
export class NotFoundError extends httpErrorClass(404, 'NotFoundError') {}

/** A route that exists with another method: 405. */
export class MethodNotAllowedError extends httpErrorClass(405, 'MethodNotAllowedError') {}

/** The resource's state does not allow the request (a pause already in force, a refused send): 409. */
export class ConflictError extends httpErrorClass(409, 'ConflictError') {}

/** The body is over the route's limit: 413. */
export class PayloadTooLargeError extends httpErrorClass(413, 'PayloadTooLargeError') {}

/** SES refused the message itself (a bad address, an unverified sender): 422. */
export class UnprocessableError extends httpErrorClass(422, 'UnprocessableError') {}

/** Too many requests (a key's bucket is empty, SES throttles): 429, with the seconds to wait. */
export class TooManyRequestsError extends httpErrorClass(429, 'TooManyRequestsError') {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A dependency failed in a way the caller may retry: 503. */
export class UnavailableError extends httpErrorClass(503, 'UnavailableError') {}

/** The status an error is answered with: 500 for anything not raised on purpose. */
export function statusOf(err: unknown): number {
  return err instanceof HttpError ? err.status : 500;
}

/** A byte count as a 413 message names it: `16 KiB`, `5 MiB`. */
export function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KiB`;
}
