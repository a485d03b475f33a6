import { type AwsApiError, awsApiErrorClass } from '../errors';

/** Firehose error names with their HTTP status (awsJson1_1; `@aws-sdk/client-firehose` error schemas). */
export const FIREHOSE_ERROR_STATUS = {
  InvalidArgumentException: 400,
  ResourceNotFoundException: 400,
  ResourceInUseException: 400,
  LimitExceededException: 400,
  ServiceUnavailableException: 503,
  InternalFailure: 500,
} as const;
export type FirehoseErrorName = keyof typeof FIREHOSE_ERROR_STATUS;

/** An error returned to the Firehose client: status, `x-amzn-ErrorType` and `{ __type, message }`. */
export const FirehoseApiError = awsApiErrorClass('FirehoseApiError', FIREHOSE_ERROR_STATUS);
export type FirehoseApiError = AwsApiError<FirehoseErrorName>;
