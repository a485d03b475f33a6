import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../lib/table-design';
import { athenaExecution, athenaRow, fakeAthenaClient, fakeDynamoDbClient } from './adapters/fake-aws.test-support';
import { createReportsLambdaHandler, type ReportsLambdaLog } from './api.handler';

/**
 * The Reports API Lambda end to end, without AWS: a payload 2.0 event through the handler, the router and the AWS
 * adapters, with real SDK clients (DynamoDB, Athena) answered by fakes and real aws-jwt-verify checking RS256 ID
 * tokens signed here (its JWKS cache preloaded with this test's key instead of fetched from Cognito).
 */
const REGION = 'eu-west-1';
const POOL = 'eu-west-1_TestPool1';
const CLIENT_ID = 'reportsclient123';
const NOW = new Date('2026-05-03T12:10:00Z');

const ENV: NodeJS.ProcessEnv = {
  SESFLOW_TABLE: 'sesflow-test',
  SESFLOW_AUTH_MODE: 'cognito',
  SESFLOW_REPORT_ENGINE: 'athena',
  SESFLOW_JWT_ISSUER: `https://cognito-idp.${REGION}.amazonaws.com/${POOL}`,
  SESFLOW_JWKS_URL: `https://cognito-idp.${REGION}.amazonaws.com/${POOL}/.well-known/jwks.json`,
  COGNITO_CLIENT_ID: CLIENT_ID,
  SESFLOW_ATHENA_WORKGROUP: 'sesflow-test',
  SESFLOW_GLUE_DATABASE: 'sesflow_test',
  SESFLOW_ATHENA_MAX_BYTES: String(2 * 1024 ** 3),
};

let privateKey: KeyObject;
let otherKey: KeyObject;
let jwks: Jwks;

beforeAll(() => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey;
  otherKey = createPrivateKey(
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
  );
  const jwk = pair.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  jwks = { keys: [{ kty: 'RSA', kid: 'test-key', alg: 'RS256', use: 'sig', n: jwk.n, e: jwk.e }] };
});

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A Cognito ID token as the user pool issues it, signed with `key` (the pool's unless said otherwise). */
function idToken(claims: Record<string, unknown>, key: KeyObject = privateKey): string {
  const now = Math.floor(NOW.getTime() / 1000);
  const head = b64url({ alg: 'RS256', kid: 'test-key', typ: 'JWT' });
  const body = b64url({
    iss: `https://cognito-idp.${REGION}.amazonaws.com/${POOL}`,
    aud: CLIENT_ID,
    token_use: 'id',
    auth_time: now,
    iat: now,
    exp: Math.floor(Date.now() / 1000) + 3600,
    ...claims,
  });
  return `${head}.${body}.${sign('RSA-SHA256', Buffer.from(`${head}.${body}`), key).toString('base64url')}`;
}

/** The single table as the reputation path and the registry leave it: profiles, a warned tenant, hour counters. */
const ITEMS: Record<string, unknown>[] = [
  { ...keys.tenantProfile('acme'), gsi1pk: 'TENANTS', gsi1sk: 'acme', status: 'active' },
  { ...keys.tenantProfile('umbrella'), gsi1pk: 'TENANTS', gsi1sk: 'umbrella', status: 'active' },
  {
    ...keys.reputation('umbrella'),
    gsi1pk: 'REPUTATION',
    gsi1sk: 'umbrella',
    state: 'warning',
    since: '2026-05-03T09:00:00.000Z',
    evidence: { summary: 'bounce rate 3.0 % over the warning threshold' },
  },
  hour('acme', '2026-05-03T11', { sent: 200, delivered: 190, hardBounces: 2, complaints: 0 }),
  hour('acme', '2026-04-30T09', { sent: 100, delivered: 99, hardBounces: 1, complaints: 0 }),
  // Older than the week: not counted.
  hour('acme', '2026-04-20T09', { sent: 5000, delivered: 5000, hardBounces: 0, complaints: 0 }),
  hour('umbrella', '2026-05-03T08', { sent: 100, delivered: 97, hardBounces: 3, complaints: 1 }),
];

function hour(tenantId: string, h: string, c: Record<string, number>) {
  return { ...keys.hourCounter(tenantId, h), tenantId, hour: h, ...c, 'd:gmail.com': c.hardBounces };
}

type Av = Record<string, unknown>;
const val = (values: Av, name: string) =>
  values[name] ? (unmarshall({ v: values[name] } as never).v as string) : null;

/** DynamoDB answering Query by the keys the adapters use (gsi1 by gsi1pk; the table by pk, sk range or prefix). */
function dynamodb() {
  return fakeDynamoDbClient({
    Query: (body) => {
      const v = body.ExpressionAttributeValues as Av;
      const pk = val(v, ':pk');
      let items = body.IndexName === 'gsi1' ? ITEMS.filter((i) => i.gsi1pk === pk) : ITEMS.filter((i) => i.pk === pk);
      const from = val(v, ':from');
      const to = val(v, ':to');
      if (from && to) items = items.filter((i) => String(i.sk) >= from && String(i.sk) <= to);
      const prefix = val(v, ':p');
      if (prefix) items = items.filter((i) => String(i.sk).startsWith(prefix));
      return { body: { Items: items.map((i) => marshall(i)), Count: items.length, ScannedCount: items.length } };
    },
    GetItem: (body) => {
      const k = unmarshall(body.Key as never);
      const item = ITEMS.find((i) => i.pk === k.pk && i.sk === k.sk);
      return { body: item ? { Item: marshall(item) } : {} };
    },
  });
}

function athena() {
  return fakeAthenaClient({
    StartQueryExecution: () => ({ body: { QueryExecutionId: 'qe-7' } }),
    GetQueryExecution: () => athenaExecution('qe-7', 'SUCCEEDED'),
    GetQueryResults: () => ({
      body: {
        ResultSet: {
          Rows: [athenaRow('tenant_id', 'sent'), athenaRow('acme', '300')],
          ResultSetMetadata: {
            ColumnInfo: [
              { Name: 'tenant_id', Label: 'tenant_id', Type: 'varchar' },
              { Name: 'sent', Label: 'sent', Type: 'bigint' },
            ],
          },
        },
      },
    }),
  });
}

function event(method: string, path: string, opts: { token?: string; query?: Record<string, string> } = {}) {
  return {
    version: '2.0',
    routeKey: `${method} /v1/{proxy+}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(opts.query ?? {}).toString(),
    headers: { accept: 'application/json', ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}) },
    ...(opts.query ? { queryStringParameters: opts.query } : {}),
    requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' } },
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

function setUp(env: NodeJS.ProcessEnv = ENV) {
  const ddb = dynamodb();
  const ath = athena();
  const logged: { level: string; message: string; extra: Record<string, unknown> }[] = [];
  const log: ReportsLambdaLog = {
    info: (message, extra) => logged.push({ level: 'info', message, extra }),
    error: (message, extra) => logged.push({ level: 'error', message, extra }),
  };
  const handler = createReportsLambdaHandler({
    env,
    dynamodb: ddb.client,
    athena: ath.client,
    jwks,
    log,
    now: () => NOW,
  });
  return { handler, ddb, ath, logged };
}

const json = (body: string | undefined) => JSON.parse(body ?? '');

describe('Reports API Lambda handler (fake AWS clients, real aws-jwt-verify)', () => {
  it('answers 401 without a token, with a token signed by another key, and for another app client', async () => {
    const { handler, ddb } = setUp();
    const none = await handler(event('GET', '/v1/tenants'));
    expect(none.statusCode).toBe(401);
    expect(json(none.body)).toEqual({
      error: 'missing or invalid credentials (Authorization: Bearer <Cognito ID token>)',
    });
    const forged = await handler(
      event('GET', '/v1/tenants', { token: idToken({ sub: 'u1', 'cognito:groups': ['compliance'] }, otherKey) }),
    );
    expect(forged.statusCode).toBe(401);
    const otherApp = await handler(
      event('GET', '/v1/tenants', {
        token: idToken({ sub: 'u1', 'cognito:groups': ['compliance'], aud: 'someoneelse' }),
      }),
    );
    expect(otherApp.statusCode).toBe(401);
    expect(ddb.calls).toEqual([]);
  });

  it('hands an erasure request to the erasure function where the stage names one (202), and 404s it where not', async () => {
    const invoked: { FunctionName?: string; InvocationType?: string; Payload?: Uint8Array }[] = [];
    const lambda = {
      send: async (cmd: { input: (typeof invoked)[number] }) => {
        invoked.push(cmd.input);
        return { StatusCode: 202, $metadata: { requestId: 'inv-1' } };
      },
    };
    const handler = createReportsLambdaHandler({
      env: { ...ENV, SESFLOW_ERASE_FUNCTION: 'sesflow-test-erase-recipient:live' },
      dynamodb: dynamodb().client,
      athena: athena().client,
      lambda: lambda as never,
      jwks,
      log: { info: () => undefined, error: () => undefined },
      now: () => NOW,
    });
    const post = (token: string) => {
      const e = event('POST', '/v1/erasures', { token });
      return { ...e, body: JSON.stringify({ address: 'ann@example.org', reason: 'ticket 12', tenant: 'acme' }) };
    };
    const officer = idToken({ sub: 'officer-1', 'cognito:groups': ['compliance'] });
    const res = await handler(post(officer));
    expect(res.statusCode).toBe(202);
    expect(json(res.body)).toEqual({ accepted: true, requestId: 'inv-1', dryRun: false });
    expect(invoked.map((i) => [i.FunctionName, i.InvocationType])).toEqual([
      ['sesflow-test-erase-recipient:live', 'Event'],
    ]);
    expect(JSON.parse(new TextDecoder().decode(invoked[0]!.Payload))).toEqual({
      address: 'ann@example.org',
      reason: 'ticket 12',
      tenant: 'acme',
      requestedBy: 'user:officer-1',
      dryRun: false,
    });
    const client = idToken({ sub: 'client-1', 'cognito:groups': ['client'], 'custom:tenant': 'acme' });
    expect((await handler(post(client))).statusCode).toBe(403);
    expect(invoked.length).toBe(1);
    expect((await setUp().handler(post(officer))).statusCode).toBe(404);
  });

  it("gives a compliance user every tenant with its state and the week's figures from the hour counters", async () => {
    const { handler, logged } = setUp();
    const token = idToken({ sub: 'officer-1', 'cognito:groups': ['compliance'] });
    const res = await handler(event('GET', '/v1/tenants', { token }));
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toMatch(/^application\/json/);
    const tenants = json(res.body).tenants as Record<string, unknown>[];
    // The warned tenant first (state, then risk), with its evidence summary; acme's week without the old hour.
    expect(tenants.map((t) => [t.tenantId, t.state, t.sent24h, t.sent7d])).toEqual([
      ['umbrella', 'warning', 100, 100],
      ['acme', 'active', 200, 300],
    ]);
    expect(tenants[0]!.summary).toBe('bounce rate 3.0 % over the warning threshold');
    expect(tenants[1]!.bounceRate7d).toBeCloseTo(3 / 300, 10);
    expect(tenants[0]!.complaintRate7d).toBeCloseTo(1 / 97, 10);
    expect(logged).toContainEqual({
      level: 'info',
      message: 'reports api request',
      extra: expect.objectContaining({
        route: '/v1/tenants',
        status: 200,
        principal: 'user:officer-1',
        role: 'compliance',
      }),
    });
  });

  it('a client user sees only its tenant, and its reports run on Athena scoped to it by the server', async () => {
    const { handler, ath } = setUp();
    const token = idToken({ sub: 'client-1', 'cognito:groups': ['client'], 'custom:tenant': 'acme' });
    const list = await handler(event('GET', '/v1/tenants', { token }));
    expect(json(list.body).tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(['acme']);

    const other = await handler(event('GET', '/v1/reports/tenant-summary', { token, query: { tenant: 'umbrella' } }));
    expect(other.statusCode).toBe(403);
    expect(ath.calls).toEqual([]);

    const own = await handler(event('GET', '/v1/reports/tenant-summary', { token, query: { from: '2026-05-01' } }));
    expect(own.statusCode).toBe(200);
    expect(json(own.body)).toMatchObject({
      report: 'tenant-summary',
      tenant: 'acme',
      rows: [{ tenant_id: 'acme', sent: 300 }],
    });
    const start = ath.calls.find((c) => c.op === 'StartQueryExecution')!.body;
    expect(start.WorkGroup).toBe('sesflow-test');
    expect(start.QueryExecutionContext).toEqual({ Database: 'sesflow_test', Catalog: 'AwsDataCatalog' });
    expect(start.ExecutionParameters).toContain("'acme'");
    expect(String(start.QueryString)).not.toContain('acme');
  });

  it('answers health without a token, and CSV when asked', async () => {
    const { handler } = setUp();
    expect((await handler(event('GET', '/v1/health'))).statusCode).toBe(200);
    const token = idToken({ sub: 'officer-1', 'cognito:groups': ['compliance'] });
    const csv = await handler(event('GET', '/v1/reports/tenant-summary', { token, query: { format: 'csv' } }));
    expect(csv.statusCode).toBe(200);
    expect(csv.headers?.['content-type']).toMatch(/^text\/csv/);
    expect(csv.body).toBe('tenant_id,sent\r\nacme,300\r\n');
  });

  it('builds once per container: the environment is read on the first request only', async () => {
    const env = { ...ENV };
    const { handler } = setUp(env);
    const token = idToken({ sub: 'officer-1', 'cognito:groups': ['compliance'] });
    expect((await handler(event('GET', '/v1/me', { token }))).statusCode).toBe(200);
    delete env.SESFLOW_JWT_ISSUER;
    expect((await handler(event('GET', '/v1/me', { token }))).statusCode).toBe(200);
  });

  it('a configuration error answers 500 with one line naming the variable, on every request, and is logged', async () => {
    const { SESFLOW_JWT_ISSUER: _, ...env } = ENV;
    const { handler, logged, ddb } = setUp(env);
    for (const path of ['/v1/tenants', '/v1/health']) {
      const res = await handler(event('GET', path));
      expect(res.statusCode).toBe(500);
      expect(res.body).not.toContain('\n');
      expect(res.body).not.toMatch(/at .*\.ts/);
      expect(json(res.body)).toEqual({
        error:
          'the Reports API is not configured: SESFLOW_JWT_ISSUER is not set (needed when SESFLOW_AUTH_MODE=cognito)',
      });
    }
    expect(logged.filter((l) => l.level === 'error')).toHaveLength(2);
    expect(ddb.calls).toEqual([]);

    const bad = setUp({ ...ENV, SESFLOW_ATHENA_MAX_BYTES: 'lots' });
    expect(json((await bad.handler(event('GET', '/v1/health'))).body).error).toBe(
      'the Reports API is not configured: SESFLOW_ATHENA_MAX_BYTES must be a whole number of at least 10485760, got "lots"',
    );
    const local = setUp({ ...ENV, SESFLOW_REPORT_ENGINE: 'duckdb' });
    expect(json((await local.handler(event('GET', '/v1/health'))).body).error).toMatch(
      /^the Reports API is not configured: SESFLOW_REPORT_ENGINE must be athena in the Lambda/,
    );
  });
});
