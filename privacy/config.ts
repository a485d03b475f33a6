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
