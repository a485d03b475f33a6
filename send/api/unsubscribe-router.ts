import { describeError } from '../../lib/errors';
import type { ApiRequest, ApiResponse } from '../../lib/http/request';
import type { UnsubscribeOutcome } from '../unsubscribe';

/** The path of the one-click endpoint (no API key: the token is the credential). */
export const UNSUBSCRIBE_PATH = '/v1/unsubscribe';

/** One structured line per request: the outcome and the tenant, never the token or the address. */
export interface UnsubscribeLog {
  method: string;
  status: number;
  tenant: string | null;
  outcome?: UnsubscribeOutcome['status'];
  error?: string;
}

const TEXT = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };

function text(status: number, body: string, extra: Record<string, string> = {}): ApiResponse {
  return { status, headers: { ...TEXT, ...extra }, body: `${body}\n` };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The one-click unsubscribe endpoint (RFC 8058): `POST /v1/unsubscribe?token=…` with the body
 * `List-Unsubscribe=One-Click` unsubscribes (200, one line); a person who opens the link gets a page whose button
 * sends that POST (a GET never unsubscribes: link scanners follow links). A bad or expired token is a one-line 400 or
 * 410; anything else that fails is a one-line 503, to be retried (the use case is idempotent).
 */
export function createUnsubscribeRouter(deps: {
  unsubscribe: (token: string) => Promise<UnsubscribeOutcome>;
  log?: (entry: UnsubscribeLog) => void;
}): (req: ApiRequest) => Promise<ApiResponse> {
  return async (req) => {
    const log: UnsubscribeLog = { method: req.method, status: 500, tenant: null };
    const res = await (async (): Promise<ApiResponse> => {
      const raw = req.query.token;
      const token = Array.isArray(raw) ? raw[0] : raw;
      const method = req.method.toUpperCase();
      if (method !== 'POST' && method !== 'GET') return text(405, 'use POST to unsubscribe', { allow: 'GET, POST' });
      if (!token) return text(400, 'the unsubscribe link has no token');
      if (method === 'GET') {
        const action = `${UNSUBSCRIBE_PATH}?token=${encodeURIComponent(token)}`;
        return {
          status: 200,
          headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
          body: `<!doctype html><meta charset="utf-8"><title>Unsubscribe</title><form method="post" action="${escapeHtml(action)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>\n`,
        };
      }
      try {
        const out = await deps.unsubscribe(token);
        log.tenant = out.tenantId;
        log.outcome = out.status;
        return text(200, out.status === 'unsubscribed' ? 'unsubscribed' : 'already unsubscribed');
      } catch (err) {
        log.error = describeError(err);
        if (err instanceof Error && err.name === 'InvalidUnsubscribeTokenError') return text(400, describeError(err));
        if (err instanceof Error && err.name === 'ExpiredUnsubscribeTokenError') return text(410, describeError(err));
        return text(503, 'the unsubscribe could not be recorded now; try again');
      }
    })();
    log.status = res.status;
    deps.log?.(log);
    return res;
  };
}
