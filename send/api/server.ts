import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiRequest, ApiResponse } from './router';
import { MAX_BATCH_BODY_BYTES } from './schemas';

/** Bodies are read up to the largest route limit; the router applies each route's own. */
const READ_LIMIT = MAX_BATCH_BODY_BYTES;

const HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > READ_LIMIT) {
        reject(new BodyTooLarge());
        req.resume();
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

function send(res: ServerResponse, out: ApiResponse): void {
  res.writeHead(out.status, { ...HEADERS, ...out.headers });
  res.end(out.body);
}

const jsonError = (status: number, error: string): ApiResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify({ error }),
});

export interface RunningEmailApi {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the Email API router on node:http (what `sesflow start` runs; API Gateway calls the same router). */
export async function startEmailApiServer(opts: {
  handle: (req: ApiRequest) => Promise<ApiResponse>;
  /** 0 = a free port. */
  port: number;
  host?: string;
}): Promise<RunningEmailApi> {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let body: string | null = null;
      if (req.method === 'POST' || req.method === 'PUT') {
        try {
          body = await readBody(req);
        } catch (err) {
          send(
            res,
            err instanceof BodyTooLarge
              ? jsonError(413, `the body is over ${READ_LIMIT / (1024 * 1024)} MiB`)
              : jsonError(400, 'the body could not be read'),
          );
          return;
        }
      }
      send(res, await opts.handle(toApiRequest(req, url, body)));
    } catch {
      if (!res.headersSent) send(res, jsonError(500, 'internal error'));
      else res.end();
    }
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
