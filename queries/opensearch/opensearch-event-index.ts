import type { Client } from '@opensearch-project/opensearch';
import { z } from 'zod';
import type { NormalisedEvent } from '../../ingest/normalise';
import { EVENT_TYPES, type EventType } from '../../ingest/ses-event-schema';
import { describeError } from '../../lib/errors';
import { sleep } from '../../lib/retry';
import { OpenSearchInputError, OpenSearchRequestError, OpenSearchResponseError } from './errors';
import { fromEventDocument, toEventDocument } from './event-document';
import { DEFAULT_EVENTS_INDEX, eventsIndexTemplate } from './index-template';

/**
 * How documents get their `_id`:
 * - `event-id` (default): `_id` = `event_id`, so a re-sent event replaces itself (needs a SEARCH collection: TIMESERIES
 *   collections refuse custom ids, aws-facts §7);
 * - `server`: OpenSearch picks the id (TIMESERIES collections); re-sends then add copies, so deduplicate upstream.
 */
export type DocumentIds = 'event-id' | 'server';

export interface OpenSearchEventIndexOptions {
  client: Client;
  /** Index written and searched (default `sesflow-events`); the template is named after it and matches `<index>*`. */
  index?: string;
  documentIds?: DocumentIds;
  /** Documents per bulk request (default 1,000). */
  maxBulkDocuments?: number;
  /** Bytes of NDJSON per bulk request (default 5 MB). */
  maxBulkBytes?: number;
  /** Attempts for items OpenSearch answered 429 or 5xx (default 3, so up to 2 retries of only those items). */
  maxAttempts?: number;
  /** Wait before retry `attempt` (1-based); default 200 ms x 2^(attempt-1). Tests pass a no-op. */
  sleep?: (attempt: number) => Promise<void>;
  /** `refresh` on bulk requests (OpenSearch; Serverless refreshes on its own and ignores it). Default: not sent. */
  refresh?: boolean | 'wait_for';
}

/** One document OpenSearch did not index, as its bulk response reported it. */
export interface BulkItemFailure {
  eventId: string;
  status: number;
  /** OpenSearch's error type, e.g. `mapper_parsing_exception`. */
  type: string;
  /** OpenSearch's one-line reason (it never contains the document). */
  reason: string;
  /** 429 / 5xx: worth retrying later; other statuses will fail again. */
  retryable: boolean;
}

export interface BulkOutcome {
  /** Events given (after dropping repeated event ids within the call). */
  submitted: number;
  /** Newly created documents. */
  created: number;
  /** Documents that already existed under the same id and were replaced (a re-send). */
  updated: number;
  failed: BulkItemFailure[];
  /** Bulk requests sent, retries included. */
  requests: number;
}

export interface RecentEventsQuery {
  /** Required: the adapter always filters by tenant; a caller cannot search across tenants by leaving it out. */
  tenantId: string;
  /** Hits per page, 1-500 (default 50). */
  size?: number;
  eventTypes?: readonly EventType[];
  messageId?: string;
  recipient?: string;
  /** Event time from (inclusive) / to (exclusive), ISO 8601. */
  from?: string;
  to?: string;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface RecentEventsPage {
  /** Newest first (event time, then event id). */
  events: NormalisedEvent[];
  /** Pass as `cursor` for the next page; null when this page was the last. */
  nextCursor: string | null;
}

const RETRYABLE = (status: number) => status === 429 || status >= 500;

const BulkItemSchema = z.object({
  _id: z.string().nullish(),
  status: z.number(),
  result: z.string().optional(),
  error: z.object({ type: z.string().optional(), reason: z.string().nullish() }).passthrough().optional(),
});
const BulkResponseSchema = z.object({
  errors: z.boolean(),
  items: z.array(z.record(z.string(), BulkItemSchema)),
});

const SearchResponseSchema = z.object({
  hits: z.object({
    hits: z.array(
      z.object({ _id: z.string().optional(), _source: z.unknown(), sort: z.array(z.unknown()).optional() }),
    ),
  }),
});

const CursorSchema = z.tuple([z.union([z.number(), z.string()]), z.string()]);

/** The one-line message of a failed request: status, OpenSearch's error type and reason, never the body. */
function requestError(what: string, err: unknown): OpenSearchRequestError {
  const e = err as { meta?: { statusCode?: number; body?: unknown }; name?: string };
  const status = typeof e?.meta?.statusCode === 'number' ? e.meta.statusCode : null;
  const body = e?.meta?.body as { error?: { type?: string; reason?: string } | string; message?: string } | undefined;
  let detail: string;
  if (body && typeof body === 'object' && body.error && typeof body.error === 'object') {
    detail = [body.error.type, body.error.reason].filter(Boolean).join(': ');
  } else if (body && typeof body === 'object' && typeof body.error === 'string') {
    detail = body.error;
  } else if (body && typeof body === 'object' && typeof body.message === 'string') {
    detail = body.message;
  } else {
    detail = describeError(err);
  }
  const line = detail.split('\n')[0]!.slice(0, 300);
  return new OpenSearchRequestError(
    `OpenSearch ${what} failed${status === null ? '' : ` (${status})`}: ${line}`,
    status,
    { cause: err },
  );
}

/**
 * SES events in OpenSearch (recent-event search, message lookup, ops dashboards): puts the index template, bulk
 * indexes normalised rows (idempotent by event id), and searches a tenant's recent events.
 */
export class OpenSearchEventIndex {
  readonly index: string;
  private readonly client: Client;
  private readonly documentIds: DocumentIds;
  private readonly maxDocs: number;
  private readonly maxBytes: number;
  private readonly maxAttempts: number;
  private readonly sleep: (attempt: number) => Promise<void>;
  private readonly refresh: boolean | 'wait_for' | undefined;

  constructor(opts: OpenSearchEventIndexOptions) {
    this.client = opts.client;
    this.index = opts.index ?? DEFAULT_EVENTS_INDEX;
    if (!/^(?![_-])[a-z][a-z0-9_-]*$/.test(this.index) || this.index.length > 80) {
      throw new OpenSearchInputError(`not a valid index name: ${this.index.slice(0, 90)}`);
    }
    this.documentIds = opts.documentIds ?? 'event-id';
    this.maxDocs = opts.maxBulkDocuments ?? 1_000;
    this.maxBytes = opts.maxBulkBytes ?? 5 * 1024 * 1024;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 3);
    this.sleep = opts.sleep ?? ((attempt) => sleep(200 * 2 ** (attempt - 1)));
    this.refresh = opts.refresh;
  }

  /** Name of the index template (the index name). */
  get templateName(): string {
    return this.index;
  }

  /**
   * Creates or replaces the index template. Run it before the first write: an index created without it (by Firehose
   * or a first bulk) gets dynamic mappings, and `tenant_id` as text would make the tenant filter unreliable.
   */
  async putTemplate(): Promise<void> {
    try {
      await this.client.indices.putIndexTemplate({
        name: this.templateName,
        body: eventsIndexTemplate(this.index) as never,
      });
    } catch (err) {
      throw requestError(`PUT _index_template/${this.templateName}`, err);
    }
  }

  /**
   * Indexes rows in bulk requests of bounded size. Items OpenSearch answers 429 or 5xx are retried (only those);
   * every other per-item error is reported in `failed` with its status, type and reason, never dropped silently.
   * A request that fails as a whole (auth, network) throws {@link OpenSearchRequestError}.
   */
  async indexEvents(rows: readonly NormalisedEvent[]): Promise<BulkOutcome> {
    const unique = new Map<string, NormalisedEvent>();
    for (const row of rows) if (!unique.has(row.event_id)) unique.set(row.event_id, row);
    const outcome: BulkOutcome = { submitted: unique.size, created: 0, updated: 0, failed: [], requests: 0 };
    for (const batch of this.batches([...unique.values()])) {
      let pending = batch;
      for (let attempt = 1; pending.length > 0; attempt++) {
        const failures = await this.sendBulk(pending, outcome);
        const retry = failures.filter((f) => f.failure.retryable);
        if (attempt >= this.maxAttempts || retry.length === 0) {
          outcome.failed.push(...failures.map((f) => f.failure));
          break;
        }
        outcome.failed.push(...failures.filter((f) => !f.failure.retryable).map((f) => f.failure));
        await this.sleep(attempt);
        pending = retry.map((f) => f.row);
      }
    }
    return outcome;
  }

  /** NDJSON lines of one bulk request: an action line and a document line per row. */
  bulkBody(rows: readonly NormalisedEvent[]): Record<string, unknown>[] {
    const body: Record<string, unknown>[] = [];
    for (const row of rows) {
      body.push({ index: this.documentIds === 'event-id' ? { _id: row.event_id } : {} });
      body.push(toEventDocument(row) as unknown as Record<string, unknown>);
    }
    return body;
  }

  private *batches(rows: readonly NormalisedEvent[]): Generator<NormalisedEvent[]> {
    let batch: NormalisedEvent[] = [];
    let bytes = 0;
    for (const row of rows) {
      const size = Buffer.byteLength(JSON.stringify(toEventDocument(row))) + row.event_id.length + 32;
      if (batch.length > 0 && (batch.length >= this.maxDocs || bytes + size > this.maxBytes)) {
        yield batch;
        batch = [];
        bytes = 0;
      }
      batch.push(row);
      bytes += size;
    }
    if (batch.length > 0) yield batch;
  }

  private async sendBulk(
    rows: readonly NormalisedEvent[],
    outcome: BulkOutcome,
  ): Promise<{ row: NormalisedEvent; failure: BulkItemFailure }[]> {
    outcome.requests++;
    let body: unknown;
    try {
      const res = await this.client.bulk({
        index: this.index,
        body: this.bulkBody(rows),
        ...(this.refresh === undefined ? {} : { refresh: this.refresh }),
      });
      body = res.body;
    } catch (err) {
      throw requestError(`bulk index of ${rows.length} events into ${this.index}`, err);
    }
    const parsed = BulkResponseSchema.safeParse(body);
    if (!parsed.success) throw new OpenSearchResponseError(`bulk response is not OpenSearch's bulk shape`);
    if (parsed.data.items.length !== rows.length) {
      throw new OpenSearchResponseError(
        `bulk response has ${parsed.data.items.length} items for ${rows.length} documents`,
      );
    }
    const failures: { row: NormalisedEvent; failure: BulkItemFailure }[] = [];
    parsed.data.items.forEach((entry, i) => {
      const item = Object.values(entry)[0];
      const row = rows[i]!;
      if (!item) throw new OpenSearchResponseError(`bulk response item ${i} is empty`);
      if (item.status >= 200 && item.status < 300 && !item.error) {
        if (item.result === 'updated' || item.status === 200) outcome.updated++;
        else outcome.created++;
        return;
      }
      failures.push({
        row,
        failure: {
          eventId: row.event_id,
          status: item.status,
          type: item.error?.type ?? 'unknown',
          reason: (item.error?.reason ?? `status ${item.status}`).split('\n')[0]!.slice(0, 300),
          retryable: RETRYABLE(item.status),
        },
      });
    });
    return failures;
  }

  /** The search request body for a tenant's recent events (the tenant filter is always the first clause). */
  recentEventsBody(q: RecentEventsQuery): Record<string, unknown> {
    const tenantId = q.tenantId?.trim();
    if (!tenantId) throw new OpenSearchInputError('a tenant is required to search events');
    const size = q.size ?? 50;
    if (!Number.isInteger(size) || size < 1 || size > 500) {
      throw new OpenSearchInputError('size must be a whole number from 1 to 500');
    }
    const filter: Record<string, unknown>[] = [{ term: { tenant_id: tenantId } }];
    if (q.eventTypes?.length) {
      const bad = q.eventTypes.find((t) => !(EVENT_TYPES as readonly string[]).includes(t));
      if (bad !== undefined) throw new OpenSearchInputError(`unknown event type: ${String(bad).slice(0, 40)}`);
      filter.push({ terms: { event_type: [...q.eventTypes] } });
    }
    if (q.messageId) filter.push({ term: { message_id: q.messageId } });
    if (q.recipient) filter.push({ term: { recipient: q.recipient.trim().toLowerCase() } });
    const range: Record<string, string> = {};
    for (const [key, op] of [
      ['from', 'gte'],
      ['to', 'lt'],
    ] as const) {
      const v = q[key];
      if (v === undefined) continue;
      const t = Date.parse(v);
      if (Number.isNaN(t)) throw new OpenSearchInputError(`${key} is not an ISO 8601 time: ${v.slice(0, 40)}`);
      range[op] = new Date(t).toISOString();
    }
    if (Object.keys(range).length) filter.push({ range: { '@timestamp': range } });
    const body: Record<string, unknown> = {
      size,
      query: { bool: { filter } },
      sort: [{ '@timestamp': { order: 'desc' } }, { event_id: { order: 'asc' } }],
      track_total_hits: false,
    };
    if (q.cursor) body.search_after = decodeCursor(q.cursor);
    return body;
  }

  /**
   * A tenant's recent events, newest first, one page at a time. Every hit is checked to belong to the tenant: a
   * mismatch means the index was created without the template (tenant_id analysed as text) and is an error,
   * never another tenant's rows in the answer.
   */
  async searchRecentEvents(q: RecentEventsQuery): Promise<RecentEventsPage> {
    const body = this.recentEventsBody(q);
    let raw: unknown;
    try {
      raw = (await this.client.search({ index: this.index, body: body as never })).body;
    } catch (err) {
      throw requestError(`search of ${this.index}`, err);
    }
    const parsed = SearchResponseSchema.safeParse(raw);
    if (!parsed.success) throw new OpenSearchResponseError(`search response is not OpenSearch's search shape`);
    const tenantId = q.tenantId.trim();
    const events = parsed.data.hits.hits.map((hit) => {
      const row = fromEventDocument(hit._source);
      if (row.tenant_id !== tenantId) {
        throw new OpenSearchResponseError(
          `search of ${this.index} returned another tenant's event: is tenant_id mapped as keyword (put the template)?`,
        );
      }
      return row;
    });
    const hits = parsed.data.hits.hits;
    const last = hits[hits.length - 1];
    const size = body.size as number;
    const nextCursor = hits.length === size && last?.sort ? encodeCursor(last.sort) : null;
    return { events, nextCursor };
  }
}

function encodeCursor(sort: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(sort)).toString('base64url');
}

function decodeCursor(cursor: string): [number | string, string] {
  try {
    return CursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new OpenSearchInputError('cursor is not one this search returned');
  }
}
