import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it, vi } from 'vitest';
import { readUnsubscribeConfig } from './config';
import { unsubscribeSecretRefresh } from './unsubscribe-secret';

const KEY = 'u'.repeat(48);

function clientAnswering(value: string) {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const send = vi.spyOn(client, 'send').mockImplementation(async () => ({ Name: 'u', SecretString: value }));
  return { client, send };
}

describe('the unsubscribe token key at run time', () => {
  it('takes a secret id instead of the key, and puts the key read from Secrets Manager in the config', async () => {
    const config = readUnsubscribeConfig({
      SESFLOW_UNSUBSCRIBE_URL: 'https://api.example.com/v1/unsubscribe',
      SESFLOW_UNSUBSCRIBE_SECRET_ID: 'arn:aws:secretsmanager:us-east-1:1:secret:unsub-AbCdEf',
      SESFLOW_UNSUBSCRIBE_SECRET_MAX_AGE_SECONDS: '120',
    });
    expect(config).toMatchObject({ secret: '', secretMaxAgeSeconds: 120 });
    const { client, send } = clientAnswering(KEY);
    const refresh = unsubscribeSecretRefresh(config, client);
    await refresh();
    await refresh();
    expect(config?.secret).toBe(KEY);
    // The second refresh is served from the cache.
    expect(send).toHaveBeenCalledTimes(1);
  });

  it('refuses a short key in one line naming the secret, and keeps the local key without a secret id', async () => {
    const remote = readUnsubscribeConfig({
      SESFLOW_UNSUBSCRIBE_URL: 'https://api.example.com/v1/unsubscribe',
      SESFLOW_UNSUBSCRIBE_SECRET_ID: 'unsub',
    });
    await expect(unsubscribeSecretRefresh(remote, clientAnswering('short').client)()).rejects.toThrow(
      'secret unsub must hold an unsubscribe key of at least 32 characters',
    );
    const local = readUnsubscribeConfig({
      SESFLOW_UNSUBSCRIBE_URL: 'http://localhost:4000/v1/unsubscribe',
      SESFLOW_UNSUBSCRIBE_SECRET: KEY,
    });
    const { client, send } = clientAnswering('never read');
    await unsubscribeSecretRefresh(local, client)();
    expect(local?.secret).toBe(KEY);
    expect(send).not.toHaveBeenCalled();
    expect(() => readUnsubscribeConfig({ SESFLOW_UNSUBSCRIBE_URL: 'https://api.example.com/v1/unsubscribe' })).toThrow(
      'SESFLOW_UNSUBSCRIBE_SECRET is not set',
    );
  });
});
