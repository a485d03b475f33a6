import { type RunningHttpServer, startHttpServer } from '../../lib/http/node-server';
import type { ApiHandler } from '../../lib/http/request';
import { MAX_BATCH_BODY_BYTES } from './schemas';

const HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

/** The Email API server: its URL, port and close. */
export type RunningEmailApi = RunningHttpServer;

/**
 * Serves the Email API router on node:http (what `sesflow start` runs; API Gateway calls the same router). Bodies are
 * read up to the largest route limit; the router applies each route's own.
 */
export async function startEmailApiServer(opts: {
  handle: ApiHandler;
  /** 0 = a free port. */
  port: number;
  host?: string;
}): Promise<RunningEmailApi> {
  return startHttpServer({ ...opts, maxBodyBytes: MAX_BATCH_BODY_BYTES, headers: HEADERS });
}
