import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLake } from '../queries/duckdb-lake';
import { NAMED_QUERIES } from '../queries/named-queries';
import { type ApiKeyRecord, createApiKeyAuthenticator, memoryApiKeyLookup } from './adapters/api-key-authenticator';
import { DuckDbLakeCache } from './adapters/duckdb-lake-cache';
import { createDuckDbLiveFigures } from './adapters/duckdb-live-figures';
import { createDuckDbReportEngine } from './adapters/duckdb-report-engine';
import { MemoryTenantStore } from './adapters/memory-tenant-store';
import { createSerialQueue } from './adapters/serial-lake';
import type { Authenticator, LiveFigures, ReportEngine, TenantStore, Thresholds } from './api/ports';
import { TokenBucketLimiter } from './api/rate-limit';
import { DEFAULT_THRESHOLDS } from './api/risk';
import { type ApiRequest, createRouter, type RequestLog } from './api/router';

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
  /** Local API keys (plain key -> record); hashed at start. Ignored when `auth` is given. */
  apiKeys?: Readonly<Record<string, ApiKeyRecord>>;
  auth?: Authenticator;
  /** What the 401 asks for (default `x-api-key`). */
  credential?: string;
  /** The config document the page reads (default `{ "mode": "api-key" }`). */
  webConfig?: WebConfig;
  /** Tenant state and audit (default: in memory, empty). */
  tenants?: TenantStore;
  reports?: ReportEngine;
  live?: LiveFigures;
  thresholds?: Thresholds;
  rateLimit?: { capacity: number; refillPerSecond: number };
  /** How long the tenant list's figures are reused (default 2 s; 0 = computed on every request). */
  liveCacheMs?: number;
  log?: (entry: RequestLog) => void;
}

export interface RunningDashboardServer {
  url: string;
  port: number;
  /** Tenants with mail in the last 7 days or a recorded state (for issuing local keys). */
  knownTenants(): Promise<string[]>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length ? Buffer.concat(chunks).toString('utf8') : null));
    req.on('error', reject);
  });
}

function toApiRequest(req: IncomingMessage, url: URL, body: string | null): ApiRequest {
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return { method: req.method ?? 'GET', path: url.pathname, query, headers, body };
}

/**
 * Starts the Reports API and the web UI on one node:http server (what `sesflow start` runs on port 8080).
 * API under `/v1/`, UI at `/`. Returns the URL and a close function that also closes the lake.
 */
export async function startDashboardServer(opts: DashboardServerOptions): Promise<RunningDashboardServer> {
  const needsLake = !opts.reports || !opts.live;
  const lake = needsLake ? await openLake(opts.lakeDir) : null;
  const serial = createSerialQueue();
  const cache = lake ? new DuckDbLakeCache(lake, opts.lakeDir) : null;
  const reports = opts.reports ?? createDuckDbReportEngine(lake!, { registry: NAMED_QUERIES, serial, cache });
  const live =
    opts.live ?? createDuckDbLiveFigures(lake!, serial, { cache: cache ?? undefined, cacheMs: opts.liveCacheMs });
  const rate = opts.rateLimit ?? { capacity: 60, refillPerSecond: 10 };
  const tenants = opts.tenants ?? new MemoryTenantStore();
  const webConfig: WebConfig = opts.webConfig ?? { mode: 'api-key' };
  const headers = securityHeaders(webConfig.mode === 'cognito' ? new URL(webConfig.domain).origin : null);
  const send = (res: ServerResponse, status: number, extra: Record<string, string>, body: string | Buffer) => {
    res.writeHead(status, { ...headers, ...extra });
    res.end(body);
  };
  const handle = createRouter({
    auth: opts.auth ?? createApiKeyAuthenticator(memoryApiKeyLookup(opts.apiKeys ?? {})),
    reports,
    live,
    tenants,
    limiter: new TokenBucketLimiter(rate.capacity, rate.refillPerSecond),
    thresholds: opts.thresholds ?? DEFAULT_THRESHOLDS,
    ...(opts.credential ? { credential: opts.credential } : {}),
    log: opts.log,
  });

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname.startsWith('/v1/')) {
        let body: string | null = null;
        if (req.method === 'POST') {
          try {
            body = await readBody(req);
          } catch {
            send(res, 413, { 'content-type': 'application/json' }, '{"error":"the body is over 16 KiB"}');
            return;
          }
        }
        const out = await handle(toApiRequest(req, url, body));
        send(res, out.status, out.headers, out.body);
        return;
      }
      if (url.pathname === '/config.json' && (req.method === 'GET' || req.method === 'HEAD')) {
        send(res, 200, { 'content-type': 'application/json', 'cache-control': 'no-store' }, JSON.stringify(webConfig));
        return;
      }
      if (url.pathname === '/favicon.ico') {
        send(res, 204, {}, '');
        return;
      }
      const file = STATIC_FILES[url.pathname];
      if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
        send(res, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'not found');
        return;
      }
      const content = await readFile(join(WEB_DIR, file.file));
      send(res, 200, { 'content-type': file.type, 'cache-control': 'no-cache' }, content);
    } catch {
      if (!res.headersSent) send(res, 500, { 'content-type': 'application/json' }, '{"error":"internal error"}');
      else res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    async knownTenants() {
      const [figures, statuses] = await Promise.all([live.figures(new Date()), tenants.listStatuses()]);
      return [...new Set([...figures.map((f) => f.tenantId), ...statuses.map((s) => s.tenantId)])].sort();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      lake?.close();
    },
  };
}
