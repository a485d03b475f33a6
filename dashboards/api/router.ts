import { z } from 'zod';
import { describeError } from '../../lib/errors';
import { AuthGate, type FailedAuthLimit } from '../../lib/http/auth-gate';
import {
  type ApiHandler,
  type ApiRequest,
  type ApiResponse,
  answerLogged,
  decodePathSegment,
  json,
} from '../../lib/http/request';
import type { TokenBucketLimiter } from '../../lib/http/token-bucket';
import { TransitionRefusedError } from '../../tenants/errors';
import type { FiguresAtChange } from '../../tenants/lifecycle';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  UnavailableError,
} from '../errors';
import { toCsv } from './csv';
import { parseReportQuery, ReasonBodySchema, ReportNameSchema, TenantIdSchema } from './params';
import type {
  Authenticator,
  LiveFigures,
  Principal,
  ReadinessReader,
  RecipientEraser,
  ReportEngine,
  ReportResult,
  Role,
  SenderReadiness,
  TenantFigures,
  TenantStore,
  Thresholds,
} from './ports';
import { rankTenants, thresholdsFor } from './risk';

export type { ApiRequest, ApiResponse };

/** One structured log line per request: ids and figures only, never keys, addresses or subjects. */
export interface RequestLog {
  route: string;
  method: string;
  status: number;
  principal: string | null;
  role: Role | null;
  tenant: string | null;
  error?: string;
}

export interface RouterDeps {
  auth: Authenticator;
  reports: ReportEngine;
  tenants: TenantStore;
  live: LiveFigures;
  limiter: TokenBucketLimiter;
  thresholds: Thresholds;
  /** Erasure of a recipient (compliance only); absent: `POST /v1/erasures` is not offered here (404). */
  erasure?: RecipientEraser;
  /** Sender readiness (domain checks); absent: the views show none. */
  readiness?: ReadinessReader;
  /** The credential a 401 asks for (default `x-api-key`, the local server's). */
  credential?: string;
  now?: () => Date;
  log?: (entry: RequestLog) => void;
  /** Failed authentications allowed per client address (default 20, then one per 5 s); null: none. */
  failedAuth?: FailedAuthLimit | null;
}

/** The Reports API router, and its check of a request's credentials before the body is read (node:http). */
export type ReportsApiHandler = ApiHandler & { precheck(req: ApiRequest): Promise<ApiResponse | null> };

function wantsCsv(req: ApiRequest, format: string): boolean {
  if (format === 'csv') return true;
  if (req.query.format === 'json') return false;
  return /\btext\/csv\b/.test(req.headers.accept ?? '');
}

function requireRole(p: Principal, ...roles: Role[]): void {
  if (!roles.includes(p.role)) throw new ForbiddenError(`the ${p.role} role cannot do this`);
}

/** A client may only ever name its own tenant; the other roles may name any. */
function checkTenantAccess(p: Principal, tenantId: string): void {
  if (p.role === 'client' && p.tenantId !== tenantId) throw new ForbiddenError('this key cannot see that tenant');
}

function parseTenantId(raw: string): string {
  const id = decodeURIComponentSafe(raw);
  if (!TenantIdSchema.safeParse(id).success) throw new BadRequestError('tenant is not a tenant id');
  return id;
}

function decodeURIComponentSafe(s: string): string {
  return decodePathSegment(s, () => new BadRequestError('the path is not valid percent-encoding'));
}

/** A tenant's 7-day figures as the manual pause's evidence records them. */
function figuresAtChange(f: TenantFigures): FiguresAtChange {
  return {
    sent: f.sent7d,
    delivered: f.delivered7d,
    hardBounces: f.hardBounces7d,
    complaints: f.complaints7d,
    bounceRate: f.bounceRate7d,
    complaintRate: f.complaintRate7d,
  };
}

/**
 * A JSON body checked against `schema`: one line on failure, the first problem's message (which names its field) or
 * the shape the body must have (`shape`).
 */
function parseJsonBody<T>(body: string | null, schema: z.ZodType<T>, shape: string): T {
  let value: unknown;
  try {
    value = JSON.parse(body ?? '');
  } catch {
    throw new BadRequestError(`the body must be JSON: ${shape}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BadRequestError(issue?.path.length ? issue.message : `the body must be ${shape}`);
  }
  return parsed.data;
}

/** `{"reason": "<internal note>", "tenantReason": "<what the tenant may see>"}` (tenantReason optional). */
function parseReasonBody(body: string | null): { reason: string; tenantReason?: string } {
  return parseJsonBody(body, ReasonBodySchema, '{"reason": "..."}');
}

/** `{"address", "reason", "tenant"?, "dryRun"?}`: the address is checked as an address by the privacy area. */
const ErasureBodySchema = z.strictObject({
  address: z.string({ error: 'address is required' }).min(3, 'address is too short').max(254, 'address is too long'),
  reason: z
    .string({ error: 'a reason is required' })
    .trim()
    .min(3, 'a reason is required (3 characters or more)')
    .max(500, 'the reason is too long (500 characters at most)'),
  tenant: TenantIdSchema.optional(),
  dryRun: z.boolean({ error: 'dryRun must be true or false' }).optional(),
});

/** A list row with its readiness verdict and reasons, and SES's verdict from the check when the store has none. */
function withReadiness<T extends { awsVerdict: string | null }>(row: T, r: SenderReadiness | undefined) {
  return {
    ...row,
    awsVerdict: row.awsVerdict ?? r?.awsVerdict ?? null,
    readiness: r ? { verdict: r.verdict, reasons: r.reasons, checkedAt: r.checkedAt } : null,
  };
}

function csvFileName(name: string, tenant: string | null, from: number, to: number): string {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return `${[name, tenant ?? 'all-tenants', day(from), day(to)].join('_')}.csv`;
}

/**
 * The Reports API as a pure function of a request: authenticate, rate-limit per credential, route, validate, scope
 * to the caller's tenant, answer JSON or CSV. Every error is a status and a one-line `{"error": ...}`.
 */
export function createRouter(deps: RouterDeps): ReportsApiHandler {
  const now = deps.now ?? (() => new Date());

  async function route(req: ApiRequest, p: Principal, log: RequestLog): Promise<ApiResponse> {
    const parts = req.path.split('/').filter((s) => s !== '');
    if (parts[0] !== 'v1') throw new NotFoundError('no such route');
    const [, resource, id, sub, extra] = parts;
    // HEAD is GET without a body (node:http leaves the body out; API Gateway is given none).
    const method = req.method.toUpperCase() === 'HEAD' ? 'GET' : req.method.toUpperCase();

    if (resource === 'me' && !id && method === 'GET') {
      log.route = '/v1/me';
      return json(200, { id: p.id, role: p.role, tenantId: p.tenantId, thresholds: deps.thresholds });
    }

    if (resource === 'tenants' && !id && method === 'GET') {
      log.route = '/v1/tenants';
      const [statuses, figures, readiness] = await Promise.all([
        deps.tenants.listStatuses(),
        deps.live.figures(now()),
        deps.readiness?.list() ?? [],
      ]);
      const ready = new Map(readiness.map((r) => [r.tenantId, r]));
      let ranked = rankTenants(statuses, figures, deps.thresholds).map((t) => withReadiness(t, ready.get(t.tenantId)));
      if (p.role === 'client') ranked = ranked.filter((t) => t.tenantId === p.tenantId);
      return json(200, { thresholds: deps.thresholds, tenants: ranked });
    }

    if (resource === 'tenants' && id && !extra) {
      const tenantId = parseTenantId(id);
      log.tenant = tenantId;
      if (!sub && method === 'GET') {
        log.route = '/v1/tenants/{id}';
        checkTenantAccess(p, tenantId);
        const [status, figures, readiness] = await Promise.all([
          deps.tenants.getStatus(tenantId),
          deps.live.figures(now()),
          deps.readiness?.get(tenantId) ?? null,
        ]);
        const f = figures.find((x) => x.tenantId === tenantId) ?? null;
        if (!status && !f && !readiness) throw new NotFoundError('no such tenant');
        return json(200, {
          tenantId,
          state: status?.state ?? 'active',
          since: status?.since ?? null,
          awsVerdict: status?.awsVerdict ?? readiness?.awsVerdict ?? null,
          readiness,
          evidence: status?.evidence ?? null,
          policy: status?.policy ?? deps.thresholds.policy,
          thresholds: status ? thresholdsFor(status, deps.thresholds.policy) : deps.thresholds,
          figures: f,
        });
      }
      if (sub === 'audit' && method === 'GET') {
        log.route = '/v1/tenants/{id}/audit';
        checkTenantAccess(p, tenantId);
        const audit = await deps.tenants.listAudit(tenantId);
        // The officer's note is internal: a client sees the reason meant for it.
        return json(200, { tenantId, audit: p.role === 'client' ? audit.map(({ note: _note, ...a }) => a) : audit });
      }
      if ((sub === 'pause' || sub === 'resume') && method === 'POST') {
        log.route = `/v1/tenants/{id}/${sub}`;
        requireRole(p, 'compliance');
        const body = parseReasonBody(req.body);
        // A tenant is known when the store has it or the lake has its mail (no decision recorded yet).
        const [known, figures] = await Promise.all([deps.tenants.getStatus(tenantId), deps.live.figures(now())]);
        const f = figures.find((x) => x.tenantId === tenantId);
        if (!known && !f) throw new NotFoundError('no such tenant');
        try {
          const status = await deps.tenants.setPaused(tenantId, sub === 'pause', p.id, body.reason, now(), {
            ...(body.tenantReason ? { reason: body.tenantReason } : {}),
            figures: f ? figuresAtChange(f) : null,
          });
          return json(200, status);
        } catch (err) {
          if (err instanceof TransitionRefusedError) throw new ConflictError(describeError(err), { cause: err });
          throw err;
        }
      }
    }

    if (resource === 'erasures' && !id && method === 'POST' && deps.erasure) {
      log.route = '/v1/erasures';
      requireRole(p, 'compliance');
      const body = parseJsonBody(req.body, ErasureBodySchema, '{"address": "...", "reason": "..."}');
      log.tenant = body.tenant ?? null;
      const done = await deps.erasure.forget({ ...body, requestedBy: p.id, dryRun: body.dryRun ?? false });
      if (!done.ok) throw done.unavailable ? new UnavailableError(done.error) : new BadRequestError(done.error);
      if ('accepted' in done) {
        return json(202, { accepted: true, requestId: done.accepted.requestId, dryRun: done.accepted.dryRun });
      }
      return json(200, done.report);
    }

    if (resource === 'reports' && !id && method === 'GET') {
      log.route = '/v1/reports';
      return json(200, { reports: deps.reports.reports() });
    }

    if (resource === 'reports' && id && !sub && method === 'GET') {
      log.route = '/v1/reports/{name}';
      const name = decodeURIComponentSafe(id);
      if (!ReportNameSchema.safeParse(name).success) throw new BadRequestError('unknown report');
      const info = deps.reports.reports().find((r) => r.name === name);
      if (!info) throw new BadRequestError(`unknown report "${name}"`);
      const q = parseReportQuery(req.query, now());
      // The tenant filter is the server's: a client's own tenant whatever it asked, never another one.
      let tenant = q.tenant;
      if (p.role === 'client') {
        if (tenant !== null && tenant !== p.tenantId) throw new ForbiddenError('this key cannot see that tenant');
        tenant = p.tenantId;
      }
      log.tenant = tenant;
      if (info.requires.includes('message_id') && !q.messageId) {
        throw new BadRequestError(`report "${name}" needs message_id`);
      }
      const result: ReportResult = await deps.reports.run(name, {
        from: q.from,
        to: q.to,
        tenant,
        messageId: q.messageId,
        limit: q.limit,
      });
      if (wantsCsv(req, q.format)) {
        return {
          status: 200,
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': `attachment; filename="${csvFileName(name, tenant, q.from, q.to)}"`,
            'cache-control': 'no-store',
          },
          body: toCsv(result.columns, result.rows),
        };
      }
      return json(200, {
        report: name,
        tenant,
        from: new Date(q.from).toISOString(),
        to: new Date(q.to).toISOString(),
        columns: result.columns,
        rows: result.rows,
        ...(result.basis ? { basis: result.basis } : {}),
      });
    }
    throw new NotFoundError('no such route');
  }

  const gate = new AuthGate<Principal>({
    authenticate: (req) => deps.auth.authenticate(req.headers),
    unauthenticated: `missing or invalid credentials (${deps.credential ?? 'x-api-key'})`,
    failedAuth: deps.failedAuth,
    now: () => now().getTime(),
  });
  const isPublic = (req: ApiRequest) => req.path === '/v1/health';

  async function handle(req: ApiRequest): Promise<ApiResponse> {
    const log: RequestLog = {
      route: 'unmatched',
      method: req.method,
      status: 500,
      principal: null,
      role: null,
      tenant: null,
    };
    return answerLogged(
      log,
      async () => {
        if (req.path === '/v1/health') {
          log.route = '/v1/health';
          return json(200, { ok: true });
        }
        const principal = await gate.principal(req);
        log.principal = principal.id;
        log.role = principal.role;
        const taken = deps.limiter.take(principal.id, now().getTime());
        if (!taken.ok) throw new RateLimitedError('too many requests for this key', taken.retryAfterSeconds);
        const res = await route(req, principal, log);
        return req.method.toUpperCase() === 'HEAD' ? { ...res, body: '' } : res;
      },
      deps.log,
    );
  }

  return Object.assign(handle, {
    // Refused unread: a request whose credentials do not hold is answered (and logged) without its body.
    precheck: async (req: ApiRequest) =>
      isPublic(req) || !req.path.startsWith('/v1/') || (await gate.admits(req)) ? null : handle(req),
  });
}
