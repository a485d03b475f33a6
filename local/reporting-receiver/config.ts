import { LocalConfigError } from '../errors';
import { FAULT_KINDS, type FaultKind, NO_FAULTS, type ReceiverFaults } from './server';

export interface ReceiverConfig {
  /** `SESFLOW_PORT_REPORTING` (default 4590; 0 = a free port). */
  port: number;
  faults: ReceiverFaults;
  /** `SESFLOW_REPORTING_REJECT_TENANTS`: comma-separated tenants refused with 422. */
  rejectTenants: string[];
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new LocalConfigError(`${name} must be a number from ${min} to ${max}`);
  return n;
}

/**
 * The local receiver's settings, read once from the environment: `SESFLOW_REPORTING_FAULT_RATE` (0-1, share of
 * failing requests), `SESFLOW_REPORTING_FAULTS` (comma-separated kinds: 500, 429, slow, drop; default all),
 * `SESFLOW_REPORTING_RETRY_AFTER` (seconds, default 1), `SESFLOW_REPORTING_SLOW_MS` (default 3000),
 * `SESFLOW_REPORTING_REJECT_TENANTS`, `SESFLOW_PORT_REPORTING`.
 */
export function readReceiverConfig(env: NodeJS.ProcessEnv = process.env): ReceiverConfig {
  const kinds = (env.SESFLOW_REPORTING_FAULTS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  for (const k of kinds) {
    if (!(FAULT_KINDS as readonly string[]).includes(k)) {
      throw new LocalConfigError(`SESFLOW_REPORTING_FAULTS: unknown fault ${k} (known: ${FAULT_KINDS.join(', ')})`);
    }
  }
  return {
    port: number(env, 'SESFLOW_PORT_REPORTING', 4590, 0, 65535),
    faults: {
      rate: number(env, 'SESFLOW_REPORTING_FAULT_RATE', 0, 0, 1),
      kinds: kinds.length > 0 ? (kinds as FaultKind[]) : NO_FAULTS.kinds,
      retryAfterSeconds: Math.round(number(env, 'SESFLOW_REPORTING_RETRY_AFTER', 1, 0, 3600)),
      slowMs: number(env, 'SESFLOW_REPORTING_SLOW_MS', NO_FAULTS.slowMs, 0, 600_000),
      seed: Math.round(number(env, 'SESFLOW_REPORTING_FAULT_SEED', 1, 0, 2 ** 31)),
    },
    rejectTenants: (env.SESFLOW_REPORTING_REJECT_TENANTS ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
  };
}
