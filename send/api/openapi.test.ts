import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../../lib/http/api-key';
import { createHandler } from '../../lib/http/lambda';
import { MemorySendStore } from './memory-send-store';
import { createEmailApiRouter } from './router';

const spec = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'email-api.openapi.yaml'),
  'utf8',
);

describe('Email API OpenAPI document', () => {
  it('documents every route and every error status the router answers', () => {
    for (const path of ['/v1/messages:', '/v1/messages/{messageId}:', '/v1/batches:', '/v1/batches/{jobId}:'])
      expect(spec).toContain(`\n  ${path}`);
    for (const status of ['400', '401', '403', '404', '409', '413', '422', '429', '503'])
      expect(spec).toContain(`'${status}':`);
    expect(spec).toContain('name: x-api-key');
  });
});

describe('Email API Lambda handler (API Gateway HTTP API, payload 2.0)', () => {
  const store = new MemorySendStore();
  const handler = createHandler(
    createEmailApiRouter({
      lookupKey: async (h) => (h === hashApiKey('sfk_lambda_key') ? { tenantId: 'acme', keyId: 'k1' } : null),
      sender: {
        send: async (m) => ({ messageId: `0100019a-${m.to.length}`, suppressed: [] }),
        sendBulk: async () => [],
      },
      messages: store,
      jobs: store,
      queue: { enqueue: async () => undefined },
    }),
  );
  const event = (headers: Record<string, string>, body: string, isBase64Encoded = false) =>
    ({
      rawPath: '/v1/messages',
      headers,
      requestContext: { http: { method: 'POST' } },
      body,
      isBase64Encoded,
    }) as unknown as APIGatewayProxyEventV2;
  const message = JSON.stringify({ from: 'a@mail.acme.example', to: ['r@example.org'], subject: 's', text: 't' });

  it('reads the key whatever its header case, and a base64 body, and sends through the same router', async () => {
    const res = await handler(event({ 'X-Api-Key': 'sfk_lambda_key' }, Buffer.from(message).toString('base64'), true));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(String(res.body))).toEqual({ messageId: '0100019a-1', status: 'sent', suppressed: [] });
    expect(store.messages.get('0100019a-1')?.tenantId).toBe('acme');
  });

  it('answers 401 with one line when the key is missing', async () => {
    const res = await handler(event({}, message));
    expect(res.statusCode).toBe(401);
    expect(res.body).toBe('{"error":"an x-api-key header is required"}');
  });
});
