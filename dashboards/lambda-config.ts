import { loadDashboardConfig } from './config';
import { DashboardError } from './errors';

/**
 * The Reports API Lambda's settings, from the environment serverless.yml gives the `reportsApi` function. Read once
 * per container; a missing or bad variable is a one-line error naming it.
 */
export interface ReportsLambdaConfig {
  /** The single DynamoDB table: tenant state, audit, and the reputation path's hourly counters. */
  tableName: string;
  cognito: { issuer: string; jwksUri: string; clientId: string; groupClaim: string; tenantClaim: string };
  athena: {
    workGroup: string;
    database: string;
    /** The runner's scan guard (bytes); the workgroup's BytesScannedCutoffPerQuery is the hard limit. */
    maxBytesScanned: number | undefined;
  };
  /** Per credential and per container (API Gateway's throttling is the limit across containers). */
  rateLimit: { capacity: number; refillPerSecond: number };
  /** How long the tenant list's live figures are reused within a container. */
  liveCacheMs: number;
  /** The erasure function (with its alias) `POST /v1/erasures` hands requests to; undefined: not offered (404). */
  eraseFunction: string | undefined;
  /**
   * The lake bucket (`SESFLOW_LAKE_BUCKET`): listed to know which days are rolled up and fresh, so aggregate reports
   * read those days from the rollup tables; undefined: every report reads raw events.
   */
  lakeBucket: string | undefined;
  /** `SESFLOW_RAW_RETENTION_DAYS`, the lake's raw-event lifecycle rule: older days are answered from rollups alone. */
  rawRetentionDays: number | undefined;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new DashboardError(`${name} is not set`);
  return v;
}

function optionalWhole(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,16}$/.test(raw) || Number(raw) < min) {
    throw new DashboardError(`${name} must be a whole number of at least ${min}, got "${raw.slice(0, 40)}"`);
  }
  return Number(raw);
}

/** Reads and checks the Lambda's environment: Cognito identity and Athena reports are the only choice here. */
export function loadReportsLambdaConfig(env: NodeJS.ProcessEnv = process.env): ReportsLambdaConfig {
  const base = loadDashboardConfig(env);
  if (base.auth.mode !== 'cognito') {
    throw new DashboardError('SESFLOW_AUTH_MODE must be cognito in the Lambda (API keys are for the local server)');
  }
  if (base.reportEngine !== 'athena') {
    throw new DashboardError('SESFLOW_REPORT_ENGINE must be athena in the Lambda (DuckDB reads a local lake)');
  }
  return {
    tableName: required(env, 'SESFLOW_TABLE'),
    cognito: {
      issuer: base.auth.issuer,
      jwksUri: base.auth.jwksUri,
      clientId: base.auth.clientId,
      groupClaim: base.auth.groupClaim,
      tenantClaim: base.auth.tenantClaim,
    },
    athena: {
      workGroup: required(env, 'SESFLOW_ATHENA_WORKGROUP'),
      database: required(env, 'SESFLOW_GLUE_DATABASE'),
      maxBytesScanned: optionalWhole(env, 'SESFLOW_ATHENA_MAX_BYTES', 10 * 1024 ** 2),
    },
    rateLimit: base.rateLimit,
    liveCacheMs: optionalWhole(env, 'SESFLOW_LIVE_CACHE_MS', 0) ?? 10_000,
    eraseFunction: env.SESFLOW_ERASE_FUNCTION || undefined,
    lakeBucket: env.SESFLOW_LAKE_BUCKET || undefined,
    rawRetentionDays: optionalWhole(env, 'SESFLOW_RAW_RETENTION_DAYS', 1),
  };
}
