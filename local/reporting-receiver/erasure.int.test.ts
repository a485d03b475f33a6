import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packRecords } from '../../enrich/push/batches';
import { postErasureNotices } from '../../enrich/push/reporting-api-client';
import { syntheticRecords } from '../../enrich/push/test-events';
import { ERASURE_NOTICES_PATH, RECORDS_PATH, type ReportingReceiver, startReportingReceiver } from './server';

const KEY = 'receiver-erasure-key-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'sesflow-rcv-erase-'));
const file = join(dir, 'received.ndjson');
let receiver: ReportingReceiver;

beforeAll(async () => {
  receiver = await startReportingReceiver({ apiKeys: [KEY], ndjsonFile: file });
});

afterAll(async () => {
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (body: string, key: string) =>
  fetch(`${receiver.url}${RECORDS_PATH}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'idempotency-key': key },
  });
const pack = (records: ReturnType<typeof syntheticRecords>) =>
  packRecords(records, { maxRecords: 500, maxBytes: 1e6 })[0]!;

describe('local External Reporting receiver: erasure notices', () => {
  const records = syntheticRecords(6, { prefix: 'erase' });
  const target = records[2]!;
  const first = pack(records);
  const newer = pack([{ ...target, revision: target.revision + 1, status: 'clicked' }]);

  it('deletes every revision of a record: not shown, not in any batch, not in the NDJSON file; idempotent', async () => {
    expect((await post(first.body, first.idempotencyKey)).status).toBe(200);
    expect((await post(newer.body, newer.idempotencyKey)).status).toBe(200);
    expect(receiver.records().size).toBe(6);
    const answer = await postErasureNotices({ baseUrl: receiver.url, apiKey: KEY }, [target.record_id, 'f'.repeat(32)]);
    expect(answer).toEqual({ erased: 1, notHeld: 1 });
    expect(receiver.records().size).toBe(5);
    expect(receiver.records().has(target.record_id)).toBe(false);
    expect([...receiver.records().keys()]).not.toContain(target.record_id);
    for (const r of receiver.records().values()) expect(r.record.record_id).not.toBe(target.record_id);
    expect(readFileSync(file, 'utf8')).not.toContain(target.record_id);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(5);
    const local = await fetch(`${receiver.url}/_local/records/${target.record_id}`, { headers: { 'x-api-key': KEY } });
    expect(local.status).toBe(404);
    expect(await postErasureNotices({ baseUrl: receiver.url, apiKey: KEY }, [target.record_id])).toEqual({
      erased: 0,
      notHeld: 1,
    });
  });

  it('a retry of a batch that carried a deleted record is still a replay; the record sent again is stored', async () => {
    const replay = await post(first.body, first.idempotencyKey);
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(receiver.records().has(target.record_id)).toBe(false);
    const later = pack([{ ...target, revision: 1, status: 'delivered' }]);
    expect((await post(later.body, later.idempotencyKey)).status).toBe(200);
    expect(receiver.records().get(target.record_id)?.record).toMatchObject({ revision: 1, status: 'delivered' });
    expect(receiver.records().size).toBe(6);
  });

  it('refuses a bad notice with one line: no key, not JSON, not record ids', async () => {
    const url = `${receiver.url}${ERASURE_NOTICES_PATH}`;
    const noKey = await fetch(url, { method: 'POST', body: '{"record_ids":["a"]}' });
    expect(noKey.status).toBe(401);
    const notJson = await fetch(url, { method: 'POST', body: '{', headers: { 'x-api-key': KEY } });
    expect(notJson.status).toBe(400);
    const bad = await fetch(url, { method: 'POST', body: '{"record_ids":["x@y.z"]}', headers: { 'x-api-key': KEY } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'record_ids.0: not a record id' });
    await expect(postErasureNotices({ baseUrl: receiver.url, apiKey: 'wrong' }, ['a'.repeat(32)])).rejects.toThrow(
      /refused the deletion request \(401\)/,
    );
  });
});
