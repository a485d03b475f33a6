import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { type HttpExchange, loadApiContracts, type OpenApiContract } from './openapi-contract';

/**
 * Watches every HTTP exchange of this process through node:http's diagnostics channels and checks it against the
 * API documents: every answer of a server on a documented path (the Email API, the Reports API, the External
 * Reporting receiver, whoever called them), and every request that sesflow's own clients send (their `user-agent`
 * starts with `sesflow-`: the pusher's requests to External Reporting). The contract test of the integration tests
 * (lib/openapi-contract.setup.ts) fails a test file whose exchanges broke a document.
 */

/** Bodies larger than this are not kept (their status and headers are still checked). */
const MAX_CAPTURED_BYTES = 4 * 1024 * 1024;

interface Capture {
  chunks: Buffer[];
  bytes: number;
  truncated: boolean;
}

function capture(c: Capture, chunk: unknown, encoding?: unknown): void {
  if (chunk === undefined || chunk === null || typeof chunk === 'function' || c.truncated) return;
  const buf = Buffer.isBuffer(chunk)
    ? chunk
    : chunk instanceof Uint8Array
      ? Buffer.from(chunk)
      : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  c.bytes += buf.length;
  if (c.bytes > MAX_CAPTURED_BYTES) {
    c.truncated = true;
    c.chunks = [];
  } else c.chunks.push(buf);
}

function lowerHeaders(h: OutgoingHttpHeaders | Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

/** What writeHead was given as headers: an object, or a flat [name, value, ...] array. */
function headersArg(args: unknown[]): Record<string, string> {
  const h = args.find((a) => a !== null && typeof a === 'object');
  if (!h) return {};
  if (Array.isArray(h)) {
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < h.length; i += 2) out[String(h[i]).toLowerCase()] = String(h[i + 1]);
    return out;
  }
  return lowerHeaders(h as Record<string, unknown>);
}

/** Exchanges kept for checking per test file; beyond it they are counted, not checked (a load test's thousands). */
const MAX_DEFERRED = 20_000;

interface Deferred {
  kind: 'request' | 'response';
  ex: HttpExchange;
  document: string | undefined;
}

const state = {
  started: false,
  contracts: null as Promise<OpenApiContract[]> | null,
  deferred: [] as Deferred[],
  dropped: 0,
  violations: [] as string[],
  checked: 0,
};

/** The property a server names its OpenAPI document by (lib/http/node-server.ts's OPENAPI_DOCUMENT). */
const DOCUMENT = Symbol.for('sesflow.openapi-document');

/**
 * Checks an exchange against the document its server names, or, for a client's request or a server that names
 * none, against every document that has its path.
 */
function check(kind: 'request' | 'response', ex: HttpExchange, document?: string): void {
  // Checked when the test file ends (takeContractResults), not while its servers are busy: the checks take no
  // time from the code under test.
  if (state.deferred.length < MAX_DEFERRED) state.deferred.push({ kind, ex, document });
  else state.dropped++;
}

function checkNow(contracts: OpenApiContract[], { kind, ex, document }: Deferred): void {
  const results = contracts
    .filter((c) => (document ? c.name === document : true) && c.covers(ex.path))
    .map((c) => ({ c, problems: kind === 'response' ? c.checkResponse(ex) : c.checkRequest(ex) }))
    .filter((r): r is { c: OpenApiContract; problems: string[] } => r.problems !== null);
  if (results.length === 0) return;
  state.checked++;
  // A path two documents share (/v1/health) holds when either document allows the exchange.
  if (results.some((r) => r.problems.length === 0)) return;
  const first = results[0]!;
  state.violations.push(`${first.c.name}: ${first.problems[0]}`);
}

/**
 * Wraps the stream's `write` and `end` so that what it writes is kept (up to the capture's limit), and hands the
 * capture to `atEnd` when the stream ends, before the stream's own `end` runs.
 */
function captureWrites<S extends ServerResponse | ClientRequest>(stream: S, atEnd: (body: Capture) => void): void {
  const body: Capture = { chunks: [], bytes: 0, truncated: false };
  const write = stream.write as (...a: unknown[]) => boolean;
  const end = stream.end as (...a: unknown[]) => S;
  stream.write = function (this: S, chunk: unknown, ...rest: unknown[]) {
    capture(body, chunk, rest[0]);
    return write.apply(this, [chunk, ...rest]);
  } as S['write'];
  stream.end = function (this: S, ...args: unknown[]) {
    capture(body, args[0], args[1]);
    atEnd(body);
    return end.apply(this, args);
  } as S['end'];
}

function onServerRequest({
  request,
  response,
  server,
}: {
  request: IncomingMessage;
  response: ServerResponse;
  server: object;
}): void {
  const document = (server as Record<symbol, string | undefined>)[DOCUMENT];
  let headArgs: Record<string, string> = {};
  const writeHead = response.writeHead;
  response.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    headArgs = headersArg(args.slice(1));
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof response.writeHead;
  captureWrites(response, (body) => {
    const path = (request.url ?? '/').split('?')[0]!;
    // Only a server that names its document is held to it: a test's stub of a deployed API (the smoke test's) is not.
    if (document && !body.truncated && (request.url ?? '').startsWith('/')) {
      check(
        'response',
        {
          method: request.method ?? 'GET',
          path,
          requestHeaders: lowerHeaders(request.headers),
          status: response.statusCode,
          responseHeaders: { ...lowerHeaders(response.getHeaders()), ...headArgs },
          responseBody: Buffer.concat(body.chunks),
        },
        document,
      );
    }
  });
}

function onClientRequest({ request }: { request: ClientRequest }): void {
  const agent = request.getHeader('user-agent');
  if (typeof agent !== 'string' || !agent.startsWith('sesflow-')) return;
  captureWrites(request, (body) => {
    if (!body.truncated) {
      check('request', {
        method: request.method,
        path: request.path.split('?')[0]!,
        requestHeaders: lowerHeaders(request.getHeaders()),
        requestBody: Buffer.concat(body.chunks),
        status: 0,
        responseHeaders: {},
        responseBody: Buffer.alloc(0),
      });
    }
  });
}

/** Starts watching (once per process). */
export function startContractRecorder(): void {
  if (state.started) return;
  state.started = true;
  subscribe('http.server.request.start', onServerRequest as (m: unknown) => void);
  subscribe('http.client.request.start', onClientRequest as (m: unknown) => void);
}

/** Checks what was recorded: the violations, how many exchanges were checked and how many were not; then resets. */
export async function takeContractResults(): Promise<{ violations: string[]; checked: number; unchecked: number }> {
  if (state.deferred.length > 0) {
    state.contracts ??= loadApiContracts();
    const contracts = await state.contracts;
    for (const d of state.deferred.splice(0)) checkNow(contracts, d);
  }
  const out = { violations: state.violations, checked: state.checked, unchecked: state.dropped };
  state.violations = [];
  state.checked = 0;
  state.dropped = 0;
  return out;
}
