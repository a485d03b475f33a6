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
  const entry = TYPE_TABLE[sesType.toLowerCase().replace(/[\s_-]/g, '')];
  if (!entry || (form === 'notification' && !NOTIFICATION_TYPES.has(entry.type))) {
    const field = form === 'event' ? 'eventType' : 'notificationType';
    return {
      ok: false,
      problem: { errorType: 'unknown-event-type', reason: `unknown ${field} ${JSON.stringify(sesType).slice(0, 80)}` },
    };
  }
  const obj = value as Record<string, unknown>;
  const mail = MailSchema.safeParse(obj.mail);
  if (!mail.success) {
    const reason = obj.mail === undefined ? 'missing mail object' : describeIssues(mail.error, 'mail');
    return { ok: false, problem: { errorType: 'schema-invalid', reason } };
  }
  const rawDetail = obj[entry.key];
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
