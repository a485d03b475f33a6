import { describeError } from '../errors';
import { statusOf, TooManyRequestsError } from './errors';

/** A request as a router sees it, whatever carried it (node:http locally, API Gateway in AWS). */
export interface ApiRequest {
  method: string;
  path: string;
  query: Readonly<Record<string, string | string[]>>;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  body: string | null;
  /** The caller's address (the socket's peer locally, API Gateway's `sourceIp` in AWS): failed-key throttling. */
  clientIp?: string;
  /**
   * The subject DN of the TLS client certificate the connection was authenticated with (mutual TLS: the local TLS
   * server once the certificate chains to its CA, API Gateway's custom domain in AWS); absent without one.
   */
  clientCertSubject?: string;
}

/** A router's answer. */
export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A router: a pure function of a request. */
export type ApiHandler = (req: ApiRequest) => Promise<ApiResponse>;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/** BigInt values (DuckDB's counts) are written as numbers. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}

/** A JSON answer, never cached. */
export function json(status: number, value: unknown, extra: Record<string, string> = {}): ApiResponse {
  return { status, headers: { ...JSON_HEADERS, ...extra }, body: JSON.stringify(value, jsonReplacer) };
}

/**
 * Any thrown value as `{"error": "<one line>"}` with its status. Errors not raised on purpose are answered 500
 * `internal error`: their text may carry internals. A 429 says when to come back (`retry-after`).
 */
export function errorResponse(err: unknown): ApiResponse {
  const status = statusOf(err);
  const message = status === 500 ? 'internal error' : describeError(err);
  const extra: Record<string, string> =
    err instanceof TooManyRequestsError ? { 'retry-after': String(err.retryAfterSeconds) } : {};
  return json(status, { error: message }, extra);
}

/**
 * Runs one request through `route` with a per-request log entry: an error becomes its one-line answer, the cause is
 * logged once (here, never shown to the caller for a 500), and the entry gets the final status.
 */
export async function answerLogged<L extends { status: number; error?: string }>(
  entry: L,
  route: () => Promise<ApiResponse>,
  log?: (entry: L) => void,
): Promise<ApiResponse> {
  let res: ApiResponse;
  try {
    res = await route();
  } catch (err) {
    res = errorResponse(err);
    entry.error = describeError(err);
  }
  entry.status = res.status;
  log?.(entry);
  return res;
}

/** A path segment, percent-decoded; a malformed escape is the caller's error. */
export function decodePathSegment(raw: string, onError: () => Error): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw onError();
  }
}
