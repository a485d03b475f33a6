import { describe, expect, it } from 'vitest';
import type { NormalisedEvent } from '../../ingest/normalise';
import { testBounce, testComplaint, testMail, testOpen } from '../../ingest/test-events';
import { transformRecord } from '../../ingest/transform';
import { createOpenSearchClient, endpointAuth } from './client';
import { OpenSearchInputError, OpenSearchRequestError, OpenSearchResponseError } from './errors';
import { fromEventDocument, tagPairs, toEventDocument } from './event-document';
import { type FakeResponse, fakeConnection, type RecordedRequest } from './fake-connection';
import { eventsIndexTemplate } from './index-template';
import { OpenSearchEventIndex } from './opensearch-event-index';

const AOSS = 'https://abc123xyz.eu-west-1.aoss.amazonaws.com';
const CREDS = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' });

function rowsOf(record: Record<string, unknown>): NormalisedEvent[] {
  const r = transformRecord(JSON.stringify(record));
  if (!r.ok) throw new Error(r.reason);
  return r.rows;
}

const bounceRows = rowsOf(
  testBounce('Permanent', 'General', [
    { emailAddress: 'a@inbox.test', diagnosticCode: 'smtp; 550 5.1.1 user unknown', status: '5.1.1' },
    { emailAddress: 'b@inbox.test', diagnosticCode: 'smtp; 550 5.1.1 user unknown', status: '5.1.1' },
  ]),
);
const openRow = rowsOf(testOpen('Mozilla/5.0 (Windows NT 10.0)'))[0]!;
const complaintRow = rowsOf(testComplaint({ complaintFeedbackType: 'abuse' }))[0]!;

/** Parses an NDJSON request body. */
const ndjson = (body: string) =>
  body
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** A bulk response answering each document with the status `statusOf` gives it. */
function bulkAnswer(
  req: RecordedRequest,
  statusOf: (id: string, i: number) => number,
  errorOf: (status: number) => { type: string; reason: string } = (status) => ({
    type: status === 429 ? 'es_rejected_execution_exception' : 'mapper_parsing_exception',
    reason: status === 429 ? 'rejected execution: queue full' : 'failed to parse field [@timestamp]',
  }),
): FakeResponse {
  const lines = ndjson(req.body);
  const items = [];
  let anyError = false;
  for (let i = 0; i < lines.length; i += 2) {
    const id = ((lines[i] as { index: { _id: string } }).index._id ?? `srv-${i}`) as string;
    const status = statusOf(id, i / 2);
    if (status >= 300) anyError = true;
    items.push({
      index: {
        _index: 'sesflow-events',
        _id: id,
        status,
        ...(status < 300 ? { result: status === 201 ? 'created' : 'updated' } : { error: errorOf(status) }),
      },
    });
  }
  return { status: 200, body: { took: 3, errors: anyError, items } };
}

function adapter(
  respond: (req: RecordedRequest) => FakeResponse,
  opts: { node?: string; maxBulkDocuments?: number } = {},
) {
  const fake = fakeConnection(respond);
  const client = createOpenSearchClient({
    node: opts.node ?? AOSS,
    getCredentials: CREDS,
    connection: fake.override,
  });
  const index = new OpenSearchEventIndex({
    client,
    sleep: async () => {},
    ...(opts.maxBulkDocuments ? { maxBulkDocuments: opts.maxBulkDocuments } : {}),
  });
  return { index, requests: fake.requests };
}

describe('OpenSearch client', () => {
  it('signs requests to a Serverless collection with SigV4 for service aoss and the host region', async () => {
    const { index, requests } = adapter(() => ({ status: 200, body: { acknowledged: true } }));
    await index.putTemplate();
    const auth = requests[0]!.headers.authorization!;
    expect(auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/aoss\/aws4_request/);
    expect(requests[0]!.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('infers the auth mode and region from the endpoint', () => {
    expect(endpointAuth(AOSS)).toEqual({ auth: 'aoss', region: 'eu-west-1' });
    expect(endpointAuth('https://search-x-abc.us-east-1.es.amazonaws.com')).toEqual({
      auth: 'es',
      region: 'us-east-1',
    });
    expect(endpointAuth('http://localhost:9200')).toEqual({ auth: 'none', region: null });
    expect(() => endpointAuth('not a url')).toThrow(OpenSearchInputError);
  });

  it('does not sign requests to a plain OpenSearch endpoint', async () => {
    const { index, requests } = adapter(() => ({ status: 200, body: { acknowledged: true } }), {
      node: 'http://localhost:9200',
    });
    await index.putTemplate();
    expect(requests[0]!.headers.authorization).toBeUndefined();
  });
});

describe('index template', () => {
  it('is put under the index name and maps ids, tenant, type and domains as keyword and @timestamp as date', async () => {
    const { index, requests } = adapter(() => ({ status: 200, body: { acknowledged: true } }));
    await index.putTemplate();
    expect(requests[0]!.method).toMatch(/^(PUT|POST)$/);
    expect(requests[0]!.path).toBe('/_index_template/sesflow-events');
    const body = JSON.parse(requests[0]!.body);
    expect(body.index_patterns).toEqual(['sesflow-events*']);
    const props = body.template.mappings.properties;
    for (const f of [
      'event_id',
      'message_id',
      'tenant_id',
      'event_type',
      'recipient_domain',
      'from_domain',
      'recipient',
    ]) {
      expect(props[f].type, f).toBe('keyword');
    }
    expect(props['@timestamp'].type).toBe('date');
    expect(props.event_time).toBeUndefined();
    expect(props.subject.type).toBe('text');
    expect(props.diagnostic_code.fields.keyword.type).toBe('keyword');
    expect(props.machine_open.type).toBe('boolean');
    expect(props.processing_time_ms.type).toBe('long');
  });

  it('cannot grow with tag keys: dynamic mapping is off and tags are stored, not indexed', () => {
    const t = eventsIndexTemplate();
    expect(t.template.mappings.dynamic).toBe(false);
    expect(t.template.mappings.properties.tags).toEqual({ type: 'keyword', index: false, doc_values: false });
    expect(t.template.mappings.properties.tag_pairs?.type).toBe('keyword');
    expect(JSON.stringify(t)).not.toMatch(/number_of_shards|number_of_replicas/);
  });

  it('reports a refusal as one line with the status and OpenSearch reason', async () => {
    const { index } = adapter(() => ({
      status: 403,
      body: {
        error: { type: 'security_exception', reason: 'no permissions for [indices:admin/index_template/put]' },
        status: 403,
      },
    }));
    const err = await index.putTemplate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenSearchRequestError);
    expect((err as OpenSearchRequestError).statusCode).toBe(403);
    expect((err as Error).message).toBe(
      'OpenSearch PUT _index_template/sesflow-events failed (403): security_exception: no permissions for [indices:admin/index_template/put]',
    );
  });
});

describe('event documents', () => {
  it('carry the event time as @timestamp and the tags as key=value pairs, and read back to the same row', () => {
    const row = bounceRows[0]!;
    const doc = toEventDocument(row);
    expect(doc['@timestamp']).toBe(new Date(row.event_time).toISOString());
    expect(doc).not.toHaveProperty('event_time');
    expect(doc.tag_pairs).toContain('campaign=spring');
    expect(doc.tag_pairs).toContain('tenant=tenant-a');
    expect(fromEventDocument(JSON.parse(JSON.stringify(doc)))).toEqual(row);
  });

  it('tolerate broken or odd tag JSON', () => {
    expect(tagPairs('not json')).toEqual([]);
    expect(tagPairs('["a"]')).toEqual([]);
    expect(tagPairs('{"k": ["b", "a"], "n": 3}')).toEqual(['k=a', 'k=b', 'n=3']);
  });

  it('refuse a hit that is not an event document, naming the field', () => {
    const { tenant_id: _t, ...noTenant } = toEventDocument(openRow);
    expect(() => fromEventDocument(noTenant)).toThrow(/tenant_id/);
    expect(() => fromEventDocument({ ...toEventDocument(openRow), event_type: 'Bounce' })).toThrow(
      OpenSearchResponseError,
    );
  });
});

describe('bulk indexing', () => {
  const rows = [...bounceRows, openRow, complaintRow];

  it('sends one NDJSON bulk request with document id = event_id and counts created and replaced documents', async () => {
    const { index, requests } = adapter((req) => bulkAnswer(req, (_id, i) => (i === 0 ? 200 : 201)));
    const outcome = await index.indexEvents(rows);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.method).toMatch(/^(PUT|POST)$/);
    expect(requests[0]!.path).toBe('/sesflow-events/_bulk');
    expect(requests[0]!.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = ndjson(requests[0]!.body);
    expect(lines).toHaveLength(rows.length * 2);
    rows.forEach((row, i) => {
      expect(lines[2 * i]).toEqual({ index: { _id: row.event_id } });
      expect(lines[2 * i + 1]).toMatchObject({ event_id: row.event_id, tenant_id: row.tenant_id });
      expect(lines[2 * i + 1]!['@timestamp']).toBe(new Date(row.event_time).toISOString());
    });
    expect(outcome).toEqual({ submitted: rows.length, created: rows.length - 1, updated: 1, failed: [], requests: 1 });
  });

  it('sends an event repeated within one call once', async () => {
    const { index, requests } = adapter((req) => bulkAnswer(req, () => 201));
    const outcome = await index.indexEvents([openRow, openRow, complaintRow]);
    expect(ndjson(requests[0]!.body)).toHaveLength(4);
    expect(outcome.submitted).toBe(2);
  });

  it('reports each refused document with its status, type and reason, and keeps the others', async () => {
    const bad = rows[1]!.event_id;
    const { index } = adapter((req) => bulkAnswer(req, (id) => (id === bad ? 400 : 201)));
    const outcome = await index.indexEvents(rows);
    expect(outcome.created).toBe(rows.length - 1);
    expect(outcome.failed).toEqual([
      {
        eventId: bad,
        status: 400,
        type: 'mapper_parsing_exception',
        reason: 'failed to parse field [@timestamp]',
        retryable: false,
      },
    ]);
    expect(outcome.requests).toBe(1);
  });

  it('retries only the documents answered 429, and reports them if they keep failing', async () => {
    const throttled = rows[0]!.event_id;
    let calls = 0;
    const { index, requests } = adapter((req) => {
      calls++;
      return bulkAnswer(req, (id) => (id === throttled && calls < 3 ? 429 : 201));
    });
    const outcome = await index.indexEvents(rows);
    expect(requests).toHaveLength(3);
    expect(ndjson(requests[1]!.body)).toEqual([{ index: { _id: throttled } }, expect.any(Object)]);
    expect(outcome).toMatchObject({ created: rows.length, failed: [], requests: 3 });

    const always = adapter((req) => bulkAnswer(req, (id) => (id === throttled ? 429 : 201)));
    const gaveUp = await always.index.indexEvents(rows);
    expect(always.requests).toHaveLength(3);
    expect(gaveUp.failed).toEqual([expect.objectContaining({ eventId: throttled, status: 429, retryable: true })]);
  });

  it('splits large inputs into bounded bulk requests', async () => {
    const { index, requests } = adapter((req) => bulkAnswer(req, () => 201), { maxBulkDocuments: 2 });
    const outcome = await index.indexEvents(rows);
    expect(requests.map((r) => ndjson(r.body).length / 2)).toEqual([2, 2]);
    expect(outcome.created).toBe(4);
  });

  it('throws one line when the whole request is refused, and on a response that is not a bulk response', async () => {
    const denied = adapter(() => ({
      status: 403,
      body: { status: 403, error: { type: 'security_exception', reason: 'User does not have permissions' } },
    }));
    await expect(denied.index.indexEvents(rows)).rejects.toThrow(
      'OpenSearch bulk index of 4 events into sesflow-events failed (403): security_exception: User does not have permissions',
    );
    const odd = adapter(() => ({ status: 200, body: { acknowledged: true } }));
    await expect(odd.index.indexEvents(rows)).rejects.toThrow(OpenSearchResponseError);
    const short = adapter(() => ({ status: 200, body: { errors: false, items: [] } }));
    await expect(short.index.indexEvents(rows)).rejects.toThrow('bulk response has 0 items for 4 documents');
  });

  it('omits document ids for a time-series collection', () => {
    const client = createOpenSearchClient({ node: AOSS, getCredentials: CREDS });
    const ts = new OpenSearchEventIndex({ client, documentIds: 'server' });
    expect(ts.bulkBody([openRow])[0]).toEqual({ index: {} });
  });
});

describe('recent-event search', () => {
  const hit = (row: NormalisedEvent) => ({
    _id: row.event_id,
    _source: toEventDocument(row),
    sort: [row.event_time, row.event_id],
  });

  it('always filters by the tenant, newest first, and pages with a cursor', async () => {
    const mine = bounceRows.map((r) => ({ ...r, tenant_id: 'tenant-a' }));
    const { index, requests } = adapter(() => ({ status: 200, body: { hits: { hits: mine.map(hit) } } }));
    const page = await index.searchRecentEvents({ tenantId: 'tenant-a', size: 2, eventTypes: ['bounce'] });
    expect(requests[0]!.path).toBe('/sesflow-events/_search');
    const body = JSON.parse(requests[0]!.body);
    expect(body.query.bool.filter[0]).toEqual({ term: { tenant_id: 'tenant-a' } });
    expect(body.query.bool.filter[1]).toEqual({ terms: { event_type: ['bounce'] } });
    expect(body.sort).toEqual([{ '@timestamp': { order: 'desc' } }, { event_id: { order: 'asc' } }]);
    expect(body.size).toBe(2);
    expect(page.events).toEqual(mine);
    expect(page.nextCursor).not.toBeNull();

    await index.searchRecentEvents({ tenantId: 'tenant-a', size: 2, cursor: page.nextCursor! });
    expect(JSON.parse(requests[1]!.body).search_after).toEqual([mine[1]!.event_time, mine[1]!.event_id]);
  });

  it('has no next page when a page comes back short', async () => {
    const { index } = adapter(() => ({ status: 200, body: { hits: { hits: [hit(openRow)] } } }));
    expect((await index.searchRecentEvents({ tenantId: openRow.tenant_id })).nextCursor).toBeNull();
  });

  it('adds message, recipient and time filters after the tenant', () => {
    const { index } = adapter(() => ({ status: 200, body: {} }));
    const body = index.recentEventsBody({
      tenantId: 't',
      messageId: 'm-1',
      recipient: ' A@Inbox.Test ',
      from: '2026-05-01',
      to: '2026-05-02T00:00:00Z',
    }) as { query: { bool: { filter: unknown[] } } };
    expect(body.query.bool.filter).toEqual([
      { term: { tenant_id: 't' } },
      { term: { message_id: 'm-1' } },
      { term: { recipient: 'a@inbox.test' } },
      { range: { '@timestamp': { gte: '2026-05-01T00:00:00.000Z', lt: '2026-05-02T00:00:00.000Z' } } },
    ]);
  });

  it('refuses a missing tenant, a bad size, an unknown type, a bad time and a forged cursor before any request', async () => {
    const { index, requests } = adapter(() => ({ status: 200, body: { hits: { hits: [] } } }));
    const bad = [
      { tenantId: '  ' },
      { tenantId: 't', size: 0 },
      { tenantId: 't', size: 501 },
      { tenantId: 't', eventTypes: ['Bounce' as never] },
      { tenantId: 't', from: 'yesterday' },
      { tenantId: 't', cursor: 'not-a-cursor' },
    ];
    for (const q of bad) await expect(index.searchRecentEvents(q)).rejects.toThrow(OpenSearchInputError);
    expect(requests).toHaveLength(0);
  });

  it("refuses to return another tenant's event (an index created without the template)", async () => {
    const other = { ...openRow, tenant_id: 'tenant-a-corp' };
    const { index } = adapter(() => ({ status: 200, body: { hits: { hits: [hit(other)] } } }));
    await expect(index.searchRecentEvents({ tenantId: 'tenant-a' })).rejects.toThrow(/another tenant's event/);
  });

  it('reads a mail with no recipient tags as a row with defaults', async () => {
    const row = rowsOf(testOpen(undefined, '2026-05-01T12:00:00.000Z', testMail({ tags: { tenant: ['x'] } })))[0]!;
    const { index } = adapter(() => ({ status: 200, body: { hits: { hits: [hit(row)] } } }));
    const page = await index.searchRecentEvents({ tenantId: 'x' });
    expect(page.events[0]).toEqual(row);
  });
});
