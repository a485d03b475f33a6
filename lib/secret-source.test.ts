import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { refreshedBefore, secretMaxAgeSeconds, secretSource } from './secret-source';

/** A real SDK client whose `send` answers from `values` (no network) and counts the reads. */
function fakeClient(values: Map<string, string>) {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const send = vi.spyOn(client, 'send').mockImplementation(async (command: unknown) => {
    if (!(command instanceof GetSecretValueCommand)) throw new Error('unexpected command');
    const id = command.input.SecretId!;
    const value = values.get(id);
    if (value === undefined) throw new Error(`no secret ${id}`);
    return { Name: id, SecretString: value };
  });
  return { client, send };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('secretSource', () => {
  it('reads once, answers from the cache within the max age, and reads the rotated value after it', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const values = new Map([['sesflow/test/key', 'first-value']]);
    const { client, send } = fakeClient(values);
    const read = secretSource({ secretId: 'sesflow/test/key', maxAgeSeconds: 300, client });
    expect(await read()).toBe('first-value');
    values.set('sesflow/test/key', 'rotated-value');
    vi.setSystemTime(new Date('2026-01-01T00:04:59Z'));
    expect(await read()).toBe('first-value');
    expect(send).toHaveBeenCalledTimes(1);
    vi.setSystemTime(new Date('2026-01-01T00:05:01Z'));
    expect(await read()).toBe('rotated-value');
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('parses a JSON secret when asked', async () => {
    const { client } = fakeClient(new Map([['j', '{"url":"https://r.example","apiKey":"k"}']]));
    const read = secretSource({ secretId: 'j', maxAgeSeconds: 60, json: true, client });
    expect(await read()).toEqual({ url: 'https://r.example', apiKey: 'k' });
  });

  it('refuses an empty secret in one line that names it and not its value', async () => {
    const { client } = fakeClient(new Map([['empty', '']]));
    await expect(secretSource({ secretId: 'empty', maxAgeSeconds: 60, client })()).rejects.toThrow(
      'secret empty has no SecretString',
    );
  });
});

describe('secretMaxAgeSeconds', () => {
  it('defaults to 300 seconds and accepts whole seconds above 0 only', () => {
    expect(secretMaxAgeSeconds({}, 'X_MAX_AGE')).toBe(300);
    expect(secretMaxAgeSeconds({ X_MAX_AGE: '30' }, 'X_MAX_AGE')).toBe(30);
    expect(() => secretMaxAgeSeconds({ X_MAX_AGE: '0' }, 'X_MAX_AGE')).toThrow('X_MAX_AGE must be a whole number');
    expect(() => secretMaxAgeSeconds({ X_MAX_AGE: '1.5' }, 'X_MAX_AGE')).toThrow('X_MAX_AGE must be a whole number');
  });
});

describe('refreshedBefore', () => {
  it('runs the refresh before every invocation and fails the invocation when the refresh fails', async () => {
    const order: string[] = [];
    let fail = false;
    const handler = refreshedBefore(
      async () => {
        order.push('refresh');
        if (fail) throw new Error('secret unreadable');
      },
      async (n: number) => {
        order.push(`handle ${n}`);
        return n * 2;
      },
    );
    expect(await handler(1)).toBe(2);
    expect(await handler(2)).toBe(4);
    expect(order).toEqual(['refresh', 'handle 1', 'refresh', 'handle 2']);
    fail = true;
    await expect(handler(3)).rejects.toThrow('secret unreadable');
    expect(order).not.toContain('handle 3');
  });
});
