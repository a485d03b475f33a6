import { SesflowError } from '../../lib/errors';

import { ConflictError, HttpError, UnprocessableError } from '../../lib/http/errors';

export {
  BadRequestError,
  ForbiddenError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  statusOf,
  TooManyRequestsError as ThrottledError,
  UnauthenticatedError,
  UnavailableError,
} from '../../lib/http/errors';

/**
 * Errors of the Email API. Each carries the HTTP status it is answered with (lib/http/errors.ts); the message is one
 * line written for the caller (never a stack trace, never a serialised object).
 */
export class EmailApiError extends HttpError {
  override name = 'EmailApiError';
}

/** The tenant may not send now (paused or suspended): 409, with why and since when. */
export class SendRefusedError extends ConflictError {
  override name = 'SendRefusedError';
}

/** SES refused the message itself (a bad address, an unverified sender): 422. */
export class MessageRejectedError extends UnprocessableError {
  override name = 'MessageRejectedError';
}

/** Two deliveries of the same bulk chunk wrote at once: the loser's SQS message is retried (and finds it done). */
export class ChunkConflictError extends SesflowError {
  override name = 'ChunkConflictError';
}

/** SQS refused some messages of a batch even after retries. */
export class EnqueueError extends SesflowError {
  override name = 'EnqueueError';
}
