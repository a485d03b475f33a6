import { secretMaxAgeSeconds } from '../lib/secret-source';
import { ErasureRequestError } from './errors';
import { DEFAULT_RETENTION_POLICY, type RetentionPolicy } from './retention';

/**
 * Configuration of the privacy area, read once from the environment.
 * - `SESFLOW_ERASURE_KEY`: the secret that keys the pseudonyms written in place of an erased address (at least 32
 *   characters). The same key must be used for every erasure of a deployment, so an address erased twice gets the
 *   same pseudonym and every count stays exact; losing it only means a later erasure of the same address writes a
 *   different pseudonym for rows that still held the address.
 * - `SESFLOW_RAW_RETENTION_DAYS` (default 400), `SESFLOW_ERROR_RETENTION_DAYS` (default 90),
 *   `SESFLOW_ROLLUP_RETENTION_DAYS` (default 1825): how long raw events, error records and rollups are kept (the S3
 *   lifecycle rules in AWS, `sesflow compact --retention` locally).
 */
export interface PrivacyConfig {
  erasureKey: string | null;
  retention: RetentionPolicy;
}

export const MIN_ERASURE_KEY_LENGTH = 32;

function days(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new ErasureRequestError(`${name} must be a whole number of days (1 or more)`);
  return n;
}

export function readPrivacyConfig(env: NodeJS.ProcessEnv = process.env): PrivacyConfig {
  const key = env.SESFLOW_ERASURE_KEY ?? null;
  if (key !== null && key.length < MIN_ERASURE_KEY_LENGTH) {
    throw new ErasureRequestError(`SESFLOW_ERASURE_KEY must be at least ${MIN_ERASURE_KEY_LENGTH} characters`);
  }
  return {
    erasureKey: key,
    retention: {
      rawDays: days(env.SESFLOW_RAW_RETENTION_DAYS, 'SESFLOW_RAW_RETENTION_DAYS', DEFAULT_RETENTION_POLICY.rawDays),
      errorDays: days(
        env.SESFLOW_ERROR_RETENTION_DAYS,
        'SESFLOW_ERROR_RETENTION_DAYS',
        DEFAULT_RETENTION_POLICY.errorDays,
      ),
      rollupDays: days(
        env.SESFLOW_ROLLUP_RETENTION_DAYS,
        'SESFLOW_ROLLUP_RETENTION_DAYS',
        DEFAULT_RETENTION_POLICY.rollupDays,
      ),
    },
  };
}

/**
 * What the erasure function reads (serverless.yml `functions.eraseRecipient.environment`). In AWS its two secrets are
 * read at run time, never resolved into the environment: the erasure key from `SESFLOW_ERASURE_KEY_SECRET_ID` and the
 * External Reporting `{"url","apiKey"}` from `SESFLOW_REPORTING_SECRET_ID` (the pusher's secret), each cached
 * `SESFLOW_SECRET_MAX_AGE_SECONDS` (300). Without the ids (local runs): `SESFLOW_ERASURE_KEY`, and
 * `SESFLOW_REPORTING_URL` + `SESFLOW_REPORTING_API_KEY`.
 */
export interface EraseFunctionConfig {
  /** Either the key itself (`SESFLOW_ERASURE_KEY`) or the secret that holds it. */
  erasureKey: { key: string } | { secretId: string };
  /** `SESFLOW_REPORTING_SECRET_ID`: the External Reporting secret; when set, {@link reporting} is null. */
  reportingSecretId: string | null;
  secretMaxAgeSeconds: number;
  table: string;
  lakeBucket: string;
  athena: { workGroup: string; database: string; lakeTable: string };
  reporting: { baseUrl: string; apiKey: string } | null;
  openSearch: { url: string; index: string; rawIndex: string | null } | null;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new ErasureRequestError(`${name} is not set`);
  return v;
}

export function readEraseFunctionConfig(env: NodeJS.ProcessEnv = process.env): EraseFunctionConfig {
  const keySecretId = env.SESFLOW_ERASURE_KEY_SECRET_ID || null;
  const key = keySecretId ? null : readPrivacyConfig(env).erasureKey;
  if (!keySecretId && !key)
    throw new ErasureRequestError('SESFLOW_ERASURE_KEY_SECRET_ID or SESFLOW_ERASURE_KEY is not set');
  const reportingSecretId = env.SESFLOW_REPORTING_SECRET_ID || null;
  return {
    erasureKey: keySecretId ? { secretId: keySecretId } : { key: key as string },
    reportingSecretId,
    secretMaxAgeSeconds: secretMaxAgeSeconds(env, 'SESFLOW_SECRET_MAX_AGE_SECONDS'),
    table: required(env, 'SESFLOW_TABLE'),
    lakeBucket: required(env, 'SESFLOW_LAKE_BUCKET'),
    athena: {
      workGroup: required(env, 'SESFLOW_ATHENA_WORKGROUP'),
      database: required(env, 'SESFLOW_GLUE_DATABASE'),
      lakeTable: required(env, 'SESFLOW_LAKE_TABLE'),
    },
    reporting:
      !reportingSecretId && env.SESFLOW_REPORTING_URL && env.SESFLOW_REPORTING_API_KEY
        ? { baseUrl: env.SESFLOW_REPORTING_URL, apiKey: env.SESFLOW_REPORTING_API_KEY }
        : null,
    openSearch: env.SESFLOW_OPENSEARCH_URL
      ? {
          url: env.SESFLOW_OPENSEARCH_URL,
          index: env.SESFLOW_OPENSEARCH_INDEX || 'sesflow-events',
          rawIndex: env.SESFLOW_OPENSEARCH_RAW_INDEX || null,
        }
      : null,
  };
}
