import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRowSink } from '../../local/firehose/row-sink';
import { startTestOidcProvider, type TestOidcProvider } from '../../local/oidc-test-provider.test-support';
import type { RunningPipeline } from '../../local/pipeline/local-pipeline';
import { startTestPipeline } from '../../local/pipeline/test-pipeline.test-support';
import { emailApiPipelineService, type LocalEmailApi } from '../../local/services/email-api';
import { createTestCa, type TestCa, type TestCertificate } from '../../local/test-ca.test-support';
import { createAccessTokenVerifier } from './oauth';

// OAuth 2.0 client credentials and mutual TLS on the Email API, end to end: the local Email API served over TLS with
// client certificates from a CA made for the test, access tokens issued by a real OpenID Connect provider
// (oidc-provider) and checked against its JWKS, tenants and keys in DynamoDB Local, mail through the SES simulator.
// acme requires both; globex neither. The x-api-key is required whatever else is presented.

const dataDir = mkdtempSync(join(tmpdir(), 'sesflow-oauth-mtls-'));
let ca: TestCa;
let oidc: TestOidcProvider;
let otherOidc: TestOidcProvider;
let pipeline: RunningPipeline;
let api: LocalEmailApi;
let keys: Record<string, string>;
let acmeCert: TestCertificate;

beforeAll(async () => {
  ca = createTestCa();
  acmeCert = ca.client('acme-mtls-client');
  oidc = await startTestOidcProvider(['acme-client', 'globex-client']);
  otherOidc = await startTestOidcProvider(['acme-client']);
  pipeline = await startTestPipeline(dataDir, {
    tenants: [{ name: 'acme' }, { name: 'globex' }],
    maxSendRate: 200,
    rowSink: () => new MemoryRowSink(),
    extensions: [
      emailApiPipelineService({
        port: 0,
        tls: { key: ca.server.key, cert: ca.server.cert, ca: ca.ca },
        verifyAccessToken: createAccessTokenVerifier({
          kind: 'issuer',
          issuer: oidc.issuer,
          jwksUri: oidc.jwksUri,
          audience: oidc.audience,
        }),
      }),
    ],
  });
  api = pipeline.ctx.shared.emailApi!;
  keys = JSON.parse(readFileSync(join(dataDir, 'email-api-keys.json'), 'utf8'));
  await api.send.registry.setAuthentication(
    'acme',
    { oauthClientIds: ['acme-client'], mtlsSubjects: ['acme-mtls-client'] },
    { actor: 'test' },
  );
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  await oidc?.close();
  await otherOidc?.close();
  ca?.dispose();
  rmSync(dataDir, { recursive: true, force: true });
});

const MESSAGE = { from: 'news@mail.acme-example.com', to: ['reader@example.org'], subject: 'Hi', text: 'Hello' };

/** A call over HTTPS, trusting the test CA, with a client certificate if given. */
function call(
  method: string,
  path: string,
  opts: { key?: string; token?: string; cert?: TestCertificate; body?: unknown },
): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${api.url}${path}`,
      {
        method,
        ca: ca.ca,
        ...(opts.cert ? { cert: opts.cert.cert, key: opts.cert.key } : {}),
        headers: {
          'content-type': 'application/json',
          ...(opts.key ? { 'x-api-key': opts.key } : {}),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += String(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text || '{}') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Acme sends MESSAGE with its key, its client certificate and a token of acme-client with `scope`. */
const sendAsAcmeClient = async (scope: string) =>
  call('POST', '/v1/messages', {
    key: keys.acme,
    cert: acmeCert,
    token: await oidc.token('acme-client', scope),
    body: MESSAGE,
  });

describe('OAuth 2.0 and mutual TLS on the Email API', () => {
  it('serves HTTPS; a tenant that requires neither sends with its key alone', async () => {
    expect(api.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await call('POST', '/v1/messages', {
      key: keys.globex,
      body: { ...MESSAGE, from: 'news@mail.globex-example.com' },
    });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('sent');
  });

  it('a tenant that requires both accepts a request with its key, certificate and a token with the scope', async () => {
    const send = await sendAsAcmeClient('send');
    expect(send.status).toBe(200);
    const messageId = String(send.json.messageId);
    const read = await call('GET', `/v1/messages/${messageId}`, {
      key: keys.acme,
      cert: acmeCert,
      token: await oidc.token('acme-client', 'read'),
    });
    expect(read.status).toBe(200);
    expect(read.json.tenantId).toBe('acme');
  });

  it('refuses with 401 a request that lacks one of them, saying which', async () => {
    const token = await oidc.token('acme-client', 'send read');
    const cases: [string, Parameters<typeof call>[2], RegExp][] = [
      ['no certificate', { key: keys.acme, token }, /^tenant acme requires a TLS client certificate \(mutual TLS\)$/],
      [
        'a certificate of another subject',
        { key: keys.acme, token, cert: ca.client('globex-mtls-client') },
        /^the TLS client certificate is not one of tenant acme's$/,
      ],
      [
        'a certificate from another CA',
        { key: keys.acme, token, cert: createOtherCaClient() },
        /^tenant acme requires a TLS client certificate/,
      ],
      [
        'no token',
        { key: keys.acme, cert: acmeCert },
        /^tenant acme requires an OAuth 2.0 access token \(Authorization: Bearer\)$/,
      ],
      [
        'a token of another client',
        { key: keys.acme, cert: acmeCert, token: await oidc.token('globex-client', 'send') },
        /^the access token's client is not one of tenant acme's$/,
      ],
      [
        'a token of another issuer',
        { key: keys.acme, cert: acmeCert, token: await otherOidc.token('acme-client', 'send') },
        /^the access token is not valid/,
      ],
      [
        'a tampered token',
        { key: keys.acme, cert: acmeCert, token: `${token.slice(0, -4)}AAAA` },
        /^the access token is not valid/,
      ],
      ['no x-api-key, whatever else is there', { cert: acmeCert, token }, /^an x-api-key header is required$/],
    ];
    for (const [what, opts, error] of cases) {
      const res = await call('POST', '/v1/messages', { ...opts, body: MESSAGE });
      expect(res.status, what).toBe(401);
      expect(String(res.json.error), what).toMatch(error);
    }
  });

  it('answers 403 for a valid token without the scope the route needs', async () => {
    const res = await sendAsAcmeClient('read');
    expect(res.status).toBe(403);
    expect(res.json.error).toBe('the access token lacks the send scope');
  });
});

/** A client certificate for acme's subject, but from a CA the server does not trust. */
function createOtherCaClient(): TestCertificate {
  const other = createTestCa('another CA');
  try {
    return other.client('acme-mtls-client');
  } finally {
    other.dispose();
  }
}
