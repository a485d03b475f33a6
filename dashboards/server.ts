import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FailedAuthLimit } from '../lib/http/auth-gate';
import { type HttpAnswer, startHttpServer } from '../lib/http/node-server';
import type { ApiRequest } from '../lib/http/request';
import { TokenBucketLimiter } from '../lib/http/token-bucket';
import { NAMED_QUERIES } from '../queries/named-queries';
import { MemoryTenantStore } from '../tenants/tenant-service';
import { type ApiKeyRecord, createApiKeyAuthenticator, memoryApiKeyLookup } from './adapters/api-key-authenticator';
import { createDuckDbRollupLiveFigures } from './adapters/duckdb-live-figures';
import { createDuckDbRollupReportEngine } from './adapters/duckdb-report-engine';
import { DuckDbReportsStore } from './adapters/duckdb-reports-store';
import { createSerialQueue } from './adapters/serial-lake';
import type {
  Authenticator,
  LiveFigures,
  ReadinessReader,
  RecipientEraser,
  ReportEngine,
  TenantStore,
  Thresholds,
} from './api/ports';
import { DEFAULT_THRESHOLDS } from './api/risk';
import { createRouter, type RequestLog } from './api/router';

const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), 'web');
const MAX_BODY_BYTES = 16 * 1024;

/** The web UI's files: a fixed list, so no request path ever reaches the file system. */
const STATIC_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/charts.js': { file: 'charts.js', type: 'text/javascript; charset=utf-8' },
  '/session.js': { file: 'session.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/**
 * No inline script, no framing, no sniffing: mail text reaching the page can never run. The same headers come from
 * the CloudFront response-headers policy in AWS (serverless.yml); `connect-src` adds the sign-in provider, whose
 * token endpoint the page calls.
 */
export function securityHeaders(signInOrigin: string | null = null): Record<string, string> {
  const connect = signInOrigin ? `'self' ${signInOrigin}` : "'self'";
  return {
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ${connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}

/**
 * The web app's config document (`/config.json`): which sign-in the page uses. `api-key` locally; `cognito` in AWS
 * and under `sesflow start --sso` (the managed login's base URL and the app client id).
 */
export type WebConfig = { mode: 'api-key' } | { mode: 'cognito'; domain: string; clientId: string; scope?: string };

export interface DashboardServerOptions {
  /** 0 = a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The lake read by DuckDB (unless `reports` and `live` are given). */
  lakeDir: string;
  /**
   * The reports engine's DuckDB file (rollup tables kept across restarts; `sesflow start`: `<dataDir>/reports.duckdb`).
   * Default: in memory.
   */
  engineFile?: string | null;
  /** DuckDB's memory limit for the reports engine (default 1GB). */
  engineMemoryLimit?: string;
  /** Raw events are kept this many days (retention); older days are answered from rollups alone. Default: for ever. */
  rawRetentionDays?: number | null;
  /** Local API keys (plain key -> record); hashed at start. Ignored when `auth` is given. */
  apiKeys?: Readonly<Record<string, ApiKeyRecord>>;
  auth?: Authenticator;
  /** What the 401 asks for (default `x-api-key`). */
  credential?: string;
  /** The config document the page reads (default `{ "mode": "api-key" }`). */
  webConfig?: WebConfig;
  /** Tenant state and audit (default: in memory, empty). */
  tenants?: TenantStore;
  /** Sender readiness of each tenant (default: none shown). */
  readiness?: ReadinessReader;
  reports?: ReportEngine;
  live?: LiveFigures;
  thresholds?: Thresholds;
  rateLimit?: { capacity: number; refillPerSecond: number };
  /** How long the tenant list's figures are reused (default 2 s; 0 = computed on every request). */
  liveCacheMs?: number;
  /** Erasure of a recipient (`POST /v1/erasures`, compliance only); absent: not offered. */
  erasure?: RecipientEraser;
  log?: (entry: RequestLog) => void;
  /** Failed authentications allowed per client address (default 20, then one per 5 s); null: none. */
  failedAuth?: FailedAuthLimit | null;
}

export interface RunningDashboardServer {
  url: string;
  port: number;
  /** Tenants with mail in the last 7 days or a recorded state (for issuing local keys). */
  knownTenants(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Starts the Reports API and the web UI on one node:http server (what `sesflow start` runs on port 8080).
 * API under `/v1/`, UI at `/`. Returns the URL and a close function that also closes the lake.
 */
export async function startDashboardServer(opts: DashboardServerOptions): Promise<RunningDashboardServer> {
  const needsLake = !opts.reports || !opts.live;
  const store = needsLake
    ? await DuckDbReportsStore.open({
        lakeDir: opts.lakeDir,
        dbFile: opts.engineFile ?? null,
        memoryLimit: opts.engineMemoryLimit,
        rawRetentionDays: opts.rawRetentionDays ?? null,
      })
    : null;
  const serial = createSerialQueue();
  const reports = opts.reports ?? createDuckDbRollupReportEngine(store!, { registry: NAMED_QUERIES, serial });
  const live = opts.live ?? createDuckDbRollupLiveFigures(store!, serial, { cacheMs: opts.liveCacheMs });
  const rate = opts.rateLimit ?? { capacity: 60, refillPerSecond: 10 };
  const tenants = opts.tenants ?? new MemoryTenantStore();
  const webConfig: WebConfig = opts.webConfig ?? { mode: 'api-key' };
  const handle = createRouter({
    auth: opts.auth ?? createApiKeyAuthenticator(memoryApiKeyLookup(opts.apiKeys ?? {})),
    reports,
    live,
    tenants,
    readiness: opts.readiness,
    limiter: new TokenBucketLimiter(rate.capacity, rate.refillPerSecond),
    thresholds: opts.thresholds ?? DEFAULT_THRESHOLDS,
    erasure: opts.erasure,
    ...(opts.credential ? { credential: opts.credential } : {}),
    log: opts.log,
    ...(opts.failedAuth !== undefined ? { failedAuth: opts.failedAuth } : {}),
  });

  const text = (status: number, body: string): HttpAnswer => ({
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body,
  });
  const serve = async (req: ApiRequest): Promise<HttpAnswer> => {
    if (req.path.startsWith('/v1/')) return handle(req);
    if (req.path === '/config.json' && (req.method === 'GET' || req.method === 'HEAD')) {
      return {
        status: 200,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        body: JSON.stringify(webConfig),
      };
    }
    if (req.path === '/favicon.ico') return { status: 204, headers: {}, body: '' };
    const file = STATIC_FILES[req.path];
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) return text(404, 'not found');
    const content = await readFile(join(WEB_DIR, file.file));
    return { status: 200, headers: { 'content-type': file.type, 'cache-control': 'no-cache' }, body: content };
  };
  const server = await startHttpServer({
    handle: serve,
    precheck: handle.precheck,
    port: opts.port,
    host: opts.host,
    maxBodyBytes: MAX_BODY_BYTES,
    document: 'reports-api.openapi.yaml',
    headers: securityHeaders(webConfig.mode === 'cognito' ? new URL(webConfig.domain).origin : null),
  });
  return {
    url: server.url,
    port: server.port,
    async knownTenants() {
      const [figures, statuses] = await Promise.all([live.figures(new Date()), tenants.listStatuses()]);
      return [...new Set([...figures.map((f) => f.tenantId), ...statuses.map((s) => s.tenantId)])].sort();
    },
    async close() {
      await server.close();
      store?.close();
    },
  };
}
