import { HttpError } from '../lib/http/errors';

export {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  statusOf,
  TooManyRequestsError as RateLimitedError,
  UnauthenticatedError,
  UnavailableError,
} from '../lib/http/errors';

/**
 * Errors of the dashboards area. Each carries the HTTP status the Reports API answers with (lib/http/errors.ts); the
 * message is one line written for the caller (never a stack trace, never a serialised object). A `DashboardError`
 * is a failure of the area itself (configuration, a store): 500.
 */
export class DashboardError extends HttpError {
  override name = 'DashboardError';
}
