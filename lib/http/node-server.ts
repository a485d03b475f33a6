import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
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
  /**
   * Runs on the request before its body is read (the body is then null): an answer refuses the request unread (a
   * missing or wrong key), null reads the body and hands the same request to `handle`.
   */
  precheck?: (req: ApiRequest) => Promise<HttpAnswer | null>;
  /**
   * Serve HTTPS instead of HTTP (PEM texts). With `ca`, clients may present a certificate: one that chains to `ca`
   * gives the request its `clientCertSubject`; one that does not, or none, leaves it unset (the router decides).
   */
  tls?: { key: string; cert: string; ca?: string };
  /** The file name of the API's OpenAPI document under docs/ (the contract test checks the server's answers by it). */
  document?: string;
}

/** The property of a node:http server that names its OpenAPI document (read by the contract test). */
export const OPENAPI_DOCUMENT = Symbol.for('sesflow.openapi-document');

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
  const socket = req.socket as Partial<TLSSocket>;
  const peer = socket.authorized ? socket.getPeerCertificate?.() : undefined;
  const subject = peer?.subject ? subjectDn(peer.subject as unknown as Record<string, string | string[]>) : '';
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query,
    headers,
    body,
    ...(req.socket.remoteAddress ? { clientIp: req.socket.remoteAddress } : {}),
    ...(subject ? { clientCertSubject: subject } : {}),
  };
}

/**
 * The request target as a URL, or null when it is not a path. Resolved against a fixed origin as a string, so that a
 * target such as `//host/x` stays a path (`new URL('//host/x', base)` would read it as another host, or throw).
 */
export function requestUrl(target: string | undefined): URL | null {
  const path = target ?? '/';
  if (!path.startsWith('/')) return null;
  try {
    return new URL(`http://localhost${path}`);
  } catch {
    return null;
  }
}

/** A certificate subject as an RFC 4514-style DN, most specific first (`CN=acme,O=Acme`), as API Gateway gives it. */
function subjectDn(subject: Record<string, string | string[]>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(subject)) {
    for (const value of Array.isArray(v) ? v : [v]) parts.push(`${k}=${value.replace(/([,+"\\<>;=])/g, '\\$1')}`);
  }
  return parts.reverse().join(',');
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
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const url = requestUrl(req.url);
      if (!url) {
        req.resume();
        send(res, json(400, { error: 'the request target is not a valid path' }));
        return;
      }
      const request = fromIncoming(req, url, null);
      const refused = opts.precheck ? await opts.precheck(request) : null;
      if (refused) {
        // Refused before the body is read: what the caller still sends is drained, so the answer reaches it.
        req.resume();
        send(res, refused);
        return;
      }
      if (req.method === 'POST' || req.method === 'PUT') {
        try {
          request.body = await readBody(req, opts.maxBodyBytes);
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
      send(res, await opts.handle(request));
    } catch {
      if (!res.headersSent) send(res, json(500, { error: 'internal error' }));
      else res.end();
    }
  };
  const server = opts.tls
    ? createTlsServer(
        {
          key: opts.tls.key,
          cert: opts.tls.cert,
          ...(opts.tls.ca ? { ca: opts.tls.ca, requestCert: true, rejectUnauthorized: false } : {}),
        },
        listener,
      )
    : createServer(listener);
  if (opts.document) Object.defineProperty(server, OPENAPI_DOCUMENT, { value: opts.document });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
