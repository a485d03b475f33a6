import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DEFAULT_SECRET_MAX_AGE_SECONDS, secretSource } from '../../lib/secret-source';
import { EmailApiConfigError, MIN_UNSUBSCRIBE_SECRET_LENGTH, type UnsubscribeConfig } from './config';

/**
 * Keeps `config.secret` current from Secrets Manager (`config.secretId`, cached `config.secretMaxAgeSeconds`): the
 * returned refresh is run before each invocation of the functions that seal or open unsubscribe links, so a rotated
 * key is in use within the max age without a deploy. Without a secret id (local runs) or without unsubscribe links it
 * does nothing. A key shorter than 32 characters fails in one line naming the secret.
 */
export function unsubscribeSecretRefresh(
  config: UnsubscribeConfig | null,
  client?: SecretsManagerClient,
): () => Promise<void> {
  if (!config?.secretId) return async () => {};
  const secretId = config.secretId;
  const read = secretSource({
    secretId,
    maxAgeSeconds: config.secretMaxAgeSeconds ?? DEFAULT_SECRET_MAX_AGE_SECONDS,
    ...(client ? { client } : {}),
  });
  return async () => {
    const secret = await read();
    if (secret.length < MIN_UNSUBSCRIBE_SECRET_LENGTH) {
      throw new EmailApiConfigError(
        `secret ${secretId} must hold an unsubscribe key of at least ${MIN_UNSUBSCRIBE_SECRET_LENGTH} characters`,
      );
    }
    config.secret = secret;
  };
}
