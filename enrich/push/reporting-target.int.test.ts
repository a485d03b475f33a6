import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PushConfigError } from './errors';
import { secretTargetSource } from './reporting-target';

/**
 * A Secrets Manager stand-in on a local port: GetSecretValue over the service's JSON protocol (X-Amz-Target), so the
 * real SDK client and Powertools' provider do exactly what they do in AWS. Counts the reads.
 */
const secrets = new Map<string, string>();
let reads = 0;
let server: Server;
let client: SecretsManagerClient;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target']);
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      const value = secrets.get(SecretId);
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target !== 'secretsmanager.GetSecretValue' || value === undefined) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: `no secret ${SecretId}` }));
        return;
      }
      reads++;
      res.end(
        JSON.stringify({
          ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${SecretId}-AbCdEf`,
          Name: SecretId,
          SecretString: value,
          VersionId: `v${reads}`,
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  client = new SecretsManagerClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(() => {
  client.destroy();
  server.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('External Reporting target from Secrets Manager', () => {
  it('uses the cached value until its TTL ends, then picks up the rotated key without a redeploy', async () => {
    secrets.set(
      'sesflow/test/external-reporting',
      JSON.stringify({ url: 'https://reporting.example.com', apiKey: 'key-1' }),
    );
    reads = 0;
    const source = secretTargetSource({ secretId: 'sesflow/test/external-reporting', maxAgeSeconds: 1, client });
    expect(await source()).toEqual({ url: 'https://reporting.example.com', apiKey: 'key-1' });
    // Rotation: the secret's value changes; within the TTL the cached key is still used (one read so far).
    secrets.set(
      'sesflow/test/external-reporting',
      JSON.stringify({ url: 'https://reporting.example.com', apiKey: 'key-2' }),
    );
    expect((await source()).apiKey).toBe('key-1');
    expect(reads).toBe(1);
    await sleep(1_100);
    expect((await source()).apiKey).toBe('key-2');
    expect(reads).toBe(2);
  });

  it('refuses a secret without a URL and key in one line naming the secret, and reports a missing secret', async () => {
    secrets.set('sesflow/test/broken', JSON.stringify({ url: 'not a url' }));
    const broken = secretTargetSource({ secretId: 'sesflow/test/broken', maxAgeSeconds: 1, client });
    const err = (await broken().catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(PushConfigError);
    expect(err.message).toBe('secret sesflow/test/broken is not {"url", "apiKey"} (check url, apiKey)');
    const missing = secretTargetSource({ secretId: 'sesflow/test/none', maxAgeSeconds: 1, client });
    await expect(missing()).rejects.toThrow(/sesflow\/test\/none/);
  });
});
