import { Logger } from '@aws-lambda-powertools/logger';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DynamoDbCounterStore } from '../enrich/reputation/dynamodb-counter-store';
import { SesV2TenantControl } from '../enrich/reputation/sesv2-tenant-control';
import { DynamoDbReadinessStore } from '../enrich/sender-auth/dynamodb-readiness-store';
import { S3LakeStore } from '../ingest/s3-lake-store';
import { describeError } from '../lib/errors';
import { createHandler, toApiRequest, toResult } from '../lib/http/lambda';
import { TokenBucketLimiter } from '../lib/http/token-bucket';
import { AthenaRunner } from '../queries/athena/runner';
import { DynamoDbTenantStore } from '../tenants/tenant-service';
import { type AthenaReportFailure, createAthenaReportEngine } from './adapters/athena-report-engine';
import { createCognitoAuthenticator, createIdTokenVerifier, type JwtVerifier } from './adapters/cognito-authenticator';
import { DynamoDbLiveFigures } from './adapters/dynamodb-live-figures';
import { lakeRolledUpDays } from './adapters/lake-rolled-up-days';
import { LambdaRecipientEraser } from './adapters/lambda-recipient-eraser';
import { DEFAULT_THRESHOLDS } from './api/risk';
import { type ApiRequest, type ApiResponse, createRouter, type RequestLog } from './api/router';
import { loadReportsLambdaConfig, type ReportsLambdaConfig } from './lambda-config';

/**
 * API Gateway (HTTP API, payload 2.0) -> the Reports API router. Thin: unwraps the event, calls the router, shapes
 * the response (lib/http/lambda.ts). `handler` (the `reportsApi` function's entry) builds the router once per
 * container from the environment: Cognito authenticator, Athena report engine, DynamoDB tenant store and live figures.
 */
export { createHandler, toApiRequest, toResult };

/** Where the Lambda logs: one structured line per request (ids, route, status; never tokens or mail text). */
export interface ReportsLambdaLog {
  info(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

/** What the Lambda talks to; each defaults to the real client (tests pass clients answered by fakes). */
export interface ReportsLambdaDeps {
  env?: NodeJS.ProcessEnv;
  athena?: Pick<AthenaClient, 'send'>;
  dynamodb?: DynamoDBClient;
  ses?: SESv2Client;
  /** Invokes the erasure function (`POST /v1/erasures`). */
  lambda?: Pick<LambdaClient, 'send'>;
  /** Lists the lake bucket (which days are rolled up). */
  s3?: S3Client;
  /** Replaces aws-jwt-verify altogether. */
  verifier?: JwtVerifier;
  /** Preloads aws-jwt-verify's JWKS cache (otherwise fetched from the user pool on first use and cached). */
  jwks?: Jwks;
  log?: ReportsLambdaLog;
  now?: () => Date;
}

/** The router of the deployed Reports API: the same router as `npm start`, over the AWS adapters. */
export function buildReportsRouter(
  config: ReportsLambdaConfig,
  deps: Omit<ReportsLambdaDeps, 'env'> & { log: ReportsLambdaLog },
): (req: ApiRequest) => Promise<ApiResponse> {
  const doc = DynamoDBDocumentClient.from(deps.dynamodb ?? new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  // A pause also switches the SES tenant's sending off, as the reputation path's pause does.
  const tenants = new DynamoDbTenantStore(
    doc,
    config.tableName,
    new SesV2TenantControl(deps.ses ?? new SESv2Client({})),
  );
  const live = new DynamoDbLiveFigures({
    counters: new DynamoDbCounterStore(doc, config.tableName),
    tenantIds: async () => (await tenants.listStatuses()).map((s) => s.tenantId),
    cacheMs: config.liveCacheMs,
  });
  const runner = new AthenaRunner({
    client: deps.athena ?? new AthenaClient({}),
    workGroup: config.athena.workGroup,
    database: config.athena.database,
    ...(config.athena.maxBytesScanned === undefined ? {} : { maxBytesScanned: config.athena.maxBytesScanned }),
    // Within the 29 s API Gateway allows a Lambda integration, with time left to read the results.
    timeoutMs: 25_000,
  });
  const reports = createAthenaReportEngine({
    runner,
    log: (f: AthenaReportFailure) => deps.log.error('athena report failed', { ...f }),
    // Whole days from the rollup tables where the lake bucket's listing says they are rolled up and fresh.
    ...(config.lakeBucket
      ? { rolledUpDays: lakeRolledUpDays(new S3LakeStore(deps.s3 ?? new S3Client({}), config.lakeBucket)) }
      : {}),
    rawRetentionDays: config.rawRetentionDays ?? null,
  });
  return createRouter({
    auth: createCognitoAuthenticator(deps.verifier ?? cognitoVerifier(config, deps.jwks), {
      groupClaim: config.cognito.groupClaim,
      tenantClaim: config.cognito.tenantClaim,
    }),
    reports,
    tenants,
    live,
    readiness: new DynamoDbReadinessStore(doc, config.tableName),
    limiter: new TokenBucketLimiter(config.rateLimit.capacity, config.rateLimit.refillPerSecond),
    thresholds: DEFAULT_THRESHOLDS,
    ...(config.eraseFunction
      ? { erasure: new LambdaRecipientEraser(deps.lambda ?? new LambdaClient({}), config.eraseFunction) }
      : {}),
    credential: 'Authorization: Bearer <Cognito ID token>',
    ...(deps.now ? { now: deps.now } : {}),
    log: (entry: RequestLog) =>
      entry.status >= 500
        ? deps.log.error('reports api request', { ...entry })
        : deps.log.info('reports api request', { ...entry }),
  });
}

/** aws-jwt-verify for the pool's ID tokens of the app client: signature (JWKS), expiry, issuer, audience. */
function cognitoVerifier(config: ReportsLambdaConfig, jwks: Jwks | undefined): JwtVerifier {
  const { issuer, jwksUri, clientId } = config.cognito;
  return createIdTokenVerifier({ issuer, jwksUri, audience: clientId }, jwks);
}

const CONFIG_ERROR_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/**
 * The Reports API Lambda: the router is built on the first request and kept for the container's life. A
 * configuration error (a variable missing or wrong) answers every request 500 with its one line, and is logged.
 */
export function createReportsLambdaHandler(deps: ReportsLambdaDeps = {}) {
  let built: { route: (req: ApiRequest) => Promise<ApiResponse> } | { error: string } | null = null;
  const log = (): ReportsLambdaLog => deps.log ?? defaultLog();
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    if (!built) {
      try {
        built = {
          route: buildReportsRouter(loadReportsLambdaConfig(deps.env ?? process.env), { ...deps, log: log() }),
        };
      } catch (err) {
        built = { error: `the Reports API is not configured: ${describeError(err)}` };
      }
    }
    if ('error' in built) {
      log().error('reports api configuration', { error: built.error });
      return { statusCode: 500, headers: CONFIG_ERROR_HEADERS, body: JSON.stringify({ error: built.error }) };
    }
    return toResult(await built.route(toApiRequest(event)));
  };
}

let logger: Logger | null = null;
function defaultLog(): ReportsLambdaLog {
  logger ??= new Logger({ serviceName: 'sesflow-reports-api' });
  const l = logger;
  return { info: (m, e) => l.info(m, e), error: (m, e) => l.error(m, e) };
}

/** The `reportsApi` function's entry (serverless.yml: dashboards/api.handler.handler). */
export const handler = /* @__PURE__ */ createReportsLambdaHandler();
