import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { NAMED_QUERIES } from '../../queries/named-queries';
import { createHandler, toApiRequest } from '../api.handler';

const spec = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'reports-api.openapi.yaml'),
  'utf8',
);

describe('OpenAPI document', () => {
  it('documents every route the router serves and every report name', () => {
    for (const path of [
      '/v1/health:',
      '/v1/me:',
      '/v1/tenants:',
      '/v1/tenants/{tenantId}:',
      '/v1/tenants/{tenantId}/audit:',
      '/v1/tenants/{tenantId}/pause:',
      '/v1/tenants/{tenantId}/resume:',
      '/v1/reports:',
      '/v1/reports/{name}:',
    ]) {
      expect(spec).toContain(`\n  ${path}`);
    }
    for (const r of NAMED_QUERIES.values()) expect(spec).toContain(`- ${r.name}\n`);
  });
});

describe('Lambda handler (API Gateway HTTP API, payload 2.0)', () => {
  const event = {
    rawPath: '/v1/reports/tenant-summary',
    headers: { 'X-Api-Key': 'k', Accept: 'text/csv' },
    queryStringParameters: { from: '2026-05-01' },
    requestContext: { http: { method: 'GET' } },
    body: Buffer.from('{"reason":"x"}').toString('base64'),
    isBase64Encoded: true,
  } as unknown as APIGatewayProxyEventV2;

  it('passes method, path, lower-case headers, query and a decoded body to the router', () => {
    expect(toApiRequest(event)).toEqual({
      method: 'GET',
      path: '/v1/reports/tenant-summary',
      query: { from: '2026-05-01' },
      headers: { 'x-api-key': 'k', accept: 'text/csv' },
      body: '{"reason":"x"}',
    });
  });

  it("returns the router's status, headers and body unchanged", async () => {
    const handler = createHandler(async () => ({
      status: 403,
      headers: { 'content-type': 'application/json' },
      body: '{"error":"no"}',
    }));
    expect(await handler(event)).toEqual({
      statusCode: 403,
      headers: { 'content-type': 'application/json' },
      body: '{"error":"no"}',
    });
  });
});
