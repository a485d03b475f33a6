import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalisedEvent } from '../ingest/normalise';
import { transformRecord } from '../ingest/transform';
import { generateTraffic } from '../local/traffic-model';
import { createOpenSearchClient, endpointAuth } from '../queries/opensearch/client';
import { OpenSearchEventIndex } from '../queries/opensearch/opensearch-event-index';
import { forgetRecipient } from './erase';
import { erasureQuery, OpenSearchEraser } from './opensearch-eraser';
import { parseErasureRequest } from './request';

const url = process.env.OPENSEARCH_URL;

describe.skipIf(!url)('OpenSearch erasure against a real cluster (skipped: OPENSEARCH_URL not set)', () => {
  const name = `sesflow-erase-it-${randomBytes(4).toString('hex')}`;
  const client = createOpenSearchClient({ node: url ?? 'http://localhost:9200' });
  const serverless = url ? endpointAuth(url).auth === 'aoss' : false;
  const index = new OpenSearchEventIndex({ client, index: name, ...(serverless ? {} : { refresh: 'wait_for' }) });
  const rows: NormalisedEvent[] = [];
  for (const record of generateTraffic({
    seed: 11,
    tenants: 2,
    messages: 40,
    start: new Date('2026-11-01T00:00:00Z'),
    spanHours: 2,
  })) {
    const r = transformRecord(JSON.stringify(record));
    if (r.ok) rows.push(...r.rows);
  }
  const address = rows.find((r) => r.recipient)!.recipient!;
  const count = async (query: Record<string, unknown>) =>
    Number(((await client.count({ index: name, body: { query } as never })).body as { count: number }).count);

  beforeAll(async () => {
    await index.putTemplate();
    await index.indexEvents(rows);
    if (!serverless) await client.indices.refresh({ index: name });
  }, 120_000);

  afterAll(async () => {
    await client.indices.delete({ index: name }).catch(() => {});
    await client.indices.deleteIndexTemplate({ name }).catch(() => {});
  }, 60_000);

  it("deletes the address's documents (any case), leaves the others, and a second run finds nothing", async () => {
    const total = await count({ match_all: {} });
    const own = await count(erasureQuery(address));
    expect(own).toBeGreaterThan(0);
    const eraser = new OpenSearchEraser(client, name);
    const request = parseErasureRequest({ address: address.toUpperCase(), reason: 'it test', requestedBy: 'test' });
    const key = 'a-test-erasure-key-of-at-least-32-chars';
    const report = await forgetRecipient(request, { key, targets: [eraser] });
    expect(report.stores[0]).toMatchObject({ found: own, changed: own });
    if (!serverless) await client.indices.refresh({ index: name });
    expect(await count(erasureQuery(address))).toBe(0);
    expect(await count({ match_all: {} })).toBe(total - own);
    const again = await forgetRecipient(request, { key, targets: [eraser] });
    expect(again.stores[0]).toMatchObject({ found: 0, changed: 0 });
  }, 120_000);
});
