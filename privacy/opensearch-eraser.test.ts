import { describe, expect, it } from 'vitest';
import { createOpenSearchClient } from '../queries/opensearch/client';
import { type FakeResponse, fakeConnection, type RecordedRequest } from '../queries/opensearch/fake-connection';
import { forgetRecipient } from './erase';
import { OpenSearchEraser, rawRecordErasureQuery } from './opensearch-eraser';
import { parseErasureRequest } from './request';

const KEY = 'a-test-erasure-key-of-at-least-32-chars';
const request = parseErasureRequest({ address: 'Ann@Example.org', tenant: 'acme', reason: 'ticket', requestedBy: 't' });

function eraserWith(respond: (req: RecordedRequest) => FakeResponse) {
  const fake = fakeConnection(respond);
  const client = createOpenSearchClient({ node: 'http://search.test:9200', connection: fake.override });
  return { eraser: new OpenSearchEraser(client, 'sesflow-events*'), requests: fake.requests };
}

describe('OpenSearch erasure (fake connection)', () => {
  it('counts, then deletes by query: the recipient any case, the tenant, conflicts proceeding, refreshed', async () => {
    const { eraser, requests } = eraserWith((req) =>
      req.path.includes('_count') ? { status: 200, body: { count: 4 } } : { status: 200, body: { deleted: 4 } },
    );
    const report = await forgetRecipient(request, { key: KEY, targets: [eraser] });
    expect(report.stores[0]).toMatchObject({ found: 4, changed: 4, action: 'deleted 4 documents' });
    expect(requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      'POST /sesflow-events*/_count',
      'POST /sesflow-events*/_delete_by_query',
    ]);
    expect(requests[1]!.path).toMatch(/conflicts=proceed/);
    expect(requests[1]!.path).toMatch(/refresh=true/);
    expect(JSON.parse(requests[1]!.body)).toEqual({
      query: {
        bool: {
          filter: [
            { term: { recipient: { value: 'ann@example.org', case_insensitive: true } } },
            { term: { tenant_id: 'acme' } },
          ],
        },
      },
    });
  });

  it('where delete by query is not offered, searches and deletes by id in bulk', async () => {
    let searches = 0;
    const { eraser, requests } = eraserWith((req) => {
      if (req.path.includes('_count')) return { status: 200, body: { count: 2 } };
      if (req.path.includes('_delete_by_query')) return { status: 404, body: { error: 'no handler found' } };
      if (req.path.includes('_search')) {
        searches++;
        return {
          status: 200,
          body: {
            hits: {
              hits:
                searches === 1
                  ? [
                      { _index: 'sesflow-events', _id: 'a' },
                      { _index: 'sesflow-events', _id: 'b' },
                    ]
                  : [],
            },
          },
        };
      }
      return { status: 200, body: { errors: false, items: [] } };
    });
    const report = await forgetRecipient(request, { key: KEY, targets: [eraser] });
    expect(report.stores[0]).toMatchObject({ found: 2, changed: 2 });
    const bulk = requests.find((r) => r.path.startsWith('/_bulk'))!;
    expect(
      bulk.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ delete: { _index: 'sesflow-events', _id: 'a' } }, { delete: { _index: 'sesflow-events', _id: 'b' } }]);
  });

  it('a dry run only counts; no endpoint is reported as skipped', async () => {
    const { eraser, requests } = eraserWith(() => ({ status: 200, body: { count: 3 } }));
    const dry = await forgetRecipient(request, { key: KEY, targets: [eraser], dryRun: true });
    expect(dry.stores[0]).toMatchObject({ found: 3, changed: 0, action: 'would delete 3 documents' });
    expect(requests).toHaveLength(1);
    const none = await forgetRecipient(request, { key: KEY, targets: [new OpenSearchEraser(null)] });
    expect(none.stores[0]!.skipped).toMatch(/no OpenSearch endpoint/);
  });

  it('the raw records are matched on every recipient field as a phrase', () => {
    const q = JSON.stringify(rawRecordErasureQuery('ann@example.org', 'acme'));
    for (const f of [
      'mail.destination',
      'bounce.bouncedRecipients.emailAddress',
      'complaint.complainedRecipients.emailAddress',
    ]) {
      expect(q).toContain(f);
    }
    expect(q).toContain('"mail.tags.tenant":"acme"');
  });
});
