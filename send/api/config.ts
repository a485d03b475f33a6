import { SesflowError } from '../../lib/errors';

/** The Email API's and the bulk worker's settings, read from the environment once (STYLE.md §8). */
export interface EmailApiConfig {
  /** The single DynamoDB table (lib/table-design.ts): keys, tenants, message status, bulk jobs. */
  tableName: string;
  /** URL of the bulk job queue (serverless.yml's SendJobsQueue); the worker's event source in AWS. */
  sendQueueUrl: string;
  /** Port of the local Email API server (`sesflow start`). */
  port: number;
}

export class EmailApiConfigError extends SesflowError {
  override name = 'EmailApiConfigError';
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new EmailApiConfigError(`${name} is not set`);
  return v;
}

/** Reads the configuration for Lambda (every variable required); a missing or bad one names itself. */
export function readEmailApiConfig(env: NodeJS.ProcessEnv = process.env): EmailApiConfig {
  return { tableName: required(env, 'SESFLOW_TABLE'), sendQueueUrl: required(env, 'SESFLOW_SEND_QUEUE_URL'), port: 0 };
}

/** The local Email API's port: `SESFLOW_PORT_EMAIL_API`, default 8081 (a busy one falls back to a free port). */
export function readEmailApiPort(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SESFLOW_PORT_EMAIL_API;
  if (raw === undefined || raw === '') return 8081;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new EmailApiConfigError('SESFLOW_PORT_EMAIL_API must be a port number (0-65535)');
  return n;
}
