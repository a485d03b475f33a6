import { type AwsApiError, awsApiErrorClass } from '../errors';

/**
 * The SESv2 error names the simulator answers with, and their HTTP status, as the SESv2 client's error schemas
 * declare them (`@aws-sdk/client-sesv2` dist-cjs: `SendingPausedException$ … { httpError: 400 }` and so on).
 */
export const SES_ERROR_STATUS = {
  AccountSuspendedException: 400,
  AlreadyExistsException: 400,
  BadRequestException: 400,
  ConflictException: 409,
  LimitExceededException: 400,
  MailFromDomainNotVerifiedException: 400,
  MessageRejected: 400,
  NotFoundException: 404,
  SendingPausedException: 400,
  TooManyRequestsException: 429,
  InternalServiceErrorException: 500,
} as const;
export type SesErrorName = keyof typeof SES_ERROR_STATUS;

/**
 * An error the simulator returns to the caller as SES would: HTTP status, `x-amzn-ErrorType: <name>` and a JSON
 * body `{ "message": … }`. The SDK reads the header first (smithy `loadErrorCode`), so the client throws the
 * named exception class.
 */
export const SesApiError = awsApiErrorClass('SesApiError', SES_ERROR_STATUS);
export type SesApiError = AwsApiError<SesErrorName>;
