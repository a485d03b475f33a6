import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { writeAwsJson } from '../aws-json-reply';
import { SesApiError } from './errors';
import type { EventSinkResolver } from './event-sinks';
import {
  type MessageTag,
  type OutgoingMessage,
  type PendingEvent,
  SesSimulator,
  type SesSimulatorOptions,
} from './simulator';
import { EventDestinationSchema, loadPendingEvents, loadState, savePendingEvents, saveState } from './state';

/**
 * The SES simulator's HTTP face: the SESv2 REST-JSON routes that `@aws-sdk/client-sesv2` calls (methods and paths
 * read from the client's operation schemas, e.g. `SendEmail$ … ["POST", "/v2/email/outbound-emails", 200]`).
 * Bodies are validated with zod; errors go back as SES sends them (status, `x-amzn-ErrorType`, `{ message }`).
 */

const TagSchema = z.object({ Name: z.string(), Value: z.string() });
/** SESv2 MessageHeader: a name is printable ASCII without a colon, at most 126 characters; a value at most 995. */
const HeaderSchema = z.object({
  Name: z.string().regex(/^[\x21-\x39\x3b-\x7e]{1,126}$/, 'a header name is 1-126 printable characters, no colon'),
  Value: z.string().max(995),
});
const HeadersSchema = z.array(HeaderSchema).optional();
const DestinationSchema = z
  .object({
    ToAddresses: z.array(z.string()).optional(),
    CcAddresses: z.array(z.string()).optional(),
    BccAddresses: z.array(z.string()).optional(),
  })
  .optional();
const TemplateSchema = z.looseObject({
  TemplateName: z.string().optional(),
  TemplateContent: z.looseObject({ Subject: z.string().optional() }).optional(),
  Headers: HeadersSchema,
});

const SendEmailSchema = z.looseObject({
  FromEmailAddress: z.string().optional(),
  Destination: DestinationSchema,
  Content: z.looseObject({
    Simple: z
      .looseObject({ Subject: z.looseObject({ Data: z.string() }).optional(), Headers: HeadersSchema })
      .optional(),
    Raw: z.looseObject({ Data: z.string() }).optional(),
    Template: TemplateSchema.optional(),
  }),
  EmailTags: z.array(TagSchema).optional(),
  ConfigurationSetName: z.string().optional(),
  TenantName: z.string().optional(),
});

const SendBulkEmailSchema = z.looseObject({
  FromEmailAddress: z.string().optional(),
  DefaultContent: z.looseObject({ Template: TemplateSchema.optional() }),
  BulkEmailEntries: z.array(
    z.looseObject({
      Destination: DestinationSchema,
      ReplacementTags: z.array(TagSchema).optional(),
      ReplacementHeaders: HeadersSchema,
    }),
  ),
  DefaultEmailTags: z.array(TagSchema).optional(),
  ConfigurationSetName: z.string().optional(),
  TenantName: z.string().optional(),
});

const CreateConfigurationSetSchema = z.looseObject({ ConfigurationSetName: z.string().min(1) });
const EventDestinationBodySchema = z.object({
  EventDestinationName: z.string().min(1).optional(),
  EventDestination: EventDestinationSchema,
});
const SendingOptionsSchema = z.object({ SendingEnabled: z.boolean().optional() });
const TenantNameSchema = z.object({ TenantName: z.string().min(1) });
const CreateTenantSchema = z.object({
  TenantName: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'TenantName: 1-64 letters, digits, _ or -'),
  Tags: z.array(z.object({ Key: z.string(), Value: z.string() })).optional(),
  SuppressionAttributes: z
    .object({ SuppressedReasons: z.array(z.string()).optional(), SuppressionScope: z.string().optional() })
    .optional(),
});
const ListSchema = z.object({
  Filter: z.record(z.string(), z.string()).optional(),
  NextToken: z.string().optional(),
  PageSize: z.number().int().positive().optional(),
});
const TenantResourceSchema = z.object({ TenantName: z.string(), ResourceArn: z.string() });
const ListTenantResourcesSchema = ListSchema.extend({ TenantName: z.string() });
const CustomerStatusSchema = z.object({ SendingStatus: z.string() });
const ListResourceTenantsSchema = ListSchema.extend({ ResourceArn: z.string() });
const TenantSuppressionSchema = z.object({
  TenantName: z.string(),
  SuppressedReasons: z.array(z.string()).optional(),
  SuppressionScope: z.string().optional(),
});
const PolicySchema = z.object({ ReputationEntityPolicy: z.string() });
const CreateIdentitySchema = z.looseObject({ EmailIdentity: z.string().min(1) });
const MailFromSchema = z.object({
  MailFromDomain: z.string().optional(),
  BehaviorOnMxFailure: z.enum(['USE_DEFAULT_VALUE', 'REJECT_MESSAGE']).optional(),
});
const PutSuppressedSchema = z.object({
  EmailAddress: z.string().min(1),
  Reason: z.enum(['BOUNCE', 'COMPLAINT']),
  TenantName: z.string().optional(),
});

type Json = Record<string, unknown>;
interface RequestContext {
  params: string[];
  query: URLSearchParams;
  body: unknown;
  sourceIp: string;
  callerIdentity: string;
}
type Handler = (sim: SesSimulator, ctx: RequestContext) => Json | Promise<Json>;

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new SesApiError('BadRequestException', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}

/**
 * One page of a list as SESv2 answers it: the page's items under `key`, and `NextToken` (an opaque offset) while
 * more follow.
 */
function page<T>(
  key: string,
  items: T[],
  pageSize: number | undefined,
  token: string | null | undefined,
): Record<string, unknown> {
  const start = token ? Number.parseInt(Buffer.from(token, 'base64url').toString(), 10) || 0 : 0;
  const size = pageSize ?? 1000;
  const nextStart = start + size;
  return {
    [key]: items.slice(start, nextStart),
    ...(nextStart < items.length ? { NextToken: Buffer.from(String(nextStart)).toString('base64url') } : {}),
  };
}

function recipients(d: z.infer<typeof DestinationSchema>) {
  return { to: d?.ToAddresses ?? [], cc: d?.CcAddresses ?? [], bcc: d?.BccAddresses ?? [] };
}

/**
 * The EICAR anti-virus test string: a raw message carrying it is rejected as SES rejects a virus. Assembled from
 * parts so that this source file itself never looks like the test file to a virus scanner.
 */
export const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR', '-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');

/** From, To and Subject of a raw MIME message (SendEmail Content.Raw), for when the request names none. */
function rawHeaders(base64: string): { from?: string; to: string[]; subject: string } {
  const text = Buffer.from(base64, 'base64').toString('utf8');
  const head = text.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(unfolded)?.[1]?.trim();
  const to = header('To');
  return {
    from: header('From'),
    to: to ? to.split(',').map((a) => (/<([^>]+)>/.exec(a)?.[1] ?? a).trim()) : [],
    subject: header('Subject') ?? '',
  };
}

const ROUTES: [string, RegExp, Handler][] = [
  // Not an SES API: the simulator's own counters, for health checks and the start banner.
  ['GET', /^\/_sesflow\/stats$/, (sim) => ({ ...sim.stats, pendingEvents: sim.pendingEvents })],
  // Not an SES API: the messages accepted lately with the headers they carry (tests, and a look at what went out).
  [
    'GET',
    /^\/_sesflow\/messages$/,
    (sim) => ({ Messages: sim.acceptedMessages().map((m) => ({ ...m, sentAt: new Date(m.sentAt).toISOString() })) }),
  ],
  ['GET', /^\/v2\/email\/account$/, (sim) => sim.getAccount()],
  [
    'POST',
    /^\/v2\/email\/identities$/,
    (sim, c) => sim.identities.create(parse(CreateIdentitySchema, c.body).EmailIdentity),
  ],
  ['GET', /^\/v2\/email\/identities\/([^/]+)$/, (sim, c) => sim.identities.view(c.params[0]!)],
  [
    'PUT',
    /^\/v2\/email\/identities\/([^/]+)\/mail-from$/,
    (sim, c) => {
      const b = parse(MailFromSchema, c.body);
      sim.identities.putMailFrom(c.params[0]!, b.MailFromDomain, b.BehaviorOnMxFailure);
      return {};
    },
  ],
  [
    'PUT',
    /^\/v2\/email\/account\/sending$/,
    (sim, c) => {
      sim.putAccountSendingAttributes(parse(SendingOptionsSchema, c.body).SendingEnabled ?? true);
      return {};
    },
  ],
  [
    'POST',
    /^\/v2\/email\/outbound-emails$/,
    (sim, c) => {
      const b = parse(SendEmailSchema, c.body);
      let { to, cc, bcc } = recipients(b.Destination);
      let from = b.FromEmailAddress;
      let subject = b.Content.Simple?.Subject?.Data ?? b.Content.Template?.TemplateContent?.Subject;
      let containsVirus = false;
      if (b.Content.Raw) {
        const raw = Buffer.from(b.Content.Raw.Data, 'base64');
        // Attachments are base64 inside the MIME text: look for the string both plain and encoded.
        containsVirus = raw.includes(EICAR) || raw.includes(Buffer.from(EICAR).toString('base64').slice(0, 48));
        const headers = rawHeaders(b.Content.Raw.Data);
        from ??= headers.from;
        subject ??= headers.subject;
        if (to.length + cc.length + bcc.length === 0) to = headers.to;
      }
      subject ??= b.Content.Template?.TemplateName ?? '';
      if (!from) throw new SesApiError('BadRequestException', 'FromEmailAddress is required.');
      const msg: OutgoingMessage = {
        from,
        to,
        cc,
        bcc,
        subject,
        tags: b.EmailTags ?? [],
        configurationSetName: b.ConfigurationSetName,
        tenantName: b.TenantName,
        operation: 'SendEmail',
        sourceIp: c.sourceIp,
        callerIdentity: c.callerIdentity,
        containsVirus,
        headers: b.Content.Simple?.Headers ?? b.Content.Template?.Headers ?? [],
      };
      return { MessageId: sim.sendEmail(msg) };
    },
  ],
  [
    'POST',
    /^\/v2\/email\/outbound-bulk-emails$/,
    (sim, c) => {
      const b = parse(SendBulkEmailSchema, c.body);
      if (!b.FromEmailAddress) throw new SesApiError('BadRequestException', 'FromEmailAddress is required.');
      const template = b.DefaultContent.Template;
      const subject = template?.TemplateContent?.Subject ?? template?.TemplateName ?? '';
      const entries: OutgoingMessage[] = b.BulkEmailEntries.map((e) => {
        const tags = new Map<string, MessageTag>();
        for (const t of b.DefaultEmailTags ?? []) tags.set(t.Name, t);
        for (const t of e.ReplacementTags ?? []) tags.set(t.Name, t);
        // A replacement header replaces the default header of the same name (case-insensitive, as in mail).
        const headers = new Map<string, { Name: string; Value: string }>();
        for (const h of [...(template?.Headers ?? []), ...(e.ReplacementHeaders ?? [])])
          headers.set(h.Name.toLowerCase(), h);
        return {
          headers: [...headers.values()],
          from: b.FromEmailAddress!,
          ...recipients(e.Destination),
          subject,
          tags: [...tags.values()],
          configurationSetName: b.ConfigurationSetName,
          tenantName: b.TenantName,
          operation: 'SendBulkEmail',
          sourceIp: c.sourceIp,
          callerIdentity: c.callerIdentity,
        };
      });
      return { BulkEmailEntryResults: sim.sendBulkEmail(entries) };
    },
  ],
  [
    'POST',
    /^\/v2\/email\/configuration-sets$/,
    (sim, c) => {
      const b = parse(CreateConfigurationSetSchema, c.body);
      sim.createConfigurationSet(b.ConfigurationSetName, b);
      return {};
    },
  ],
  [
    'POST',
    /^\/v2\/email\/list-configuration-sets$/,
    (sim, c) => {
      const b = parse(ListSchema, c.body);
      return page('ConfigurationSets', sim.listConfigurationSets(), b.PageSize, b.NextToken);
    },
  ],
  [
    'GET',
    /^\/v2\/email\/configuration-sets$/,
    (sim, c) => {
      const size = c.query.get('PageSize');
      return page(
        'ConfigurationSets',
        sim.listConfigurationSets(),
        size ? Number(size) : undefined,
        c.query.get('NextToken'),
      );
    },
  ],
  ['GET', /^\/v2\/email\/configuration-sets\/([^/]+)$/, (sim, c) => sim.getConfigurationSet(c.params[0]!)],
  [
    'DELETE',
    /^\/v2\/email\/configuration-sets\/([^/]+)$/,
    (sim, c) => {
      sim.deleteConfigurationSet(c.params[0]!);
      return {};
    },
  ],
  [
    'PUT',
    /^\/v2\/email\/configuration-sets\/([^/]+)\/sending$/,
    (sim, c) => {
      sim.putConfigurationSetSendingOptions(c.params[0]!, parse(SendingOptionsSchema, c.body).SendingEnabled ?? false);
      return {};
    },
  ],
  [
    'GET',
    /^\/v2\/email\/configuration-sets\/([^/]+)\/event-destinations$/,
    (sim, c) => ({ EventDestinations: sim.getEventDestinations(c.params[0]!) }),
  ],
  [
    'POST',
    /^\/v2\/email\/configuration-sets\/([^/]+)\/event-destinations$/,
    (sim, c) => {
      const b = parse(EventDestinationBodySchema, c.body);
      if (!b.EventDestinationName) throw new SesApiError('BadRequestException', 'EventDestinationName is required.');
      sim.createEventDestination(c.params[0]!, b.EventDestinationName, b.EventDestination);
      return {};
    },
  ],
  [
    'PUT',
    /^\/v2\/email\/configuration-sets\/([^/]+)\/event-destinations\/([^/]+)$/,
    (sim, c) => {
      sim.updateEventDestination(
        c.params[0]!,
        c.params[1]!,
        parse(EventDestinationBodySchema, c.body).EventDestination,
      );
      return {};
    },
  ],
  [
    'DELETE',
    /^\/v2\/email\/configuration-sets\/([^/]+)\/event-destinations\/([^/]+)$/,
    (sim, c) => {
      sim.deleteEventDestination(c.params[0]!, c.params[1]!);
      return {};
    },
  ],
  [
    'POST',
    /^\/v2\/email\/tenants$/,
    (sim, c) => {
      const b = parse(CreateTenantSchema, c.body);
      return sim.createTenant(b.TenantName, b.Tags ?? [], b.SuppressionAttributes);
    },
  ],
  [
    'POST',
    /^\/v2\/email\/tenants\/get$/,
    (sim, c) => ({ Tenant: sim.getTenant(parse(TenantNameSchema, c.body).TenantName) }),
  ],
  [
    'POST',
    /^\/v2\/email\/tenants\/list$/,
    (sim, c) => {
      const b = parse(ListSchema, c.body);
      return page('Tenants', sim.listTenants(b.Filter), b.PageSize, b.NextToken);
    },
  ],
  [
    'POST',
    /^\/v2\/email\/tenants\/delete$/,
    (sim, c) => {
      sim.deleteTenant(parse(TenantNameSchema, c.body).TenantName);
      return {};
    },
  ],
  [
    'POST',
    /^\/v2\/email\/tenants\/resources$/,
    (sim, c) => {
      const b = parse(TenantResourceSchema, c.body);
      sim.createTenantResourceAssociation(b.TenantName, b.ResourceArn);
      return {};
    },
  ],
  [
    'POST',
    /^\/v2\/email\/tenants\/resources\/delete$/,
    (sim, c) => {
      const b = parse(TenantResourceSchema, c.body);
      sim.deleteTenantResourceAssociation(b.TenantName, b.ResourceArn);
      return {};
    },
  ],
  [
    'POST',
    /^\/v2\/email\/tenants\/resources\/list$/,
    (sim, c) => {
      const b = parse(ListTenantResourcesSchema, c.body);
      return page(
        'TenantResources',
        sim.listTenantResources(b.TenantName, b.Filter?.RESOURCE_TYPE),
        b.PageSize,
        b.NextToken,
      );
    },
  ],
  [
    'GET',
    /^\/v2\/email\/reputation\/entities\/([^/]+)\/([^/]+)$/,
    (sim, c) => ({ ReputationEntity: sim.getReputationEntity(c.params[0]!, c.params[1]!) }),
  ],
  [
    'PUT',
    /^\/v2\/email\/reputation\/entities\/([^/]+)\/([^/]+)\/customer-managed-status$/,
    (sim, c) => {
      sim.updateReputationEntityCustomerManagedStatus(c.params[1]!, parse(CustomerStatusSchema, c.body).SendingStatus);
      return {};
    },
  ],
  [
    'PUT',
    /^\/v2\/email\/reputation\/entities\/([^/]+)\/([^/]+)\/policy$/,
    (sim, c) => {
      sim.updateReputationEntityPolicy(c.params[1]!, parse(PolicySchema, c.body).ReputationEntityPolicy);
      return {};
    },
  ],
  [
    'POST',
    /^\/v2\/email\/reputation\/entities$/,
    (sim, c) => {
      const b = parse(ListSchema, c.body);
      return page('ReputationEntities', sim.listReputationEntities(b.Filter), b.PageSize, b.NextToken);
    },
  ],
  [
    'POST',
    /^\/v2\/email\/resources\/tenants\/list$/,
    (sim, c) => {
      const b = parse(ListResourceTenantsSchema, c.body);
      return page('ResourceTenants', sim.listResourceTenants(b.ResourceArn), b.PageSize, b.NextToken);
    },
  ],
  [
    'POST',
    /^\/v2\/email\/tenant\/suppression$/,
    (sim, c) => {
      const b = parse(TenantSuppressionSchema, c.body);
      sim.putTenantSuppressionAttributes(b.TenantName, b.SuppressedReasons, b.SuppressionScope);
      return {};
    },
  ],
  [
    'PUT',
    /^\/v2\/email\/configuration-sets\/([^/]+)\/suppression-options$/,
    (sim, c) => {
      sim.putConfigurationSetSuppressionOptions(c.params[0]!, parse(z.looseObject({}), c.body));
      return {};
    },
  ],
  [
    'PUT',
    /^\/v2\/email\/suppression\/addresses$/,
    (sim, c) => {
      const b = parse(PutSuppressedSchema, c.body);
      sim.putSuppressedDestination(b.EmailAddress, b.Reason, b.TenantName);
      return {};
    },
  ],
  [
    'GET',
    /^\/v2\/email\/suppression\/addresses$/,
    (sim, c) => {
      const time = (v: string | null) => {
        if (!v) return undefined;
        const n = Number(v);
        return Number.isFinite(n) ? n * 1000 : Date.parse(v);
      };
      const size = c.query.get('PageSize');
      const all = sim.listSuppressedDestinations({
        tenantName: c.query.get('TenantName') ?? undefined,
        reasons: c.query.getAll('Reason'),
        start: time(c.query.get('StartDate')),
        end: time(c.query.get('EndDate')),
      });
      return page('SuppressedDestinationSummaries', all, size ? Number(size) : undefined, c.query.get('NextToken'));
    },
  ],
  [
    'GET',
    /^\/v2\/email\/suppression\/addresses\/([^/]+)$/,
    (sim, c) => ({
      SuppressedDestination: sim.getSuppressedDestination(c.params[0]!, c.query.get('TenantName') ?? undefined),
    }),
  ],
  [
    'DELETE',
    /^\/v2\/email\/suppression\/addresses\/([^/]+)$/,
    (sim, c) => {
      sim.deleteSuppressedDestination(c.params[0]!, c.query.get('TenantName') ?? undefined);
      return {};
    },
  ],
];

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SesApiError('BadRequestException', 'The request body is not valid JSON.');
  }
}

function send(res: ServerResponse, status: number, body: Json, errorType?: string): void {
  writeAwsJson(res, 'application/json', status, body, errorType);
}

async function handle(sim: SesSimulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    for (const [m, pattern, handler] of ROUTES) {
      if (m !== method) continue;
      const match = pattern.exec(url.pathname);
      if (!match) continue;
      const body = await readBody(req);
      const auth = req.headers.authorization ?? '';
      const ctx: RequestContext = {
        params: match.slice(1).map((p) => decodeURIComponent(p)),
        query: url.searchParams,
        body,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        callerIdentity: /Credential=([^/,]+)/.exec(auth)?.[1] ?? 'local-caller',
      };
      send(res, 200, await handler(sim, ctx));
      return;
    }
    send(res, 404, { message: `The SES simulator does not implement ${method} ${url.pathname}.` }, 'NotFoundException');
  } catch (err) {
    if (err instanceof SesApiError) {
      send(res, err.status, { message: err.message }, err.code);
      return;
    }
    send(res, 500, { message: 'Internal error in the SES simulator.' }, 'InternalServiceErrorException');
  }
}

export interface SesSimulatorServerOptions extends Omit<SesSimulatorOptions, 'state' | 'onStateChange' | 'sinks'> {
  /** Port to listen on (0: a free port). */
  port?: number;
  host?: string;
  /** Keep state in `<dataDir>/ses-simulator.json` (loaded at start, saved on change). */
  dataDir?: string;
  sinks?: EventSinkResolver;
}

export interface SesSimulatorServer {
  /** `http://127.0.0.1:<port>`: pass as `endpoint` to SESv2Client. */
  endpoint: string;
  port: number;
  simulator: SesSimulator;
  server: Server;
  /**
   * Stops listening and saves the state. With `flush`, publishes the events already due first. With a data dir,
   * events not yet due are saved and rescheduled at the next start; without one they are dropped.
   */
  close(opts?: { flush?: boolean }): Promise<void>;
}

/** Starts the SES simulator on `port` (0 = free port) and resolves once it listens. */
export async function startSesSimulator(opts: SesSimulatorServerOptions = {}): Promise<SesSimulatorServer> {
  const stateFile = opts.dataDir ? join(opts.dataDir, 'ses-simulator.json') : undefined;
  const pendingFile = opts.dataDir ? join(opts.dataDir, 'ses-simulator-pending.json') : undefined;
  let saveTimer: NodeJS.Timeout | null = null;
  let simulator: SesSimulator;
  const save = () => {
    if (stateFile) saveState(stateFile, simulator.state);
  };
  simulator = new SesSimulator({
    ...opts,
    state: stateFile ? loadState(stateFile) : undefined,
    onStateChange: () => {
      if (!stateFile || saveTimer) return;
      saveTimer = setTimeout(() => {
        saveTimer = null;
        save();
      }, 200);
      saveTimer.unref();
    },
  });
  if (pendingFile) simulator.importPending(loadPendingEvents<PendingEvent>(pendingFile));
  const server = createServer((req, res) => {
    void handle(simulator, req, res);
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    simulator,
    server,
    async close(closeOpts = {}) {
      if (closeOpts.flush) await simulator.flushEvents();
      // Events not yet due are saved with the state and rescheduled at the next start.
      if (pendingFile) savePendingEvents(pendingFile, simulator.exportPending());
      simulator.close();
      if (saveTimer) clearTimeout(saveTimer);
      save();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
