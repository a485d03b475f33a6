import { z } from 'zod';
import type { NormalisedEvent } from '../../ingest/normalise';
import { EVENT_TYPES } from '../../ingest/ses-event-schema';
import { OpenSearchResponseError } from './errors';

/**
 * One SES event as an OpenSearch document: the normalised row (DESIGN.md "Normalised event") with `event_time` as
 * `@timestamp` (ISO 8601 UTC), `mail_time` as ISO text, and the tags also as `tag_pairs` (`key=value`).
 * The document id is the row's `event_id`, so indexing the same event again replaces it instead of adding a copy.
 */
export interface EventDocument extends Omit<NormalisedEvent, 'event_time' | 'mail_time'> {
  '@timestamp': string;
  mail_time: string | null;
  tag_pairs: string[];
}

/** `key=value` for every value of every tag, sorted (tags are JSON text: `{"key": ["value", ...]}`). */
export function tagPairs(tagsJson: string): string[] {
  let tags: unknown;
  try {
    tags = JSON.parse(tagsJson);
  } catch {
    return [];
  }
  if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) return [];
  const pairs: string[] = [];
  for (const [key, values] of Object.entries(tags as Record<string, unknown>)) {
    for (const v of Array.isArray(values) ? values : [values]) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') pairs.push(`${key}=${v}`);
    }
  }
  return pairs.sort();
}

export function toEventDocument(row: NormalisedEvent): EventDocument {
  const { event_time, mail_time, ...rest } = row;
  return {
    '@timestamp': new Date(event_time).toISOString(),
    ...rest,
    mail_time: mail_time === null ? null : new Date(mail_time).toISOString(),
    tag_pairs: tagPairs(row.tags),
  };
}

const str = z.string().nullable().default(null);
const bool = z.boolean().default(false);
const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a time');

/**
 * What the adapter reads back from `_source`. Documents written by other versions may lack optional fields (they
 * default to null / false) or carry extra ones (ignored); a document without its id, type, tenant or time is refused.
 */
export const EventDocumentSchema = z.object({
  '@timestamp': isoTime,
  event_id: z.string().min(1),
  event_type: z.enum(EVENT_TYPES),
  mail_time: isoTime.nullable().default(null),
  message_id: z.string(),
  tenant_id: z.string().min(1),
  tenant_source: z.enum(['tag', 'ses-tenant-name', 'configuration-set', 'unknown']).default('unknown'),
  record_form: z.enum(['event', 'notification']).default('event'),
  configuration_set: str,
  campaign_id: str,
  message_kind: str,
  sending_account_id: str,
  from_domain: str,
  subject: str,
  recipient: str,
  recipient_domain: str,
  is_simulator: bool,
  bounce_type: str,
  bounce_subtype: str,
  smtp_status: str,
  diagnostic_code: str,
  feedback_id: str,
  complaint_feedback_type: str,
  complaint_subtype: str,
  delay_type: str,
  link: str,
  user_agent: str,
  ip: str,
  processing_time_ms: z.number().nullable().default(null),
  machine_open: bool,
  counts_toward_bounce_rate: bool,
  counts_toward_complaint_rate: bool,
  tags: z.string().default('{}'),
  detail: str,
});

/** A document read back as a normalised row (times in epoch milliseconds again). */
export function fromEventDocument(source: unknown): NormalisedEvent {
  const parsed = EventDocumentSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OpenSearchResponseError(
      `search hit is not an event document: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? 'invalid'}`,
    );
  }
  const { '@timestamp': ts, mail_time, ...rest } = parsed.data;
  return {
    ...rest,
    event_time: Date.parse(ts),
    mail_time: mail_time === null ? null : Date.parse(mail_time),
  };
}
