import { SesflowError } from '../lib/errors';

/** Base of the errors raised by the local stand-ins (`local/`). */
export class LocalStackError extends SesflowError {
  override name = 'LocalStackError';
}

/** A stand-in could not start: a missing prerequisite (Java), a port that never opened, a child that exited. */
export class StandInStartError extends LocalStackError {
  override name = 'StandInStartError';
}

/** Bad options for the traffic model or a stand-in. */
export class LocalConfigError extends LocalStackError {
  override name = 'LocalConfigError';
}

/** An error a stand-in returns to an AWS SDK client: the service's error name (`code`) and its HTTP status. */
export class AwsApiError<Code extends string> extends LocalStackError {
  override name = 'AwsApiError';
  readonly status: number;
  constructor(
    readonly code: Code,
    message: string,
    statusByCode: Readonly<Record<Code, number>>,
  ) {
    super(message);
    this.status = statusByCode[code];
  }
}

/**
 * The error class of one stand-in's service: its explicit `name` (bundlers rename classes) bound to the service's
 * HTTP status by error name, so a throw names only the code and the message.
 */
export function awsApiErrorClass<Code extends string>(
  name: string,
  statusByCode: Readonly<Record<Code, number>>,
): new (
  code: Code,
  message: string,
) => AwsApiError<Code> {
  return class extends AwsApiError<Code> {
    override name = name;
    constructor(code: Code, message: string) {
      super(code, message, statusByCode);
    }
  };
}
