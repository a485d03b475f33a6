import { AwsApiError } from '../errors';

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
export class FirehoseApiError extends AwsApiError<FirehoseErrorName> {
  override name = 'FirehoseApiError';
  constructor(code: FirehoseErrorName, message: string) {
    super(code, message, FIREHOSE_ERROR_STATUS);
  }
}
