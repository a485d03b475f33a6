import { LAKE_COLUMN_TYPES, LAKE_COLUMNS } from '../../ingest/lake-schema';
import type { NormalisedEvent } from '../../ingest/normalise';

/** Default index (and template) name; the template matches `<index>*`, so dated or numbered indexes share it. */
export const DEFAULT_EVENTS_INDEX = 'sesflow-events';

/** Bumped whenever the mapping changes; stored in the template's `_meta` and `version`. */
export const EVENTS_TEMPLATE_VERSION = 1;

type FieldMapping = Record<string, unknown>;

/** Free text people search in (mail subjects, SMTP diagnostics, user agents), with an exact `keyword` twin for aggregations. */
const TEXT_FIELDS: Partial<Record<keyof NormalisedEvent, number>> = {
  subject: 256,
  diagnostic_code: 512,
  user_agent: 512,
};

/**
 * Stored in `_source` as JSON text but not indexed: `tags` (any key a sender chooses, so indexing it would grow the
 * mapping without bound; `tag_pairs` indexes it instead) and `detail` (the raw per-type object).
 */
const STORED_ONLY: ReadonlySet<keyof NormalisedEvent> = new Set(['tags', 'detail']);

/** Keyword fields whose values may be long: longer values are kept in `_source` but not indexed. */
const KEYWORD_LIMITS: Partial<Record<keyof NormalisedEvent, number>> = { link: 2048 };

function fieldMapping(column: keyof NormalisedEvent): FieldMapping {
  if (STORED_ONLY.has(column)) return { type: 'keyword', index: false, doc_values: false };
  const textLimit = TEXT_FIELDS[column];
  if (textLimit !== undefined) {
    return { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: textLimit } } };
  }
  switch (LAKE_COLUMN_TYPES[column]) {
    case 'timestamp':
      return { type: 'date', format: 'strict_date_optional_time||epoch_millis' };
    case 'boolean':
      return { type: 'boolean' };
    case 'bigint':
      return { type: 'long' };
    case 'string':
      return { type: 'keyword', ignore_above: KEYWORD_LIMITS[column] ?? 1024 };
  }
}

/**
 * The document fields and their mappings: every lake column (ids, tenant, type, domains as `keyword`; subjects,
 * diagnostics and user agents as `text` + `.keyword`; times as `date`), with `event_time` renamed `@timestamp`
 * (OpenSearch Dashboards' default time field, and the field a NextGen time-series collection requires), plus
 * `tag_pairs` (`key=value` keywords, one per tag value).
 */
export function eventsMappingProperties(): Record<string, FieldMapping> {
  const props: Record<string, FieldMapping> = {};
  for (const column of LAKE_COLUMNS) {
    props[column === 'event_time' ? '@timestamp' : column] = fieldMapping(column);
  }
  props.tag_pairs = { type: 'keyword', ignore_above: 512 };
  return props;
}

/** Body of `PUT _index_template/<name>`. */
export interface EventsIndexTemplate {
  index_patterns: string[];
  priority: number;
  version: number;
  _meta: Record<string, unknown>;
  template: { mappings: { dynamic: false; _meta: Record<string, unknown>; properties: Record<string, FieldMapping> } };
}

/**
 * The composable index template for SES event documents. `dynamic: false`: a field the mapping does not name is kept
 * in `_source` but never added to the mapping, so new SES fields or odd tag keys cannot explode it. No shard or
 * replica settings: OpenSearch Serverless manages those and refuses them.
 */
export function eventsIndexTemplate(index: string = DEFAULT_EVENTS_INDEX): EventsIndexTemplate {
  const meta = { managed_by: 'sesflow', template_version: EVENTS_TEMPLATE_VERSION };
  return {
    index_patterns: [`${index}*`],
    priority: 100,
    version: EVENTS_TEMPLATE_VERSION,
    _meta: meta,
    template: { mappings: { dynamic: false, _meta: meta, properties: eventsMappingProperties() } },
  };
}
