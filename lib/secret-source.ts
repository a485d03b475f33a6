import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretConfigError } from './errors';

/** How long a read secret is used before it is read again, unless the function's `..._MAX_AGE_SECONDS` says. */
export const DEFAULT_SECRET_MAX_AGE_SECONDS = 300;

/** A secret's current value: read from Secrets Manager when asked, cheap while the cached value is fresh. */
export type SecretSource<T> = () => Promise<T>;

/**
 * A secret read from Secrets Manager when the function runs (never resolved into its environment), through
 * Powertools' SecretsProvider: cached for `maxAgeSeconds`, then read again, so a rotated secret is in use at most that
 * long after rotation without a deploy. `json` parses the SecretString; otherwise the string itself is returned.
 * A secret that is not a (non-empty) string throws one line naming the secret, never its value.
 */
export function secretSource(opts: {
  secretId: string;
  maxAgeSeconds: number;
  json: true;
  client?: SecretsManagerClient;
}): SecretSource<unknown>;
export function secretSource(opts: {
  secretId: string;
  maxAgeSeconds: number;
  json?: false;
  client?: SecretsManagerClient;
}): SecretSource<string>;
export function secretSource(opts: {
  secretId: string;
  maxAgeSeconds: number;
  json?: boolean;
  client?: SecretsManagerClient;
}): SecretSource<unknown> {
  const provider = new SecretsProvider(opts.client ? { awsSdkV3Client: opts.client } : {});
  if (opts.json) return () => provider.get(opts.secretId, { maxAge: opts.maxAgeSeconds, transform: 'json' });
  return async () => {
    const value = await provider.get(opts.secretId, { maxAge: opts.maxAgeSeconds });
    if (typeof value !== 'string' || value === '')
      throw new SecretConfigError(`secret ${opts.secretId} has no SecretString`);
    return value;
  };
}

/** The cache age from the environment variable `name`: a whole number of seconds above 0, else `fallback`. */
export function secretMaxAgeSeconds(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback = DEFAULT_SECRET_MAX_AGE_SECONDS,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new SecretConfigError(`${name} must be a whole number of seconds (1 or more)`);
  return n;
}

/**
 * `handler` run after `refresh` on every invocation: how a function whose secret is read at run time keeps it current
 * (`refresh` is cheap while the cached secret is fresh).
 */
export function refreshedBefore<A extends unknown[], R>(
  refresh: () => Promise<void>,
  handler: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    await refresh();
    return handler(...args);
  };
}
