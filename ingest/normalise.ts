import { createHash } from 'node:crypto';
import { classifyMachineOpen } from './machine-open';
import type { EventType, RecordForm, SesEvent, SesMail } from './ses-event-schema';

/** How a row's tenant was found (DESIGN.md "Tenant" rule), so `unknown` rows can be explained. */
export type TenantSource = 'tag' | 'ses-tenant-name' | 'configuration-set' | 'unknown';

/**
 * One normalised row: one SES event for one recipient (DESIGN.md "Normalised event").
 * Times are epoch milliseconds, UTC. `tags` and `detail` are JSON text.
 */
export interface NormalisedEvent {
  event_id: string;
  event_type: EventType;
  event_time: number;
  mail_time: number | null;
  message_id: string;
  tenant_id: string;
  tenant_source: TenantSource;
  record_form: RecordForm;
  configuration_set: string | null;
  campaign_id: string | null;
  message_kind: string | null;
  sending_account_id: string | null;
  from_domain: string | null;
  subject: string | null;
  recipient: string | null;
  recipient_domain: string | null;
  is_simulator: boolean;
  bounce_type: string | null;
  bounce_subtype: string | null;
  smtp_status: string | null;
  diagnostic_code: string | null;
  feedback_id: string | null;
  complaint_feedback_type: string | null;
  complaint_subtype: string | null;
  delay_type: string | null;
  link: string | null;
  user_agent: string | null;
  ip: string | null;
  processing_time_ms: number | null;
  machine_open: boolean;
  counts_toward_bounce_rate: boolean;
  counts_toward_complaint_rate: boolean;
  tags: string;
  detail: string | null;
}

/** Column order of the lake and of every export. */
export const NORMALISED_COLUMNS = [
  'event_id',
  'event_type',
  'event_time',
  'mail_time',
  'message_id',
  'tenant_id',
  'tenant_source',
  'record_form',
  'configuration_set',
  'campaign_id',
  'message_kind',
  'sending_account_id',
  'from_domain',
  'subject',
  'recipient',
  'recipient_domain',
  'is_simulator',
  'bounce_type',
  'bounce_subtype',
  'smtp_status',
  'diagnostic_code',
  'feedback_id',
  'complaint_feedback_type',
  'complaint_subtype',
  'delay_type',
  'link',
  'user_agent',
  'ip',
  'processing_time_ms',
  'machine_open',
  'counts_toward_bounce_rate',
  'counts_toward_complaint_rate',
  'tags',
  'detail',
] as const satisfies readonly (keyof NormalisedEvent)[];

export interface NormaliseOptions {
  /** Configuration set name -> tenant, the last resort of tenant resolution. */
  configSetTenants?: ReadonlyMap<string, string>;
}

/** Why an event could not become rows (its time is unusable: rows are partitioned by event time). */
export class NormaliseProblem {
  constructor(
    readonly errorType: 'invalid-time',
    readonly reason: string,
  ) {}
}

/** Mailbox simulator traffic is shown but never counts toward reputation (aws-facts §2.7). */
export const SIMULATOR_DOMAIN = 'simulator.amazonses.com';

/** Suppression-list bounces were never sent, so they never count toward the bounce rate (aws-facts §1.3). */
const NEVER_SENT_BOUNCE_SUBTYPES: ReadonlySet<string> = new Set([
  'OnAccountSuppressionList',
  'OnTenantSuppressionList',
]);

const MIN_TIME = Date.UTC(2000, 0, 1);
const MAX_TIME = Date.UTC(2100, 0, 1);

/**
 * Parses SES timestamps, including the odd forms real records carry: ISO 8601 with `Z` or an offset, and
 * `2018-10-08T14:05:45 +0000` (space before an offset without a colon). Placeholders ("date") give null.
 */
export function parseSesTime(value: string | null | undefined): number | null {
  if (!value) return null;
  let t = Date.parse(value);
  if (Number.isNaN(t)) t = Date.parse(value.replace(/\s*([+-]\d{2}):?(\d{2})$/, '$1:$2'));
  if (Number.isNaN(t) || t < MIN_TIME || t >= MAX_TIME) return null;
  return t;
}

/** The bare address of `Name <a@b>` or `a@b`, with its domain lower-cased (local parts are case-sensitive). */
export function normaliseAddress(raw: string | null | undefined): string | null {
  if (!raw) return null;
  let s = raw.trim();
  const angle = /<([^<>]*)>\s*$/.exec(s);
  if (angle?.[1]) s = angle[1].trim();
  if (s === '') return null;
  const at = s.lastIndexOf('@');
  if (at < 0) return s;
  return `${s.slice(0, at)}@${s.slice(at + 1).toLowerCase()}`;
}

function domainOf(address: string | null): string | null {
  if (!address) return null;
  const at = address.lastIndexOf('@');
  return at < 0 ? null : address.slice(at + 1).toLowerCase() || null;
}

function firstTag(tags: Record<string, string[]>, name: string): string | null {
  const v = tags[name]?.[0]?.trim();
  return v ? v : null;
}

/** Tenant: tag `tenant`, else tag `ses:tenant-name`, else the configuration-set mapping, else `unknown`. */
export function resolveTenant(
  tags: Record<string, string[]>,
  configSetTenants: ReadonlyMap<string, string> | undefined,
): { tenant: string; source: TenantSource } {
  const tag = firstTag(tags, 'tenant');
  if (tag) return { tenant: tag, source: 'tag' };
  const sesTenant = firstTag(tags, 'ses:tenant-name');
  if (sesTenant) return { tenant: sesTenant, source: 'ses-tenant-name' };
  const cs = firstTag(tags, 'ses:configuration-set');
  const mapped = cs ? configSetTenants?.get(cs) : undefined;
  if (mapped) return { tenant: mapped, source: 'configuration-set' };
  return { tenant: 'unknown', source: 'unknown' };
}

/** Deterministic event id: the same SES event, delivered any number of times, always gets the same id. */
export function computeEventId(parts: readonly (string | number | null | undefined)[]): string {
  return createHash('sha256')
    .update(parts.map((p) => (p === null || p === undefined ? '' : String(p))).join('\u001f'))
    .digest('hex')
    .slice(0, 32);
}

interface RecipientInfo {
  address: string | null;
  status?: string | null;
  diagnosticCode?: string | null;
}

/** Which time is the event's own: the type object's timestamp, else (Send, Reject, Rendering Failure) the mail's. */
function eventTimeString(ev: SesEvent): string | null | undefined {
  switch (ev.type) {
    case 'send':
    case 'reject':
    case 'rendering_failure':
      return ev.mail.timestamp;
    default:
      return ev.detail.timestamp ?? ev.mail.timestamp;
  }
}

/** Open, click and subscription events name no recipient: it is the only destination, when there is exactly one. */
function soleDestination(mail: SesMail): RecipientInfo[] {
  const d = mail.destination ?? [];
  return [{ address: d.length === 1 ? normaliseAddress(d[0]) : null }];
}

function allDestinations(mail: SesMail): RecipientInfo[] {
  return (mail.destination ?? []).map((a) => ({ address: normaliseAddress(a) }));
}

function recipientsOf(ev: SesEvent): RecipientInfo[] {
  switch (ev.type) {
    case 'send':
    case 'reject':
    case 'rendering_failure':
      return allDestinations(ev.mail);
    case 'delivery':
      return (ev.detail.recipients ?? []).map((a) => ({ address: normaliseAddress(a) }));
    case 'bounce':
      return (ev.detail.bouncedRecipients ?? []).map((r) => ({
        address: normaliseAddress(r.emailAddress),
        status: r.status,
        diagnosticCode: r.diagnosticCode,
      }));
    case 'complaint':
      return (ev.detail.complainedRecipients ?? []).map((r) => ({ address: normaliseAddress(r.emailAddress) }));
    case 'delivery_delay':
      return (ev.detail.delayedRecipients ?? []).map((r) => ({
        address: normaliseAddress(r.emailAddress),
        status: r.status,
        diagnosticCode: r.diagnosticCode,
      }));
    case 'open':
    case 'click':
    case 'subscription':
      return soleDestination(ev.mail);
  }
}

/** The columns that depend on the event type. */
type TypeDetail = Pick<
  NormalisedEvent,
  | 'bounce_type'
  | 'bounce_subtype'
  | 'smtp_status'
  | 'diagnostic_code'
  | 'feedback_id'
  | 'complaint_feedback_type'
  | 'complaint_subtype'
  | 'delay_type'
  | 'link'
  | 'user_agent'
  | 'ip'
  | 'processing_time_ms'
  | 'detail'
>;

const blank = (s: string | null | undefined): string | null => (s === undefined || s === null || s === '' ? null : s);

/**
 * Turns one validated SES event into its normalised rows: one per recipient (one row with a null recipient when
 * the record names none, so that nothing is lost). Returns a {@link NormaliseProblem} when the event has no usable
 * time: rows are partitioned by the event's own time, never by arrival.
 */
export function normaliseEvent(ev: SesEvent, options: NormaliseOptions = {}): NormalisedEvent[] | NormaliseProblem {
  const timeString = eventTimeString(ev);
  const eventTime = parseSesTime(timeString);
  if (eventTime === null) {
    const what = timeString ? `unparseable event time ${JSON.stringify(timeString).slice(0, 60)}` : 'no event time';
    return new NormaliseProblem('invalid-time', what);
  }
  const mail = ev.mail;
  const tags = mail.tags ?? {};
  const mailTime = parseSesTime(mail.timestamp);
  const { tenant, source } = resolveTenant(tags, options.configSetTenants);
  const sourceAddress = normaliseAddress(mail.source);
  const base = {
    event_type: ev.type,
    event_time: eventTime,
    mail_time: mailTime,
    message_id: mail.messageId,
    tenant_id: tenant,
    tenant_source: source,
    record_form: ev.form,
    configuration_set: firstTag(tags, 'ses:configuration-set'),
    campaign_id: firstTag(tags, 'campaign') ?? firstTag(tags, 'campaign_id'),
    message_kind: firstTag(tags, 'message_kind'),
    sending_account_id: blank(mail.sendingAccountId),
    from_domain: firstTag(tags, 'ses:from-domain')?.toLowerCase() ?? domainOf(sourceAddress),
    subject: blank(mail.commonHeaders?.subject),
    tags: JSON.stringify(tags),
  };
  const empty: TypeDetail = {
    bounce_type: null,
    bounce_subtype: null,
    smtp_status: null,
    diagnostic_code: null,
    feedback_id: null,
    complaint_feedback_type: null,
    complaint_subtype: null,
    delay_type: null,
    link: null,
    user_agent: null,
    ip: null,
    processing_time_ms: null,
    detail: null,
  };
  let extra: Partial<TypeDetail> = {};
  let idExtra: (string | null | undefined)[] = [];
  switch (ev.type) {
    case 'bounce':
      extra = {
        bounce_type: blank(ev.detail.bounceType),
        bounce_subtype: blank(ev.detail.bounceSubType),
        feedback_id: blank(ev.detail.feedbackId),
      };
      break;
    case 'complaint':
      extra = {
        feedback_id: blank(ev.detail.feedbackId),
        complaint_feedback_type: blank(ev.detail.complaintFeedbackType),
        // Real records carry "" for "not set"; only a real value means a suppression-list complaint.
        complaint_subtype: blank(ev.detail.complaintSubType),
        user_agent: blank(ev.detail.userAgent),
      };
      break;
    case 'delivery':
      extra = { processing_time_ms: ev.detail.processingTimeMillis, diagnostic_code: blank(ev.detail.smtpResponse) };
      break;
    case 'delivery_delay':
      extra = {
        delay_type: blank(ev.detail.delayType),
        detail: ev.detail.expirationTime ? JSON.stringify({ expirationTime: ev.detail.expirationTime }) : null,
      };
      break;
    case 'open':
      extra = { user_agent: blank(ev.detail.userAgent), ip: blank(ev.detail.ipAddress) };
      idExtra = [ev.detail.ipAddress, ev.detail.userAgent];
      break;
    case 'click':
      extra = {
        user_agent: blank(ev.detail.userAgent),
        ip: blank(ev.detail.ipAddress),
        link: blank(ev.detail.link),
        detail: ev.detail.linkTags ? JSON.stringify({ linkTags: ev.detail.linkTags }) : null,
      };
      idExtra = [ev.detail.ipAddress, ev.detail.userAgent, ev.detail.link];
      break;
    case 'reject':
      extra = { diagnostic_code: blank(ev.detail.reason) };
      break;
    case 'rendering_failure':
      extra = {
        diagnostic_code: blank(ev.detail.errorMessage),
        detail: JSON.stringify({ templateName: ev.detail.templateName ?? null }),
      };
      break;
    case 'subscription':
      extra = {
        detail: JSON.stringify({
          contactList: ev.detail.contactList ?? null,
          source: ev.detail.source ?? null,
          newTopicPreferences: ev.detail.newTopicPreferences ?? null,
          oldTopicPreferences: ev.detail.oldTopicPreferences ?? null,
        }),
      };
      break;
    case 'send':
      break;
  }
  const machine =
    ev.type === 'open' || ev.type === 'click'
      ? classifyMachineOpen(extra.user_agent, eventTime, mailTime) !== null
      : false;
  let recipients = recipientsOf(ev);
  if (recipients.length === 0) recipients = [{ address: null }];
  const eventIso = new Date(eventTime).toISOString();
  return recipients.map((r) => {
    const recipientDomain = domainOf(r.address);
    const isSimulator = recipientDomain === SIMULATOR_DOMAIN;
    const row: NormalisedEvent = {
      event_id: computeEventId([mail.messageId, ev.type, r.address, eventIso, extra.feedback_id, ...idExtra]),
      ...base,
      ...empty,
      ...extra,
      smtp_status: blank(r.status),
      diagnostic_code: blank(r.diagnosticCode) ?? extra.diagnostic_code ?? null,
      recipient: r.address,
      recipient_domain: recipientDomain,
      is_simulator: isSimulator,
      machine_open: machine,
      counts_toward_bounce_rate:
        ev.type === 'bounce' &&
        extra.bounce_type === 'Permanent' &&
        !NEVER_SENT_BOUNCE_SUBTYPES.has(extra.bounce_subtype ?? '') &&
        !isSimulator,
      counts_toward_complaint_rate:
        ev.type === 'complaint' &&
        extra.complaint_subtype === null &&
        extra.complaint_feedback_type !== 'not-spam' &&
        !isSimulator,
    };
    return row;
  });
}
