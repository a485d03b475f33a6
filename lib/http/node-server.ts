import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatBytes } from './errors';
import { type ApiRequest, json } from './request';

/** What a node:http route answers: a router's response, or a static file's bytes. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface HttpServerOptions {
  handle: (req: ApiRequest) => Promise<HttpAnswer>;
  /** 0 = a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Bodies over this are answered 413 unread (the router may apply a smaller limit per route). */
  maxBodyBytes: number;
  /** Headers on every answer (security headers); the route's own win. */
  headers?: Record<string, string>;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        // Drained, not destroyed: the 413 still reaches the caller.
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length ? Buffer.concat(chunks).toString('utf8') : null));
    req.on('error', reject);
  });
}

/** A node:http request as the router's request (repeated query parameters become a list). */
export function fromIncoming(req: IncomingMessage, url: URL, body: string | null): ApiRequest {
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
 * Serves a router on node:http (what `sesflow start` runs; API Gateway calls the same router in AWS): reads the
 * body of a POST or PUT up to `maxBodyBytes` (413 over it), hands the request to `handle`, and answers 500
 * `internal error` for anything it throws.
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const common = opts.headers ?? {};
  const send = (res: ServerResponse, out: HttpAnswer) => {
    res.writeHead(out.status, { ...common, ...out.headers });
    res.end(out.body);
  };
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let body: string | null = null;
      if (req.method === 'POST' || req.method === 'PUT') {
        try {
          body = await readBody(req, opts.maxBodyBytes);
        } catch (err) {
          send(
            res,
            err instanceof BodyTooLarge
              ? json(413, { error: `the body is over ${formatBytes(opts.maxBodyBytes)}` })
              : json(400, { error: 'the body could not be read' }),
          );
          return;
        }
      }
      send(res, await opts.handle(fromIncoming(req, url, body)));
    } catch {
      if (!res.headersSent) send(res, json(500, { error: 'internal error' }));
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
