import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NormalisedEvent } from '../../ingest/normalise';
import { generateTraffic } from '../../local/traffic-model';
import { transformedRows } from '../test-lake';
import { createOpenSearchClient, endpointAuth } from './client';
import { OpenSearchEventIndex } from './opensearch-event-index';
import { removeIndexAfterAll } from './test-index.test-support';

const url = process.env.OPENSEARCH_URL;

/** Rows of a small seeded traffic sample (3 tenants), through the real transform. */
const sampleRows = (): NormalisedEvent[] =>
  transformedRows(
    generateTraffic({ seed: 7, tenants: 3, messages: 60, start: new Date('2026-11-01T00:00:00Z'), spanHours: 6 }),
  );

describe.skipIf(!url)('OpenSearch adapter against a real cluster (skipped: OPENSEARCH_URL not set)', () => {
  // A fresh index (and template) per run, removed afterwards.
  const name = `sesflow-it-${randomBytes(4).toString('hex')}`;
  const client = createOpenSearchClient({ node: url ?? 'http://localhost:9200' });
  // OpenSearch Serverless refreshes on its own (and makes writes searchable within seconds); others wait for it.
  const serverless = url ? endpointAuth(url).auth === 'aoss' : false;
  const index = new OpenSearchEventIndex({ client, index: name, ...(serverless ? {} : { refresh: 'wait_for' }) });
  const rows = sampleRows();
  const tenants = [...new Set(rows.map((r) => r.tenant_id))].sort();

  /** Searches until `want` events of the tenant are visible (Serverless indexes asynchronously). */
  async function allOf(tenantId: string, want: number): Promise<NormalisedEvent[]> {
    for (let i = 0; ; i++) {
      const events: NormalisedEvent[] = [];
      let cursor: string | undefined;
      do {
        const page = await index.searchRecentEvents({ tenantId, size: 500, ...(cursor ? { cursor } : {}) });
        events.push(...page.events);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      if (events.length >= want || i >= 30) return events;
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }

  beforeAll(async () => {
    await index.putTemplate();
  }, 60_000);

  removeIndexAfterAll(client, name);

  it('creates the index with the template mapping on first write', async () => {
    const outcome = await index.indexEvents(rows);
    expect(outcome.failed).toEqual([]);
    expect(outcome.created).toBe(new Set(rows.map((r) => r.event_id)).size);
    const mapping = await client.indices.getMapping({ index: name });
    const props = (Object.values(mapping.body)[0] as { mappings: { properties: Record<string, { type: string }> } })
      .mappings.properties;
    expect(props.tenant_id?.type).toBe('keyword');
    expect(props['@timestamp']?.type).toBe('date');
  }, 120_000);

  it("returns only the tenant's events, newest first, every one once", async () => {
    for (const tenant of tenants) {
      const expected = rows.filter((r) => r.tenant_id === tenant);
      const got = await allOf(tenant, expected.length);
      expect(got.map((e) => e.event_id).sort()).toEqual(expected.map((e) => e.event_id).sort());
      expect(got.every((e) => e.tenant_id === tenant)).toBe(true);
      for (let i = 1; i < got.length; i++) expect(got[i - 1]!.event_time).toBeGreaterThanOrEqual(got[i]!.event_time);
    }
  }, 180_000);

  it('replaces instead of duplicating when the same events are indexed again', async () => {
    const again = await index.indexEvents(rows);
    expect(again.failed).toEqual([]);
    expect(again.updated).toBe(again.submitted);
    const tenant = tenants[0]!;
    const expected = rows.filter((r) => r.tenant_id === tenant).length;
    expect((await allOf(tenant, expected)).length).toBe(expected);
  }, 180_000);

  it('reports a document the mapping refuses and indexes the rest', async () => {
    const good = { ...rows[0]!, event_id: `${rows[0]!.event_id}-good` };
    const bad = { ...rows[1]!, event_id: `${rows[1]!.event_id}-bad`, processing_time_ms: 'soon' as unknown as number };
    const outcome = await index.indexEvents([good, bad]);
    expect(outcome.created).toBe(1);
    expect(outcome.failed).toEqual([expect.objectContaining({ eventId: bad.event_id, status: 400, retryable: false })]);
    expect(outcome.failed[0]!.type).toMatch(/parsing|parse/);
  }, 60_000);
});
