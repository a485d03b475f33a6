import { readFileSync } from 'node:fs';
import { SesflowError } from '../../lib/errors';
import { secretMaxAgeSeconds as readMaxAge } from '../../lib/secret-source';

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

/**
 * TLS for the local Email API server: `SESFLOW_EMAIL_API_TLS_CERT` and `SESFLOW_EMAIL_API_TLS_KEY` (PEM files) serve
 * HTTPS; `SESFLOW_EMAIL_API_TLS_CA` adds client certificates checked against that CA (mutual TLS, for tenants that
 * require it, as the custom domain's truststore does in AWS). Undefined when no certificate is set.
 */
export function readEmailApiTls(
  env: NodeJS.ProcessEnv = process.env,
): { key: string; cert: string; ca?: string } | undefined {
  const certFile = env.SESFLOW_EMAIL_API_TLS_CERT;
  const keyFile = env.SESFLOW_EMAIL_API_TLS_KEY;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile)
    throw new EmailApiConfigError('SESFLOW_EMAIL_API_TLS_CERT and SESFLOW_EMAIL_API_TLS_KEY go together');
  const read = (name: string, file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      throw new EmailApiConfigError(`${name}: cannot read ${file}`);
    }
  };
  const caFile = env.SESFLOW_EMAIL_API_TLS_CA;
  return {
    cert: read('SESFLOW_EMAIL_API_TLS_CERT', certFile),
    key: read('SESFLOW_EMAIL_API_TLS_KEY', keyFile),
    ...(caFile ? { ca: read('SESFLOW_EMAIL_API_TLS_CA', caFile) } : {}),
  };
}

/** The shortest unsubscribe token key accepted. */
export const MIN_UNSUBSCRIBE_SECRET_LENGTH = 32;

/** One-click unsubscribe settings (none when `SESFLOW_UNSUBSCRIBE_URL` is not set: marketing mail goes without). */
export interface UnsubscribeConfig {
  /** `SESFLOW_UNSUBSCRIBE_URL`: the public HTTPS URL of `POST /v1/unsubscribe` (plain http only for localhost). */
  url: string;
  /**
   * `SESFLOW_UNSUBSCRIBE_SECRET`: the token key (at least 32 characters) in local runs. In AWS it is empty here and
   * read at run time from the secret {@link secretId} names (send/api/unsubscribe-secret.ts), never from the
   * environment.
   */
  secret: string;
  /** `SESFLOW_UNSUBSCRIBE_SECRET_ID`: the Secrets Manager secret (ARN or name) holding the token key, in AWS. */
  secretId?: string | null;
  /** `SESFLOW_UNSUBSCRIBE_SECRET_MAX_AGE_SECONDS`: how long a read key is used before it is read again (300). */
  secretMaxAgeSeconds?: number;
  /** `SESFLOW_UNSUBSCRIBE_MAILTO`: an address for `mailto:` unsubscribes too (optional). */
  mailto: string | null;
  /** `SESFLOW_UNSUBSCRIBE_TTL_DAYS`: how long a link holds (default 60 days). */
  ttlDays: number;
  /** `SESFLOW_EVENTS_STREAM`: the lake's Firehose stream, where unsubscribes are recorded for the reports. */
  eventsStream: string | null;
}

/** Reads the unsubscribe settings; null without a URL. A bad value names its variable. */
export function readUnsubscribeConfig(env: NodeJS.ProcessEnv = process.env): UnsubscribeConfig | null {
  const raw = env.SESFLOW_UNSUBSCRIBE_URL;
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EmailApiConfigError('SESFLOW_UNSUBSCRIBE_URL is not a URL');
  }
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
    throw new EmailApiConfigError('SESFLOW_UNSUBSCRIBE_URL must be https (RFC 8058)');
  }
  const secretId = env.SESFLOW_UNSUBSCRIBE_SECRET_ID || null;
  const secret = secretId ? '' : required(env, 'SESFLOW_UNSUBSCRIBE_SECRET');
  if (!secretId && secret.length < MIN_UNSUBSCRIBE_SECRET_LENGTH) {
    throw new EmailApiConfigError(
      `SESFLOW_UNSUBSCRIBE_SECRET must be at least ${MIN_UNSUBSCRIBE_SECRET_LENGTH} characters`,
    );
  }
  const secretMaxAgeSeconds = readMaxAge(env, 'SESFLOW_UNSUBSCRIBE_SECRET_MAX_AGE_SECONDS');
  const mailto = env.SESFLOW_UNSUBSCRIBE_MAILTO || null;
  if (mailto && !/^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/.test(mailto)) {
    throw new EmailApiConfigError('SESFLOW_UNSUBSCRIBE_MAILTO must be an email address');
  }
  const ttlDays = Number(env.SESFLOW_UNSUBSCRIBE_TTL_DAYS || 60);
  if (!Number.isFinite(ttlDays) || ttlDays <= 0 || ttlDays > 3650) {
    throw new EmailApiConfigError('SESFLOW_UNSUBSCRIBE_TTL_DAYS must be a number of days above 0');
  }
  return {
    url: url.toString(),
    secret,
    secretId,
    secretMaxAgeSeconds,
    mailto,
    ttlDays,
    eventsStream: env.SESFLOW_EVENTS_STREAM || null,
  };
}
