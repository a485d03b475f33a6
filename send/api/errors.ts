import { SesflowError } from '../../lib/errors';

/**
 * Errors of the Email API. Each carries the HTTP status it is answered with; the message is one line written for
 * the caller (never a stack trace, never a serialised object).
 */
export class EmailApiError extends SesflowError {
  override name = 'EmailApiError';
  readonly status: number = 500;
}

/** Bad JSON, a missing field, too many recipients, a bad tag value: 400. */
export class BadRequestError extends EmailApiError {
  override name = 'BadRequestError';
  override readonly status = 400;
}

/** No `x-api-key`, or one that is not known: 401. */
export class UnauthenticatedError extends EmailApiError {
  override name = 'UnauthenticatedError';
  override readonly status = 401;
}

/** A valid key asking for another tenant's message or batch: 403. */
export class ForbiddenError extends EmailApiError {
  override name = 'ForbiddenError';
  override readonly status = 403;
}

/** An unknown route, message or batch: 404. */
export class NotFoundError extends EmailApiError {
  override name = 'NotFoundError';
  override readonly status = 404;
}

/** A route that exists with another method: 405. */
export class MethodNotAllowedError extends EmailApiError {
  override name = 'MethodNotAllowedError';
  override readonly status = 405;
}

/** The tenant may not send now (paused or suspended): 409, with why and since when. */
export class SendRefusedError extends EmailApiError {
  override name = 'SendRefusedError';
  override readonly status = 409;
}

/** The body is over the route's limit: 413. */
export class PayloadTooLargeError extends EmailApiError {
  override name = 'PayloadTooLargeError';
  override readonly status = 413;
}

/** SES refused the message itself (a bad address, an unverified sender): 422. */
export class MessageRejectedError extends EmailApiError {
  override name = 'MessageRejectedError';
  override readonly status = 422;
}

/** SES throttled the send even after the sender's retries: 429, with the seconds to wait. */
export class ThrottledError extends EmailApiError {
  override name = 'ThrottledError';
  override readonly status = 429;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A dependency (SQS, DynamoDB, SES) failed in a way the caller may retry: 503. */
export class UnavailableError extends EmailApiError {
  override name = 'UnavailableError';
  override readonly status = 503;
}

/** The status an error is answered with: 500 for anything not raised on purpose. */
export function statusOf(err: unknown): number {
  return err instanceof EmailApiError ? err.status : 500;
}

/** Two deliveries of the same bulk chunk wrote at once: the loser's SQS message is retried (and finds it done). */
export class ChunkConflictError extends SesflowError {
  override name = 'ChunkConflictError';
}

/** SQS refused some messages of a batch even after retries. */
export class EnqueueError extends SesflowError {
  override name = 'EnqueueError';
}
