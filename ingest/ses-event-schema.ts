import { z } from 'zod';

/**
 * SES event records as SES publishes them, validated at the boundary.
 *
 * Two forms exist (aws-facts §1.1): event publishing through a configuration set (`eventType`, ten types)
 * and classic identity notifications (`notificationType`, only Bounce, Complaint and Delivery). SES
 * "reserves the right to add additional fields", so every object here is loose: unknown fields pass, and
 * unknown bounce subtypes, delay types and feedback types are data, not errors.
 */

/** Canonical event types, as the normalised rows name them. */
export const EVENT_TYPES = [
  'send',
  'delivery',
  'bounce',
  'complaint',
  'open',
  'click',
  'reject',
  'rendering_failure',
  'delivery_delay',
  'subscription',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The form a record came in: event publishing (`eventType`) or a classic notification (`notificationType`). */
export type RecordForm = 'event' | 'notification';

/**
 * SES's own type strings mapped to canonical types and the key of the type-specific object.
 * SES sends `Rendering Failure` with a space, and its object key is `failure`; `DeliveryDelay` uses `deliveryDelay`.
 * Keys are lower-cased with spaces removed, because real captures also carry `send` and `open` in lower case.
 */
const TYPE_TABLE: Record<string, { type: EventType; key: string }> = {
  send: { type: 'send', key: 'send' },
  delivery: { type: 'delivery', key: 'delivery' },
  bounce: { type: 'bounce', key: 'bounce' },
  complaint: { type: 'complaint', key: 'complaint' },
  open: { type: 'open', key: 'open' },
  click: { type: 'click', key: 'click' },
  reject: { type: 'reject', key: 'reject' },
  renderingfailure: { type: 'rendering_failure', key: 'failure' },
  deliverydelay: { type: 'delivery_delay', key: 'deliveryDelay' },
  subscription: { type: 'subscription', key: 'subscription' },
};

/** The type strings SES itself writes, looked up before the lower-casing (the same entries, found without a regex). */
const SES_TYPE_NAMES: ReadonlyMap<string, { type: EventType; key: string }> = new Map(
  [
    'Send',
    'Delivery',
    'Bounce',
    'Complaint',
    'Open',
    'Click',
    'Reject',
    'Rendering Failure',
    'DeliveryDelay',
    'Subscription',
  ].map((name) => [name, TYPE_TABLE[name.toLowerCase().replace(/[\s_-]/g, '')]!]),
);

/** Classic notifications exist only for these three types (aws-facts §1.1). */
const NOTIFICATION_TYPES: ReadonlySet<EventType> = new Set(['bounce', 'complaint', 'delivery']);

const optStr = z.string().nullish();
/** Numbers that real captures sometimes carry as placeholder strings ("processing-time"): kept only when numeric. */
const looseNumber = z.unknown().transform((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));

/**
 * `mail.tags` in canonical form: every value an array of strings, even when single-valued. Real records are almost
 * always canonical already and are returned as they are (this runs for every record, so the check allocates nothing);
 * anything else is coerced to strings.
 */
function canonicalTags(tags: Record<string, unknown> | null | undefined): Record<string, string[]> {
  if (!tags) return {};
  for (const k in tags) {
    const v = tags[k];
    if (!Array.isArray(v)) return coerceTags(tags);
    for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return coerceTags(tags);
  }
  return tags as Record<string, string[]>;
}

function coerceTags(tags: Record<string, unknown>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(tags)) {
    if (Array.isArray(v)) out[k] = v.filter((x) => x !== null && x !== undefined).map(String);
    else if (v !== null && v !== undefined) out[k] = [String(v)];
  }
  return out;
}

const TagsSchema = z
  .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be an object')
  .nullish()
  .transform(canonicalTags);

export const MailSchema = z.object({
  timestamp: optStr,
  messageId: z.string({ error: 'missing mail.messageId' }).min(1, 'empty mail.messageId'),
  source: optStr,
  sourceArn: optStr,
  sendingAccountId: optStr,
  destination: z.array(z.string()).nullish(),
  headersTruncated: z.boolean().nullish(),
  commonHeaders: z
    .looseObject({
      from: z.array(z.string()).nullish(),
      to: z.array(z.string()).nullish(),
      subject: optStr,
      messageId: optStr,
    })
    .nullish(),
  tags: TagsSchema,
});
export type SesMail = z.infer<typeof MailSchema>;

const RecipientSchema = z.object({
  emailAddress: z.string(),
  action: optStr,
  status: optStr,
  diagnosticCode: optStr,
});

export const BounceSchema = z.object({
  bounceType: optStr,
  bounceSubType: optStr,
  bouncedRecipients: z.array(RecipientSchema).nullish(),
  timestamp: optStr,
  feedbackId: optStr,
  reportingMTA: optStr,
});

export const ComplaintSchema = z.object({
  complainedRecipients: z.array(z.object({ emailAddress: z.string() })).nullish(),
  timestamp: optStr,
  feedbackId: optStr,
  complaintSubType: optStr,
  userAgent: optStr,
  complaintFeedbackType: optStr,
  arrivalDate: optStr,
});

export const DeliverySchema = z.object({
  timestamp: optStr,
  processingTimeMillis: looseNumber,
  recipients: z.array(z.string()).nullish(),
  smtpResponse: optStr,
  reportingMTA: optStr,
});

export const SendSchema = z.object({}).nullish();
export const RejectSchema = z.object({ reason: optStr });
export const OpenSchema = z.object({ ipAddress: optStr, timestamp: optStr, userAgent: optStr });
export const ClickSchema = z.object({
  ipAddress: optStr,
  timestamp: optStr,
  userAgent: optStr,
  link: optStr,
  linkTags: z.record(z.string(), z.unknown()).nullish(),
});
export const RenderingFailureSchema = z.object({ templateName: optStr, errorMessage: optStr });
export const DeliveryDelaySchema = z.object({
  delayType: optStr,
  delayedRecipients: z.array(RecipientSchema).nullish(),
  expirationTime: optStr,
  reportingMTA: optStr,
  timestamp: optStr,
});
const TopicPrefsSchema = z
  .looseObject({
    unsubscribeAll: z.boolean().nullish(),
    topicSubscriptionStatus: z.array(z.object({ topicName: optStr, subscriptionStatus: optStr })).nullish(),
  })
  .nullish();
export const SubscriptionSchema = z.object({
  contactList: optStr,
  timestamp: optStr,
  source: optStr,
  newTopicPreferences: TopicPrefsSchema,
  oldTopicPreferences: TopicPrefsSchema,
});

const DETAIL_SCHEMAS = {
  send: SendSchema,
  delivery: DeliverySchema,
  bounce: BounceSchema,
  complaint: ComplaintSchema,
  open: OpenSchema,
  click: ClickSchema,
  reject: RejectSchema,
  rendering_failure: RenderingFailureSchema,
  delivery_delay: DeliveryDelaySchema,
  subscription: SubscriptionSchema,
} as const;

type Detail<T extends EventType> = z.infer<(typeof DETAIL_SCHEMAS)[T]>;

/** A validated SES record: canonical type, its form, the mail object and the type-specific object. */
export type SesEvent = {
  [T in EventType]: { type: T; form: RecordForm; sesType: string; mail: SesMail; detail: NonNullable<Detail<T>> };
}[EventType];

/** Why a record could not be accepted; `errorType` names the error prefix it lands under. */
export interface SchemaProblem {
  errorType: 'not-an-object' | 'unknown-event-type' | 'schema-invalid';
  reason: string;
}

function describeIssues(err: z.ZodError, where: string): string {
  const first = err.issues[0];
  if (!first) return `invalid ${where}`;
  const path = [where, ...first.path.map(String)].filter(Boolean).join('.');
  if (first.code === 'invalid_type' && first.input === undefined) return `missing ${path}`;
  return `${path}: ${first.message}`;
}

/*
 * The hot path: hand-written checks of exactly what the zod schemas above check, for the mail object and the common
 * event types. Each returns the value zod would return (the same fields the normaliser reads, with the same
 * transforms), or undefined when it is not sure, and then the zod schema decides and words the reason. So the fast
 * path can only accept what zod accepts; ingest/ses-event-schema.test.ts checks that both give the same result on every
 * fixture, every real-world record and their broken variants. Rendering failures and subscriptions always go through
 * zod (rare, and their detail objects are re-shaped by it).
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isOptStr = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';
function isOptStrArray(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}
/** An optional array of RecipientSchema objects (`withStatus`) or of `{emailAddress}` objects. */
function isOptRecipients(v: unknown, withStatus: boolean): boolean {
  if (v === undefined || v === null) return true;
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) {
    const r = v[i];
    if (!isObj(r) || typeof r.emailAddress !== 'string') return false;
    if (withStatus && !(isOptStr(r.action) && isOptStr(r.status) && isOptStr(r.diagnosticCode))) return false;
  }
  return true;
}

function fastMail(m: unknown): SesMail | undefined {
  if (!isObj(m)) return undefined;
  const { timestamp, messageId, source, sourceArn, sendingAccountId, destination, headersTruncated, commonHeaders } = m;
  if (typeof messageId !== 'string' || messageId.length === 0) return undefined;
  if (!(isOptStr(timestamp) && isOptStr(source) && isOptStr(sourceArn) && isOptStr(sendingAccountId))) return undefined;
  if (!isOptStrArray(destination)) return undefined;
  if (!(headersTruncated === undefined || headersTruncated === null || typeof headersTruncated === 'boolean')) {
    return undefined;
  }
  if (commonHeaders !== undefined && commonHeaders !== null) {
    if (!isObj(commonHeaders)) return undefined;
    if (!(isOptStrArray(commonHeaders.from) && isOptStrArray(commonHeaders.to))) return undefined;
    if (!(isOptStr(commonHeaders.subject) && isOptStr(commonHeaders.messageId))) return undefined;
  }
  const tags = m.tags;
  if (!(tags === undefined || tags === null || isObj(tags))) return undefined;
  return {
    timestamp: timestamp as string | null | undefined,
    messageId,
    source: source as string | null | undefined,
    sourceArn: sourceArn as string | null | undefined,
    sendingAccountId: sendingAccountId as string | null | undefined,
    destination: destination as string[] | null | undefined,
    headersTruncated: headersTruncated as boolean | null | undefined,
    commonHeaders: commonHeaders as SesMail['commonHeaders'],
    tags: canonicalTags(tags as Obj | null | undefined),
  };
}

function fastDetail(type: EventType, d: unknown): object | undefined {
  if (type === 'send') return d === undefined || d === null ? {} : isObj(d) ? d : undefined;
  if (!isObj(d)) return undefined;
  switch (type) {
    case 'delivery':
      if (!(isOptStr(d.timestamp) && isOptStr(d.smtpResponse) && isOptStr(d.reportingMTA))) return undefined;
      // zod's `unknown` still wants the key (a missing processingTimeMillis is refused).
      if (!isOptStrArray(d.recipients) || d.processingTimeMillis === undefined) return undefined;
      return {
        timestamp: d.timestamp,
        processingTimeMillis:
          typeof d.processingTimeMillis === 'number' && Number.isFinite(d.processingTimeMillis)
            ? d.processingTimeMillis
            : null,
        recipients: d.recipients,
        smtpResponse: d.smtpResponse,
        reportingMTA: d.reportingMTA,
      };
    case 'bounce':
      if (!(isOptStr(d.bounceType) && isOptStr(d.bounceSubType) && isOptStr(d.timestamp))) return undefined;
      if (!(isOptStr(d.feedbackId) && isOptStr(d.reportingMTA))) return undefined;
      return isOptRecipients(d.bouncedRecipients, true) ? d : undefined;
    case 'complaint':
      if (!(isOptStr(d.timestamp) && isOptStr(d.feedbackId) && isOptStr(d.complaintSubType))) return undefined;
      if (!(isOptStr(d.userAgent) && isOptStr(d.complaintFeedbackType) && isOptStr(d.arrivalDate))) return undefined;
      return isOptRecipients(d.complainedRecipients, false) ? d : undefined;
    case 'open':
      return isOptStr(d.ipAddress) && isOptStr(d.timestamp) && isOptStr(d.userAgent) ? d : undefined;
    case 'click': {
      if (!(isOptStr(d.ipAddress) && isOptStr(d.timestamp) && isOptStr(d.userAgent) && isOptStr(d.link))) {
        return undefined;
      }
      // zod copies the record key by key; a `__proto__` key would not survive the copy the same way.
      const lt = d.linkTags;
      if (lt === undefined || lt === null) return d;
      return isObj(lt) && !Object.hasOwn(lt, '__proto__') ? d : undefined;
    }
    case 'reject':
      return isOptStr(d.reason) ? d : undefined;
    case 'delivery_delay':
      if (!(isOptStr(d.delayType) && isOptStr(d.expirationTime) && isOptStr(d.reportingMTA))) return undefined;
      if (!isOptStr(d.timestamp)) return undefined;
      return isOptRecipients(d.delayedRecipients, true) ? d : undefined;
    default:
      return undefined;
  }
}

/** Switched off by tests to compare both paths. */
let fastPath = true;
/** Records accepted by the hand-written checks so far (tests check the fast path is really taken). */
let fastAccepted = 0;
export function fastPathAccepted(): number {
  return fastAccepted;
}
/** Runs `fn` with the hand-written checks off (zod alone), for tests that compare the two paths. */
export function withZodOnly<T>(fn: () => T): T {
  fastPath = false;
  try {
    return fn();
  } finally {
    fastPath = true;
  }
}

/**
 * Validates one parsed JSON value as an SES record. Returns the typed event, or the reason it was refused.
 * Tolerant of unknown fields, unknown subtypes and lower-case type strings; strict about what processing needs
 * (an object, a known type, a `mail` object with a `messageId`, the type's own object where it carries data).
 */
export function parseSesEvent(value: unknown): { ok: true; event: SesEvent } | { ok: false; problem: SchemaProblem } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
    return { ok: false, problem: { errorType: 'not-an-object', reason: `record is ${kind}, not a JSON object` } };
  }
  const env = value as { eventType?: unknown; notificationType?: unknown };
  const form: RecordForm = env.eventType !== undefined ? 'event' : 'notification';
  const rawType = form === 'event' ? env.eventType : env.notificationType;
  if (rawType === undefined) {
    return {
      ok: false,
      problem: { errorType: 'unknown-event-type', reason: 'record has neither eventType nor notificationType' },
    };
  }
  const sesType = String(rawType);
  const entry = SES_TYPE_NAMES.get(sesType) ?? TYPE_TABLE[sesType.toLowerCase().replace(/[\s_-]/g, '')];
  if (!entry || (form === 'notification' && !NOTIFICATION_TYPES.has(entry.type))) {
    const field = form === 'event' ? 'eventType' : 'notificationType';
    return {
      ok: false,
      problem: { errorType: 'unknown-event-type', reason: `unknown ${field} ${JSON.stringify(sesType).slice(0, 80)}` },
    };
  }
  const obj = value as Record<string, unknown>;
  const rawDetail = obj[entry.key];
  if (fastPath) {
    const fastM = fastMail(obj.mail);
    const fastD =
      fastM && (rawDetail !== undefined || entry.type === 'send') ? fastDetail(entry.type, rawDetail) : undefined;
    if (fastM && fastD) {
      fastAccepted++;
      return { ok: true, event: { type: entry.type, form, sesType, mail: fastM, detail: fastD } as SesEvent };
    }
  }
  const mail = MailSchema.safeParse(obj.mail);
  if (!mail.success) {
    const reason = obj.mail === undefined ? 'missing mail object' : describeIssues(mail.error, 'mail');
    return { ok: false, problem: { errorType: 'schema-invalid', reason } };
  }
  // A Send record's object is always `{}`; real captures sometimes omit it. Every other type needs its object.
  if ((rawDetail === undefined || rawDetail === null) && entry.type !== 'send') {
    return {
      ok: false,
      problem: { errorType: 'schema-invalid', reason: `${sesType} record has no ${entry.key} object` },
    };
  }
  const detail = DETAIL_SCHEMAS[entry.type].safeParse(rawDetail ?? {});
  if (!detail.success) {
    return { ok: false, problem: { errorType: 'schema-invalid', reason: describeIssues(detail.error, entry.key) } };
  }
  return {
    ok: true,
    event: { type: entry.type, form, sesType, mail: mail.data, detail: detail.data ?? {} } as SesEvent,
  };
}
