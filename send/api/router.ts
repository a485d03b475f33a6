import { randomUUID } from 'node:crypto';
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
import type { ApiKeyScope, Sender, SendOutcome } from '../ports';
import { authenticateCaller, type CallerAuthDeps } from './caller-auth';
import {
  BadRequestError,
  ForbiddenError,
  MessageRejectedError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  SendRefusedError,
  ThrottledError,
  UnavailableError,
} from './errors';
import { jobView, splitIntoChunks } from './jobs';
import type { ApiKeyLookup, JobQueue, JobStore, MessageRecord, MessageStore } from './ports';
import {
  BatchBodySchema,
  JobIdSchema,
  MAX_BATCH_BODY_BYTES,
  MAX_MESSAGE_BODY_BYTES,
  MessageIdSchema,
  parseBody,
  SendMessageBodySchema,
} from './schemas';

export type { ApiRequest, ApiResponse };

/** One structured log line per request: ids and figures only, never keys, addresses or subjects. */
export interface EmailApiLog {
  route: string;
  method: string;
  status: number;
  keyId: string | null;
  tenant: string | null;
  messageId?: string;
  jobId?: string;
  error?: string;
}

export interface EmailApiDeps extends CallerAuthDeps {
  lookupKey: ApiKeyLookup;
  sender: Sender;
  messages: MessageStore;
  jobs: JobStore;
  queue: JobQueue;
  now?: () => Date;
  newJobId?: () => string;
  log?: (entry: EmailApiLog) => void;
  /** Failed authentications allowed per client address (default 20, then one per 5 s); null: none. */
  failedAuth?: FailedAuthLimit | null;
}

/** The Email API router, and its check of a request's credentials before the body is read (node:http). */
export type EmailApiHandler = ApiHandler & { precheck(req: ApiRequest): Promise<ApiResponse | null> };

/** Failures listed by `GET /v1/batches/{id}`. */
const MAX_LISTED_FAILURES = 100;

/**
 * The sender's and SES's refusals, as the caller should see them. Matched by name: the gate's TenantPausedError,
 * and the SESv2 exceptions (client-sesv2 sets `name` to the exception's type).
 */
export function translateSendError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  switch (err.name) {
    case 'TenantPausedError':
    case 'SendingPausedException':
    case 'AccountSuspendedException':
      return new SendRefusedError(describeError(err), { cause: err });
    case 'InvalidMessageError':
      return new BadRequestError(describeError(err), { cause: err });
    case 'UnknownTenantError':
      return new ForbiddenError(`this key's ${describeError(err)}`, { cause: err });
    case 'MessageRejected':
    case 'MailFromDomainNotVerifiedException':
    case 'BadRequestException':
      return new MessageRejectedError(`SES rejected the message: ${describeError(err)}`, { cause: err });
    case 'TooManyRequestsException':
    case 'ThrottlingException':
    case 'LimitExceededException':
      return new ThrottledError('SES is throttling this account; retry later', 1);
    default:
      return err;
  }
}

function checkSize(body: string | null, max: number): void {
  if (body && Buffer.byteLength(body, 'utf8') > max)
    throw new PayloadTooLargeError(`the body is over ${max / (1024 * 1024)} MiB`);
}

function pathId(raw: string, schema: typeof MessageIdSchema, what: string): string {
  const id = decodePathSegment(raw, () => new BadRequestError('the path is not valid percent-encoding'));
  if (!schema.safeParse(id).success) throw new BadRequestError(`${id.slice(0, 40)} is not a ${what}`);
  return id;
}

/** Another tenant's resource is refused, not hidden: the key is valid but may not see it (403). */
function checkOwner(scope: ApiKeyScope, tenantId: string, what: string): void {
  if (tenantId !== scope.tenantId) throw new ForbiddenError(`this key cannot see that ${what}`);
}

/** The item when there is one and the caller owns it: 404 when there is none, 403 when another tenant's. */
function owned<T extends { tenantId: string }>(scope: ApiKeyScope, item: T | null, what: string): T {
  if (!item) throw new NotFoundError(`no such ${what}`);
  checkOwner(scope, item.tenantId, what);
  return item;
}

function messageView(m: MessageRecord) {
  return {
    messageId: m.messageId,
    tenantId: m.tenantId,
    status: m.status,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
    recipients: m.recipients,
    suppressed: m.suppressed,
    ...(m.campaign ? { campaign: m.campaign } : {}),
    ...(m.messageKind ? { messageKind: m.messageKind } : {}),
    ...(m.jobId ? { jobId: m.jobId } : {}),
  };
}

/**
 * The Email API as a pure function of a request (node:http locally, API Gateway in AWS): `x-api-key` on every call
 * (401), scoped to one tenant (403 for another tenant's message or batch), bodies validated with zod (400 with a
 * one-line reason), 413 over the size limit. Every error is a status and a one-line `{"error": ...}`.
 */
export function createEmailApiRouter(deps: EmailApiDeps): EmailApiHandler {
  const now = deps.now ?? (() => new Date());
  const gate = new AuthGate<ApiKeyScope>({
    authenticate: (req) => authenticateCaller(deps, req),
    unauthenticated: 'the x-api-key is not valid',
    failedAuth: deps.failedAuth,
    now: () => now().getTime(),
  });
  const newJobId = deps.newJobId ?? (() => `job-${randomUUID()}`);

  async function sendOne(req: ApiRequest, scope: ApiKeyScope, log: EmailApiLog): Promise<ApiResponse> {
    checkSize(req.body, MAX_MESSAGE_BODY_BYTES);
    const body = parseBody(SendMessageBodySchema, req.body);
    let outcome: SendOutcome;
    try {
      outcome = await deps.sender.send({ tenantId: scope.tenantId, ...body });
    } catch (err) {
      throw translateSendError(err);
    }
    const recipients = body.to.length + (body.cc?.length ?? 0) + (body.bcc?.length ?? 0);
    if (!outcome.messageId) {
      // Every recipient is on the suppression list: nothing went to SES.
      return json(200, { messageId: null, status: 'suppressed', suppressed: outcome.suppressed });
    }
    log.messageId = outcome.messageId;
    const at = now().toISOString();
    await deps.messages.putMessages([
      {
        messageId: outcome.messageId,
        tenantId: scope.tenantId,
        status: 'sent',
        createdAt: at,
        updatedAt: at,
        recipients: recipients - outcome.suppressed.length,
        suppressed: outcome.suppressed.length,
        ...(body.campaign ? { campaign: body.campaign } : {}),
        ...(body.messageKind ? { messageKind: body.messageKind } : {}),
      },
    ]);
    return json(200, { messageId: outcome.messageId, status: 'sent', suppressed: outcome.suppressed });
  }

  async function createBatch(req: ApiRequest, scope: ApiKeyScope, log: EmailApiLog): Promise<ApiResponse> {
    checkSize(req.body, MAX_BATCH_BODY_BYTES);
    const body = parseBody(BatchBodySchema, req.body);
    try {
      await deps.sender.assertMaySend?.(scope.tenantId, body.from);
    } catch (err) {
      throw translateSendError(err);
    }
    const jobId = newJobId();
    log.jobId = jobId;
    const chunks = splitIntoChunks(jobId, scope.tenantId, body);
    const at = now().toISOString();
    // The job item first: the worker adds to its counters as soon as a chunk is sent.
    await deps.jobs.createJob({
      jobId,
      tenantId: scope.tenantId,
      createdAt: at,
      updatedAt: at,
      destinations: body.destinations.length,
      chunks: chunks.length,
      sent: 0,
      suppressed: 0,
      failed: 0,
      chunksDone: 0,
      ...(body.campaign ? { campaign: body.campaign } : {}),
      ...(body.messageKind ? { messageKind: body.messageKind } : {}),
    });
    try {
      await deps.queue.enqueue(chunks);
    } catch (err) {
      throw new UnavailableError(
        `batch ${jobId} could not be fully queued (${describeError(err)}); GET /v1/batches/${jobId} shows what is sent`,
        { cause: err },
      );
    }
    return json(
      202,
      { jobId, status: 'queued', destinations: body.destinations.length, chunks: chunks.length },
      { location: `/v1/batches/${jobId}` },
    );
  }

  async function route(req: ApiRequest, scope: ApiKeyScope, log: EmailApiLog): Promise<ApiResponse> {
    const parts = req.path.split('/').filter((s) => s !== '');
    // HEAD is GET without a body (node:http leaves the body out; API Gateway is given none).
    const method = req.method.toUpperCase() === 'HEAD' ? 'GET' : req.method.toUpperCase();
    if (parts[0] !== 'v1' || parts.length > 3) throw new NotFoundError('no such route');
    const [, resource, id] = parts;

    const handlers = resource === undefined ? undefined : RESOURCES.get(resource);
    if (!handlers) throw new NotFoundError('no such route');
    const [verb, action] = id === undefined ? (['POST', handlers.create] as const) : (['GET', handlers.read] as const);
    log.route = action.route;
    if (method !== verb) throw new MethodNotAllowedError(action.hint);
    return action.run(req, scope, log, id ?? '');
  }

  /** A message by id, the caller's own only. */
  async function readMessage(_req: ApiRequest, scope: ApiKeyScope, log: EmailApiLog, raw: string) {
    const messageId = pathId(raw, MessageIdSchema, 'message id');
    log.messageId = messageId;
    const m = owned(scope, await deps.messages.getMessage(messageId), 'message');
    return json(200, messageView(m));
  }

  /** A batch by id with its failures listed, the caller's own only. */
  async function readBatch(_req: ApiRequest, scope: ApiKeyScope, log: EmailApiLog, raw: string) {
    const jobId = pathId(raw, JobIdSchema, 'batch id');
    log.jobId = jobId;
    const job = owned(scope, await deps.jobs.getJob(jobId), 'batch');
    return json(200, jobView(job, await deps.jobs.listFailures(jobId, MAX_LISTED_FAILURES)));
  }

  type Action = {
    route: string;
    hint: string;
    run: (req: ApiRequest, scope: ApiKeyScope, log: EmailApiLog, id: string) => Promise<ApiResponse>;
  };
  /** The API's resources: POST on the collection creates, GET on an item (`/{id}`) reads one. */
  const RESOURCES = new Map<string, { create: Action; read: Action }>([
    [
      'messages',
      {
        create: { route: '/v1/messages', hint: 'use POST /v1/messages to send', run: sendOne },
        read: { route: '/v1/messages/{id}', hint: 'use GET /v1/messages/{id}', run: readMessage },
      },
    ],
    [
      'batches',
      {
        create: { route: '/v1/batches', hint: 'use POST /v1/batches to send a batch', run: createBatch },
        read: { route: '/v1/batches/{id}', hint: 'use GET /v1/batches/{id}', run: readBatch },
      },
    ],
  ]);

  async function handle(req: ApiRequest): Promise<ApiResponse> {
    const log: EmailApiLog = {
      route: req.path.slice(0, 80),
      method: req.method,
      status: 500,
      keyId: null,
      tenant: null,
    };
    return answerLogged(
      log,
      async () => {
        const scope = await gate.principal(req);
        log.keyId = scope.keyId;
        log.tenant = scope.tenantId;
        const res = await route(req, scope, log);
        return req.method.toUpperCase() === 'HEAD' ? { ...res, body: '' } : res;
      },
      deps.log,
    );
  }

  return Object.assign(handle, {
    // Refused unread: a request whose credentials do not hold is answered (and logged) without its body.
    precheck: async (req: ApiRequest) => ((await gate.admits(req)) ? null : handle(req)),
  });
}
