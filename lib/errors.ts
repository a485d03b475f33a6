/**
 * Base class of every error sesflow raises on purpose. Its message is written for the person who
 * reads it: one line, no stack trace, no serialised object. Each area has its own `errors.ts`
 * with subclasses.
 */
export class SesflowError extends Error {
  override name = 'SesflowError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bad input from a user or a caller (a CLI flag, an API parameter): answered with a clear one-line message. */
export class UsageError extends SesflowError {
  override name = 'UsageError';
}

/** A one-line, user-facing description of any thrown value: never a stack trace. */
/** A secret that cannot be used as read (no SecretString, a bad cache age); names the secret, never its value. */
export class SecretConfigError extends SesflowError {
  override name = 'SecretConfigError';
}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const msg = err.message.split('\n')[0]?.trim() ?? '';
    return msg || err.name;
  }
  return String(err).split('\n')[0] ?? 'unknown error';
}
