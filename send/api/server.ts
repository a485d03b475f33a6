import { type RunningHttpServer, startHttpServer } from '../../lib/http/node-server';
import type { ApiHandler, ApiRequest, ApiResponse } from '../../lib/http/request';
import { MAX_BATCH_BODY_BYTES } from './schemas';

const HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

/** The Email API server: its URL, port and close. */
export type RunningEmailApi = RunningHttpServer;

/**
 * Serves the Email API router on node:http (what `sesflow start` runs; API Gateway calls the same router). Bodies are
 * read up to the largest route limit; the router applies each route's own.
 */
export async function startEmailApiServer(opts: {
  /** The router; with `precheck`, a request is refused before its body is read when its credentials do not hold. */
  handle: ApiHandler & { precheck?: (req: ApiRequest) => Promise<ApiResponse | null> };
  /** 0 = a free port. */
  port: number;
  host?: string;
  /** HTTPS, and with `ca` client certificates checked against it (mutual TLS, as the custom domain in AWS). */
  tls?: { key: string; cert: string; ca?: string };
}): Promise<RunningEmailApi> {
  return startHttpServer({
    handle: opts.handle,
    ...(opts.handle.precheck ? { precheck: opts.handle.precheck } : {}),
    port: opts.port,
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.tls ? { tls: opts.tls } : {}),
    maxBodyBytes: MAX_BATCH_BODY_BYTES,
    headers: HEADERS,
    document: 'email-api.openapi.yaml',
  });
}
