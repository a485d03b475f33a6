import { DashboardError } from './errors';

/** The dashboards' settings, read from the environment once (STYLE.md §8). */
export interface DashboardConfig {
  /** Port of the local server (`sesflow start` passes its own). */
  port: number;
  /** Lake directory read by DuckDB locally. */
  lakeDir: string;
  /** Token bucket per credential: capacity (burst) and refill per second. */
  rateLimit: { capacity: number; refillPerSecond: number };
  /**
   * `api-key` locally; `cognito` behind API Gateway (and under `sesflow start --sso`): ID tokens verified against
   * the issuer's JWKS only (`SESFLOW_JWT_ISSUER`, `SESFLOW_JWKS_URL`), issued to `COGNITO_CLIENT_ID`.
   */
  auth:
    | { mode: 'api-key' }
    | { mode: 'cognito'; issuer: string; jwksUri: string; clientId: string; groupClaim: string; tenantClaim: string };
  /** The single DynamoDB table (lib/table-design.ts) holding tenant state and audit. */
  tableName: string;
  /** Where reports run: DuckDB over the lake locally, Athena in AWS. */
  reportEngine: 'duckdb' | 'athena';
}

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new DashboardError(`${name} must be a positive number, got "${raw}"`);
  return n;
}

function requiredVar(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new DashboardError(`${name} is not set (needed when SESFLOW_AUTH_MODE=cognito)`);
  return v;
}

/** Reads the configuration from `env` (default `process.env`); a missing or bad variable names itself. */
export function loadDashboardConfig(env: NodeJS.ProcessEnv = process.env): DashboardConfig {
  const mode = env.SESFLOW_AUTH_MODE ?? 'api-key';
  if (mode !== 'api-key' && mode !== 'cognito') {
    throw new DashboardError(`SESFLOW_AUTH_MODE must be api-key or cognito, got "${mode}"`);
  }
  const engine = env.SESFLOW_REPORT_ENGINE ?? 'duckdb';
  if (engine !== 'duckdb' && engine !== 'athena') {
    throw new DashboardError(`SESFLOW_REPORT_ENGINE must be duckdb or athena, got "${engine}"`);
  }
  return {
    port: intVar(env, 'SESFLOW_DASHBOARD_PORT', 8080),
    lakeDir: env.SESFLOW_LAKE ?? './.sesflow/lake',
    rateLimit: {
      capacity: intVar(env, 'SESFLOW_API_RATE_BURST', 60),
      refillPerSecond: intVar(env, 'SESFLOW_API_RATE_PER_SECOND', 10),
    },
    auth:
      mode === 'api-key'
        ? { mode }
        : {
            mode,
            issuer: requiredVar(env, 'SESFLOW_JWT_ISSUER'),
            jwksUri: env.SESFLOW_JWKS_URL || `${requiredVar(env, 'SESFLOW_JWT_ISSUER')}/.well-known/jwks.json`,
            clientId: requiredVar(env, 'COGNITO_CLIENT_ID'),
            groupClaim: env.COGNITO_GROUP_CLAIM || 'cognito:groups',
            tenantClaim: env.COGNITO_TENANT_CLAIM || 'custom:tenant',
          },
    tableName: env.SESFLOW_TABLE || 'sesflow',
    reportEngine: engine,
  };
}
