import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { startContractRecorder, takeContractResults } from './contract-recorder';
import { OPENAPI_DOCUMENT } from './http/node-server';
import { type HttpExchange, OpenApiContract } from './openapi-contract';

const json = (status: number, value: unknown, headers: Record<string, string> = {}): HttpExchange => ({
  method: 'GET',
  path: '/v1/me',
  requestHeaders: {},
  status,
  responseHeaders: { 'content-type': 'application/json; charset=utf-8', ...headers },
  responseBody: Buffer.from(JSON.stringify(value)),
});

let reports: OpenApiContract;
let email: OpenApiContract;
let reporting: OpenApiContract;
beforeAll(async () => {
  [reports, email, reporting] = await Promise.all([
    OpenApiContract.load('reports-api.openapi.yaml'),
    OpenApiContract.load('email-api.openapi.yaml'),
    OpenApiContract.load('reporting-api.openapi.yaml'),
  ]);
});

describe('the contract checker fails on what a document does not allow', () => {
  it('holds for an answer the document allows', () => {
    expect(reports.checkResponse(json(401, { error: 'missing or invalid credentials (x-api-key)' }))).toEqual([]);
  });

  it('an undocumented status', () => {
    expect(reports.checkResponse(json(418, { error: 'teapot' }))).toEqual([
      'GET /v1/me 418: the status is not documented',
    ]);
  });

  it('a body missing a required field, or of the wrong type', () => {
    expect(reports.checkResponse(json(401, { message: 'x' }))).toEqual([
      "GET /v1/me 401: body (root) must have required property 'error'",
    ]);
    expect(reports.checkResponse(json(401, { error: 42 }))?.[0]).toMatch(/body \/error must be string/);
  });

  it('a content type the document does not list', () => {
    const ex = { ...json(401, {}), responseHeaders: { 'content-type': 'text/html' } };
    expect(reports.checkResponse(ex)?.[0]).toMatch(/content-type "text\/html" is not one of application\/json/);
  });

  it('a documented header of the wrong form', () => {
    const ex = {
      ...json(429, { error: 'slow down' }, { 'retry-after': 'soon' }),
      method: 'POST',
      path: '/v1/messages',
    };
    expect(email.checkResponse(ex)?.[0]).toMatch(
      /POST \/v1\/messages 429: header Retry-After \(root\) must be integer/,
    );
  });

  it('answers null for a path or method the document does not describe', () => {
    expect(email.checkResponse(json(200, {}))).toBeNull();
    expect(email.checkResponse({ ...json(405, {}), method: 'DELETE', path: '/v1/messages' })).toBeNull();
  });

  it("checks the pusher's requests: headers and the gzip body's records", () => {
    const record = { schema_version: 1, records: [{ nope: true }] };
    const problems = reporting.checkRequest({
      method: 'POST',
      path: '/v1/delivery-records',
      requestHeaders: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      requestBody: gzipSync(JSON.stringify(record)),
    });
    expect(problems?.[0]).toMatch(/header Idempotency-Key is required/);
    expect(problems?.[1]).toMatch(/request: body \/records\/0 must/);
  });
});

describe('the recorder sees every answer of a running server', () => {
  it('reports an answer that breaks the document its server names, whoever called the server', async () => {
    startContractRecorder();
    await takeContractResults();
    const server = createServer((req, res) => {
      if (req.url === '/v1/me') res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":1}');
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    });
    Object.defineProperty(server, OPENAPI_DOCUMENT, { value: 'reports-api.openapi.yaml' });
    // A server that names no document (a test's stub of a deployed API) is not held to one.
    const stub = createServer((_req, res) => res.writeHead(200).end('not the API'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await (await fetch(`${base}/v1/me`)).text();
    await (await fetch(`http://127.0.0.1:${(stub.address() as AddressInfo).port}/v1/me`)).text();
    stub.close();
    await (await fetch(`${base}/elsewhere`)).text();
    server.close();
    const { violations, checked } = await takeContractResults();
    expect(checked).toBe(1);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(/^reports-api.openapi.yaml: GET \/v1\/me 200: body /);
  });
});
