import { SesflowError } from '../../lib/errors';

/** Base of the OpenSearch adapter's errors: one line each, never a document or a response body dump. */
export class OpenSearchAdapterError extends SesflowError {
  override name = 'OpenSearchAdapterError';
}

/** The cluster refused or failed a whole request (the HTTP status and OpenSearch's error type and reason). */
export class OpenSearchRequestError extends OpenSearchAdapterError {
  override name = 'OpenSearchRequestError';
  constructor(
    message: string,
    readonly statusCode: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A response the adapter cannot read (not the shape OpenSearch documents). */
export class OpenSearchResponseError extends OpenSearchAdapterError {
  override name = 'OpenSearchResponseError';
}

/** Bad input to the adapter (an empty tenant, a page size out of range, a cursor that was not ours). */
export class OpenSearchInputError extends OpenSearchAdapterError {
  override name = 'OpenSearchInputError';
}
