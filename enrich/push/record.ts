import { hash } from 'node:crypto';
import { z } from 'zod';
import type { NormalisedEvent } from '../../ingest/normalise';
import type { EventType } from '../../ingest/ses-event-schema';

/** Version of the record contract (docs/reporting-api.openapi.yaml); bumped on any incompatible change. */
export const RECORD_SCHEMA_VERSION = 1 as const;

export const DELIVERY_STATUSES = [
  'sent',
  'delivered',
  'opened',
  'clicked',
  'rejected',
  'bounced',
  'complained',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * Status precedence: a record's status is the highest-ranked status any of its events gives, whatever order the
 * events came in. SES publishes events of one message from several systems, and they arrive out of order (a complaint
 * can come before the delivery or the open it follows; a retried batch replays opens), so the status must be a pure
 * maximum over the events seen, never "the last event wins".
 *
 * - sent < delivered < opened < clicked: each step implies the one before (a click is an open of a delivered mail).
 * - rejected, bounced and complained are terminal: they rank above every engagement step, so a late open or click
 *   never hides them (the open or click still sets its timestamps).
 * - Among terminal ones, complained > bounced (a complaint proves the mail was delivered, so it outranks a soft bounce
 *   SES reported earlier) > rejected (SES refused the message before sending; nothing can follow it).
 */
export const STATUS_PRECEDENCE: Readonly<Record<DeliveryStatus, { rank: number; terminal: boolean }>> = {
  sent: { rank: 10, terminal: false },
  delivered: { rank: 20, terminal: false },
  opened: { rank: 30, terminal: false },
  clicked: { rank: 40, terminal: false },
  rejected: { rank: 50, terminal: true },
  bounced: { rank: 60, terminal: true },
  complained: { rank: 70, terminal: true },
};

/**
 * The status each event type gives. A delivery delay says SES sent the mail and is still trying (it sets `delayed_at`,
 * the status stays at least `sent`); a rendering failure is, for the recipient, a message SES never sent (`rejected`).
 * Subscription events are about contact lists, not about a delivery: they make no record.
 */
export const STATUS_OF_EVENT: Readonly<Record<EventType, DeliveryStatus | null>> = {
  send: 'sent',
  delivery_delay: 'sent',
  delivery: 'delivered',
  open: 'opened',
  click: 'clicked',
  reject: 'rejected',
  rendering_failure: 'rejected',
  bounce: 'bounced',
  complaint: 'complained',
  subscription: null,
};

/** The bounce a record reports: the most severe one (Permanent, then Transient, then Undetermined), then the earliest. */
export interface BounceDetail {
  type: string | null;
  subtype: string | null;
  smtp_status: string | null;
  diagnostic_code: string | null;
  at: number;
}

/** The complaint a record reports: the earliest one. */
export interface ComplaintDetail {
  feedback_type: string | null;
  subtype: string | null;
  at: number;
}

/**
 * One delivery record: one per message and recipient, built by merging the message's normalised events (times are
 * epoch milliseconds, UTC). `event_ids` are the distinct events merged so far, sorted; their number is the record's
 * revision, which only grows, so the receiving side can drop a stale copy that arrives after a newer one.
 */
export interface DeliveryRecord {
  schema_version: typeof RECORD_SCHEMA_VERSION;
  record_id: string;
  message_id: string;
  /** Null for opens and clicks of a message with several recipients: SES does not say which recipient it was. */
  recipient: string | null;
  recipient_domain: string | null;
  tenant_id: string;
  campaign_id: string | null;
  message_kind: string | null;
  configuration_set: string | null;
  from_domain: string | null;
  status: DeliveryStatus;
  sent_at: number | null;
  delayed_at: number | null;
  delivered_at: number | null;
  first_opened_at: number | null;
  last_opened_at: number | null;
  /** First open not classified as a machine open (mail privacy proxies, scanners). */
  first_human_opened_at: number | null;
  first_clicked_at: number | null;
  last_clicked_at: number | null;
  rejected_at: number | null;
  bounced_at: number | null;
  complained_at: number | null;
  last_event_at: number;
  bounce: BounceDetail | null;
  complaint: ComplaintDetail | null;
  reject_reason: string | null;
  event_ids: string[];
}

/** The columns of a normalised event that a record is built from (the backfill reads only these from the lake). */
export type RecordEvent = Pick<
  NormalisedEvent,
  | 'event_id'
  | 'event_type'
  | 'event_time'
  | 'message_id'
  | 'tenant_id'
  | 'campaign_id'
  | 'message_kind'
  | 'configuration_set'
  | 'from_domain'
  | 'recipient'
  | 'recipient_domain'
  | 'bounce_type'
  | 'bounce_subtype'
  | 'smtp_status'
  | 'diagnostic_code'
  | 'complaint_feedback_type'
  | 'complaint_subtype'
  | 'machine_open'
>;

/** Names of the {@link RecordEvent} columns. */
export const RECORD_EVENT_COLUMNS = [
  'event_id',
  'event_type',
  'event_time',
  'message_id',
  'tenant_id',
  'campaign_id',
  'message_kind',
  'configuration_set',
  'from_domain',
  'recipient',
  'recipient_domain',
  'bounce_type',
  'bounce_subtype',
  'smtp_status',
  'diagnostic_code',
  'complaint_feedback_type',
  'complaint_subtype',
  'machine_open',
] as const satisfies readonly (keyof RecordEvent)[];

/** The stable id of a (message, recipient) record: opaque, so no address appears in keys or idempotency keys. */
export function recordIdOf(messageId: string, recipient: string | null): string {
  return hash('sha256', `${messageId}\u001f${recipient ?? ''}`, 'hex').slice(0, 32);
}

/** The revision of a record: how many distinct events it merges. */
export const revisionOf = (r: DeliveryRecord): number => r.event_ids.length;

const minTime = (a: number | null, b: number): number => (a === null || b < a ? b : a);
const maxTime = (a: number | null, b: number): number => (a === null || b > a ? b : a);

/** Attribute join: a value beats none; between two values the smaller string wins (commutative, so order-free). */
function joinValue(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return b < a ? b : a;
}

const joinTenant = (a: string, b: string): string => {
  if (a === 'unknown') return b;
  if (b === 'unknown') return a;
  return b < a ? b : a;
};

const BOUNCE_SEVERITY: Readonly<Record<string, number>> = { Permanent: 3, Transient: 2, Undetermined: 1 };

/** Total order over bounces: severity, then earlier, then content (ties are only broken to stay deterministic). */
function betterBounce(a: BounceDetail | null, b: BounceDetail): BounceDetail {
  if (a === null) return b;
  const sa = BOUNCE_SEVERITY[a.type ?? ''] ?? 0;
  const sb = BOUNCE_SEVERITY[b.type ?? ''] ?? 0;
  if (sa !== sb) return sb > sa ? b : a;
  if (a.at !== b.at) return b.at < a.at ? b : a;
  return JSON.stringify(b) < JSON.stringify(a) ? b : a;
}

function earlierComplaint(a: ComplaintDetail | null, b: ComplaintDetail): ComplaintDetail {
  if (a === null) return b;
  if (a.at !== b.at) return b.at < a.at ? b : a;
  return JSON.stringify(b) < JSON.stringify(a) ? b : a;
}

function higherStatus(a: DeliveryStatus, b: DeliveryStatus): DeliveryStatus {
  return STATUS_PRECEDENCE[b].rank > STATUS_PRECEDENCE[a].rank ? b : a;
}

/** Index where `id` belongs in the sorted list, and whether it is there already. */
function locate(ids: readonly string[], id: string): { index: number; found: boolean } {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return { index: lo, found: ids[lo] === id };
}

/** Whether an event can make or change a delivery record (subscription events cannot). */
export const isRecordEvent = (e: Pick<NormalisedEvent, 'event_type'>): boolean =>
  STATUS_OF_EVENT[e.event_type] !== null;

function emptyRecord(e: RecordEvent, status: DeliveryStatus): DeliveryRecord {
  return {
    schema_version: RECORD_SCHEMA_VERSION,
    record_id: recordIdOf(e.message_id, e.recipient),
    message_id: e.message_id,
    recipient: e.recipient,
    recipient_domain: e.recipient_domain,
    tenant_id: e.tenant_id,
    campaign_id: null,
    message_kind: null,
    configuration_set: null,
    from_domain: null,
    status,
    sent_at: null,
    delayed_at: null,
    delivered_at: null,
    first_opened_at: null,
    last_opened_at: null,
    first_human_opened_at: null,
    first_clicked_at: null,
    last_clicked_at: null,
    rejected_at: null,
    bounced_at: null,
    complained_at: null,
    last_event_at: e.event_time,
    bounce: null,
    complaint: null,
    reject_reason: null,
    event_ids: [],
  };
}

/**
 * Merges one normalised event into a record (null: no record yet) and returns the new record. Pure, and a join in
 * every field (maximum status, earliest/latest times, a total order over bounce and complaint details, a set of event
 * ids), so any order of the same events gives the same record, and merging an event twice changes nothing: the same
 * record object comes back, which is how callers see that nothing changed. Throws if the event belongs to another
 * record or makes none (a subscription event): callers filter with {@link isRecordEvent}.
 */
export function mergeEvent(record: DeliveryRecord | null, e: RecordEvent): DeliveryRecord {
  const status = STATUS_OF_EVENT[e.event_type];
  if (status === null) throw new TypeError(`a ${e.event_type} event makes no delivery record`);
  if (record !== null && (record.message_id !== e.message_id || record.recipient !== e.recipient)) {
    throw new TypeError(`event ${e.event_id} belongs to another record than ${record.record_id}`);
  }
  const base = record ?? emptyRecord(e, status);
  const at = locate(base.event_ids, e.event_id);
  if (at.found) return base;
  const r: DeliveryRecord = { ...base, event_ids: base.event_ids.slice() };
  r.event_ids.splice(at.index, 0, e.event_id);
  const t = e.event_time;
  r.status = higherStatus(r.status, status);
  r.last_event_at = maxTime(r.last_event_at, t);
  r.tenant_id = joinTenant(r.tenant_id, e.tenant_id);
  r.campaign_id = joinValue(r.campaign_id, e.campaign_id);
  r.message_kind = joinValue(r.message_kind, e.message_kind);
  r.configuration_set = joinValue(r.configuration_set, e.configuration_set);
  r.from_domain = joinValue(r.from_domain, e.from_domain);
  switch (e.event_type) {
    case 'send':
      r.sent_at = minTime(r.sent_at, t);
      break;
    case 'delivery_delay':
      r.delayed_at = minTime(r.delayed_at, t);
      break;
    case 'delivery':
      r.delivered_at = minTime(r.delivered_at, t);
      break;
    case 'open':
      r.first_opened_at = minTime(r.first_opened_at, t);
      r.last_opened_at = maxTime(r.last_opened_at, t);
      if (!e.machine_open) r.first_human_opened_at = minTime(r.first_human_opened_at, t);
      break;
    case 'click':
      r.first_clicked_at = minTime(r.first_clicked_at, t);
      r.last_clicked_at = maxTime(r.last_clicked_at, t);
      break;
    case 'reject':
    case 'rendering_failure': {
      const earlier = r.rejected_at === null || t < r.rejected_at;
      const tie = r.rejected_at === t && (e.diagnostic_code ?? '') < (r.reject_reason ?? '');
      if (earlier || tie) r.reject_reason = e.diagnostic_code;
      r.rejected_at = minTime(r.rejected_at, t);
      break;
    }
    case 'bounce':
      r.bounced_at = minTime(r.bounced_at, t);
      r.bounce = betterBounce(r.bounce, {
        type: e.bounce_type,
        subtype: e.bounce_subtype,
        smtp_status: e.smtp_status,
        diagnostic_code: e.diagnostic_code,
        at: t,
      });
      break;
    case 'complaint':
      r.complained_at = minTime(r.complained_at, t);
      r.complaint = earlierComplaint(r.complaint, {
        feedback_type: e.complaint_feedback_type,
        subtype: e.complaint_subtype,
        at: t,
      });
      break;
    case 'subscription':
      break;
  }
  return r;
}

/** Records of a set of events, by record id (subscription events are skipped). */
export function buildRecords(events: Iterable<RecordEvent>): Map<string, DeliveryRecord> {
  const out = new Map<string, DeliveryRecord>();
  for (const e of events) {
    if (!isRecordEvent(e)) continue;
    const id = recordIdOf(e.message_id, e.recipient);
    out.set(id, mergeEvent(out.get(id) ?? null, e));
  }
  return out;
}

/** When the record reached its current status: the first event of that status. */
export function statusTimeOf(r: DeliveryRecord): number {
  const byStatus: Record<DeliveryStatus, number | null> = {
    sent: r.sent_at ?? r.delayed_at,
    delivered: r.delivered_at,
    opened: r.first_opened_at,
    clicked: r.first_clicked_at,
    rejected: r.rejected_at,
    bounced: r.bounced_at,
    complained: r.complained_at,
  };
  return byStatus[r.status] ?? r.last_event_at;
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

const IsoTime = z.iso.datetime({ offset: false, precision: 3 });
const NullableIso = IsoTime.nullable();
const Text = z.string().max(2048);

/**
 * A record as the External Reporting API receives it (docs/reporting-api.openapi.yaml): ISO 8601 UTC times, the
 * revision instead of the event ids. Unknown fields are refused, so a contract change cannot pass unnoticed.
 */
export const ReportingRecordSchema = z.strictObject({
  schema_version: z.literal(RECORD_SCHEMA_VERSION),
  record_id: z.string().regex(/^[0-9a-f]{32}$/),
  revision: z.number().int().min(1),
  message_id: z.string().min(1).max(256),
  recipient: Text.nullable(),
  recipient_domain: Text.nullable(),
  tenant_id: z.string().min(1).max(256),
  campaign_id: Text.nullable(),
  message_kind: Text.nullable(),
  configuration_set: Text.nullable(),
  from_domain: Text.nullable(),
  status: z.enum(DELIVERY_STATUSES),
  status_at: IsoTime,
  sent_at: NullableIso,
  delayed_at: NullableIso,
  delivered_at: NullableIso,
  first_opened_at: NullableIso,
  last_opened_at: NullableIso,
  first_human_opened_at: NullableIso,
  first_clicked_at: NullableIso,
  last_clicked_at: NullableIso,
  rejected_at: NullableIso,
  bounced_at: NullableIso,
  complained_at: NullableIso,
  last_event_at: IsoTime,
  bounce: z
    .strictObject({
      type: Text.nullable(),
      subtype: Text.nullable(),
      smtp_status: Text.nullable(),
      diagnostic_code: Text.nullable(),
      at: IsoTime,
    })
    .nullable(),
  complaint: z.strictObject({ feedback_type: Text.nullable(), subtype: Text.nullable(), at: IsoTime }).nullable(),
  reject_reason: Text.nullable(),
});
export type ReportingRecord = z.infer<typeof ReportingRecordSchema>;

/** The External Reporting form of a record. */
export function toReportingRecord(r: DeliveryRecord): ReportingRecord {
  return {
    schema_version: r.schema_version,
    record_id: r.record_id,
    revision: revisionOf(r),
    message_id: r.message_id,
    recipient: r.recipient,
    recipient_domain: r.recipient_domain,
    tenant_id: r.tenant_id,
    campaign_id: r.campaign_id,
    message_kind: r.message_kind,
    configuration_set: r.configuration_set,
    from_domain: r.from_domain,
    status: r.status,
    status_at: iso(statusTimeOf(r))!,
    sent_at: iso(r.sent_at),
    delayed_at: iso(r.delayed_at),
    delivered_at: iso(r.delivered_at),
    first_opened_at: iso(r.first_opened_at),
    last_opened_at: iso(r.last_opened_at),
    first_human_opened_at: iso(r.first_human_opened_at),
    first_clicked_at: iso(r.first_clicked_at),
    last_clicked_at: iso(r.last_clicked_at),
    rejected_at: iso(r.rejected_at),
    bounced_at: iso(r.bounced_at),
    complained_at: iso(r.complained_at),
    last_event_at: iso(r.last_event_at)!,
    bounce: r.bounce && { ...r.bounce, at: iso(r.bounce.at)! },
    complaint: r.complaint && { ...r.complaint, at: iso(r.complaint.at)! },
    reject_reason: r.reject_reason,
  };
}
