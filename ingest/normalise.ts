import { hash } from 'node:crypto';
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

const CANONICAL_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
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
  // Fast path: a bare address whose domain is already lower case (nearly every real one).
  if (!raw.includes('<') && raw === raw.trim()) {
    const at = raw.lastIndexOf('@');
    const domain = raw.slice(at + 1);
    if (at > 0 && domain === domain.toLowerCase()) return raw;
  }
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
  let text = '';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (i > 0) text += '\u001f';
    if (p !== null && p !== undefined) text += String(p);
  }
  return hash('sha256', text, 'hex').slice(0, 32);
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
  const mailTime = mail.timestamp === timeString ? eventTime : parseSesTime(mail.timestamp);
  const { tenant, source } = resolveTenant(tags, options.configSetTenants);
  const fromTag = firstTag(tags, 'ses:from-domain');
  const fromDomain = fromTag ? fromTag.toLowerCase() : domainOf(normaliseAddress(mail.source));
  const tagsJson = JSON.stringify(tags);
  const t = typeDetail(ev);
  const machine =
    ev.type === 'open' || ev.type === 'click' ? classifyMachineOpen(t.user_agent, eventTime, mailTime) !== null : false;
  let recipients = recipientsOf(ev);
  if (recipients.length === 0) recipients = [{ address: null }];
  // The id uses the canonical ISO form of the time; SES's own strings are usually already canonical.
  const eventIso = timeString && CANONICAL_ISO.test(timeString) ? timeString : new Date(eventTime).toISOString();
  const rows: NormalisedEvent[] = new Array(recipients.length);
  for (let i = 0; i < recipients.length; i++) {
    const r = recipients[i]!;
    const recipientDomain = domainOf(r.address);
    const isSimulator = recipientDomain === SIMULATOR_DOMAIN;
    // One object literal in column order: every row has the same shape, which keeps the hot path monomorphic.
    rows[i] = {
      event_id: computeEventId([mail.messageId, ev.type, r.address, eventIso, t.feedback_id, ...t.idExtra]),
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
      from_domain: fromDomain,
      subject: blank(mail.commonHeaders?.subject),
      recipient: r.address,
      recipient_domain: recipientDomain,
      is_simulator: isSimulator,
      bounce_type: t.bounce_type,
      bounce_subtype: t.bounce_subtype,
      smtp_status: blank(r.status),
      diagnostic_code: blank(r.diagnosticCode) ?? t.diagnostic_code,
      feedback_id: t.feedback_id,
      complaint_feedback_type: t.complaint_feedback_type,
      complaint_subtype: t.complaint_subtype,
      delay_type: t.delay_type,
      link: t.link,
      user_agent: t.user_agent,
      ip: t.ip,
      processing_time_ms: t.processing_time_ms,
      machine_open: machine,
      counts_toward_bounce_rate:
        ev.type === 'bounce' &&
        t.bounce_type === 'Permanent' &&
        !NEVER_SENT_BOUNCE_SUBTYPES.has(t.bounce_subtype ?? '') &&
        !isSimulator,
      counts_toward_complaint_rate:
        ev.type === 'complaint' &&
        t.complaint_subtype === null &&
        t.complaint_feedback_type !== 'not-spam' &&
        !isSimulator,
      tags: tagsJson,
      detail: t.detail,
    };
  }
  return rows;
}

/** The type-specific columns of an event, and the extra parts of its id (opens and clicks). */
function typeDetail(ev: SesEvent): TypeDetail & { idExtra: (string | null | undefined)[] } {
  const d: TypeDetail & { idExtra: (string | null | undefined)[] } = {
    bounce_type: null,
    bounce_subtype: null,
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
    idExtra: [],
  };
  switch (ev.type) {
    case 'bounce':
      d.bounce_type = blank(ev.detail.bounceType);
      d.bounce_subtype = blank(ev.detail.bounceSubType);
      d.feedback_id = blank(ev.detail.feedbackId);
      break;
    case 'complaint':
      d.feedback_id = blank(ev.detail.feedbackId);
      d.complaint_feedback_type = blank(ev.detail.complaintFeedbackType);
      // Real records carry "" for "not set"; only a real value means a suppression-list complaint.
      d.complaint_subtype = blank(ev.detail.complaintSubType);
      d.user_agent = blank(ev.detail.userAgent);
      break;
    case 'delivery':
      d.processing_time_ms = ev.detail.processingTimeMillis;
      d.diagnostic_code = blank(ev.detail.smtpResponse);
      break;
    case 'delivery_delay':
      d.delay_type = blank(ev.detail.delayType);
      d.detail = ev.detail.expirationTime ? JSON.stringify({ expirationTime: ev.detail.expirationTime }) : null;
      break;
    case 'open':
      d.user_agent = blank(ev.detail.userAgent);
      d.ip = blank(ev.detail.ipAddress);
      d.idExtra = [ev.detail.ipAddress, ev.detail.userAgent];
      break;
    case 'click':
      d.user_agent = blank(ev.detail.userAgent);
      d.ip = blank(ev.detail.ipAddress);
      d.link = blank(ev.detail.link);
      d.detail = ev.detail.linkTags ? JSON.stringify({ linkTags: ev.detail.linkTags }) : null;
      d.idExtra = [ev.detail.ipAddress, ev.detail.userAgent, ev.detail.link];
      break;
    case 'reject':
      d.diagnostic_code = blank(ev.detail.reason);
      break;
    case 'rendering_failure':
      d.diagnostic_code = blank(ev.detail.errorMessage);
      d.detail = JSON.stringify({ templateName: ev.detail.templateName ?? null });
      break;
    case 'subscription':
      d.detail = JSON.stringify({
        contactList: ev.detail.contactList ?? null,
        source: ev.detail.source ?? null,
        newTopicPreferences: ev.detail.newTopicPreferences ?? null,
        oldTopicPreferences: ev.detail.oldTopicPreferences ?? null,
      });
      break;
    case 'send':
      break;
  }
  return d;
}
