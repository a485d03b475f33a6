import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** The path of the External Reporting API that takes record batches (docs/reporting-api.openapi.yaml). */
export const DELIVERY_RECORDS_PATH = '/v1/delivery-records';

/**
 * What one request got: an HTTP status with the receiver's one-line error and its `Retry-After` (milliseconds), or
 * status 0 for no answer at all (timeout, refused or dropped connection) with the reason.
 */
export interface ApiAnswer {
  status: number;
  error: string | null;
  retryAfterMs: number | null;
  replayed: boolean;
}

/** A request body: the JSON text, or that text gzip-compressed (sent with `Content-Encoding: gzip`). */
export type BatchBody = string | { gzip: Uint8Array };

/** The External Reporting API as the pusher sees it (one adapter; tests and the benchmark use the same one). */
export interface ReportingApi {
  postBatch(idempotencyKey: string, body: BatchBody, timeoutMs: number): Promise<ApiAnswer>;
  close(): void;
}

/** How the pusher names itself to the platform (and how the contract test knows its requests). */
export const PUSHER_USER_AGENT = 'sesflow-pusher/1';

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

const MAX_ERROR_BODY = 4096;

function readAnswer(res: IncomingMessage): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_ERROR_BODY) chunks.push(c);
    });
    res.on('error', reject);
    res.on('end', () => {
      const status = res.statusCode ?? 0;
      let error: string | null = null;
      if (status >= 300) {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          const parsed = JSON.parse(text) as { error?: unknown };
          error = typeof parsed.error === 'string' ? parsed.error : null;
        } catch {
          error = null;
        }
        error ??= text.split('\n')[0]?.slice(0, 200) || null;
      }
      resolve({
        status,
        error,
        retryAfterMs: parseRetryAfter(res.headers['retry-after']),
        replayed: res.headers['idempotent-replayed'] === 'true',
      });
    });
  });
}

/**
 * The HTTP adapter: `POST <base>/v1/delivery-records` with `x-api-key`, `Idempotency-Key` and the batch body, over a
 * keep-alive agent of `maxSockets` connections. Never throws: a timeout or a network failure is an answer with
 * status 0, so the retry policy decides.
 */
export function createReportingApiClient(opts: { baseUrl: string; apiKey: string; maxSockets?: number }): ReportingApi {
  const base = new URL(opts.baseUrl);
  const https = base.protocol === 'https:';
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64 })
    : new HttpAgent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64 });
  const path = `${base.pathname.replace(/\/$/, '')}${DELIVERY_RECORDS_PATH}`;
  const send = https ? httpsRequest : httpRequest;
  return {
    postBatch(idempotencyKey, body, timeoutMs) {
      return new Promise<ApiAnswer>((resolve) => {
        let settled = false;
        const finish = (a: ApiAnswer) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(a);
        };
        const noAnswer = (reason: string): ApiAnswer => ({
          status: 0,
          error: reason,
          retryAfterMs: null,
          replayed: false,
        });
        const req = send(
          {
            protocol: base.protocol,
            hostname: base.hostname,
            port: base.port || (https ? 443 : 80),
            path,
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.gzip.byteLength,
              ...(typeof body === 'string' ? {} : { 'content-encoding': 'gzip' }),
              'x-api-key': opts.apiKey,
              'idempotency-key': idempotencyKey,
              'user-agent': PUSHER_USER_AGENT,
            },
          },
          (res) => {
            readAnswer(res).then(finish, (err: Error) => finish(noAnswer(`response failed: ${err.message}`)));
          },
        );
        const timer = setTimeout(() => {
          finish(noAnswer(`no answer within ${timeoutMs} ms`));
          req.destroy();
        }, timeoutMs);
        req.on('error', (err: NodeJS.ErrnoException) =>
          finish(noAnswer(`connection failed: ${err.code ?? err.message}`)),
        );
        req.end(typeof body === 'string' ? body : body.gzip);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/** The path of the External Reporting API that deletes records (docs/reporting-api.openapi.yaml). */
export const ERASURE_NOTICES_PATH = '/v1/erasure-notices';

/** Record ids per deletion request (the contract's limit). */
export const MAX_ERASURE_IDS = 500;

/** What External Reporting answered to deletion requests: records deleted now, and ids it did not hold. */
export interface ErasureNoticeAnswer {
  erased: number;
  notHeld: number;
}

/**
 * Asks External Reporting to delete records (`POST <base>/v1/erasure-notices`, by record id: the notice names no
 * address), in requests of at most 500 ids. Deleting is idempotent, so a failed request is simply sent again (up to
 * `attempts` times, for no answer, 429 and 5xx); any other answer throws with its one-line error.
 */
export async function postErasureNotices(
  opts: { baseUrl: string; apiKey: string; timeoutMs?: number; attempts?: number },
  recordIds: readonly string[],
): Promise<ErasureNoticeAnswer> {
  const url = `${opts.baseUrl.replace(/\/$/, '')}${ERASURE_NOTICES_PATH}`;
  const total: ErasureNoticeAnswer = { erased: 0, notHeld: 0 };
  for (let i = 0; i < recordIds.length; i += MAX_ERASURE_IDS) {
    const body = JSON.stringify({ record_ids: recordIds.slice(i, i + MAX_ERASURE_IDS) });
    for (let attempt = 1; ; attempt++) {
      let status = 0;
      let text = '';
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': opts.apiKey },
          body,
          signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
        });
        status = res.status;
        text = await res.text();
      } catch (err) {
        text = `no answer: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (status === 200) {
        const answer = JSON.parse(text) as { erased?: unknown; not_held?: unknown };
        total.erased += Number(answer.erased ?? 0);
        total.notHeld += Number(answer.not_held ?? 0);
        break;
      }
      const retryable = status === 0 || status === 429 || status >= 500;
      if (!retryable || attempt >= (opts.attempts ?? 4)) {
        let reason = text.split('\n')[0]!.slice(0, 200);
        try {
          const e = JSON.parse(text) as { error?: unknown };
          if (typeof e.error === 'string') reason = e.error;
        } catch {
          // not JSON: the first line as it is
        }
        throw new Error(`External Reporting refused the deletion request (${status || 'no answer'}): ${reason}`);
      }
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
  return total;
}
