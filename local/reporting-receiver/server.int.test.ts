import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packRecords } from '../../enrich/push/batches';
import { syntheticRecords } from '../../enrich/push/test-events';
import { RECORDS_PATH, type ReportingReceiver, startReportingReceiver } from './server';

const KEY = 'receiver-test-key-0123456789';
let receiver: ReportingReceiver;

beforeAll(async () => {
  receiver = await startReportingReceiver({ apiKeys: [KEY], maxRecords: 50 });
});

afterAll(async () => {
  await receiver?.close();
});

const post = (body: string | Uint8Array, headers: Record<string, string>) =>
  fetch(`${receiver.url}${RECORDS_PATH}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });

const [batch] = packRecords(syntheticRecords(10, { prefix: 'rcv' }), { maxRecords: 50, maxBytes: 1e6 });
const auth = (key = batch!.idempotencyKey) => ({ 'x-api-key': KEY, 'idempotency-key': key });

describe('local External Reporting receiver: the contract', () => {
  it('401 without a key or with a wrong one, one line, nothing stored', async () => {
    const missing = await post(batch!.body, { 'idempotency-key': batch!.idempotencyKey });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ error: 'missing x-api-key header' });
    const wrong = await post(batch!.body, { ...auth(), 'x-api-key': 'nope' });
    expect(wrong.status).toBe(401);
    expect(receiver.records().size).toBe(0);
  });

  it('stores a batch once; the same key again is a replay; the same key with another body is 422', async () => {
    const first = await post(batch!.body, auth());
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ accepted: 10, stale: 0, idempotency_key: batch!.idempotencyKey });
    const again = await post(batch!.body, auth());
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(receiver.keyCounts().get(batch!.idempotencyKey)).toBe(2);
    for (const h of receiver.records().values()) expect(h.deliveries).toBe(1);
    const other = packRecords(syntheticRecords(2, { prefix: 'other' }), { maxRecords: 50, maxBytes: 1e6 })[0]!;
    const conflict = await post(other.body, auth());
    expect(conflict.status).toBe(422);
    expect(((await conflict.json()) as { error: string }).error).toMatch(/already used with a different body/);
  });

  it('keeps the highest revision of a record, whatever order the copies come in', async () => {
    const r = syntheticRecords(1, { prefix: 'rev' })[0]!;
    const newer = packRecords([{ ...r, revision: 5, status: 'clicked' }], { maxRecords: 50, maxBytes: 1e6 })[0]!;
    const older = packRecords([{ ...r, revision: 2 }], { maxRecords: 50, maxBytes: 1e6 })[0]!;
    expect((await post(newer.body, auth(newer.idempotencyKey))).status).toBe(200);
    const stale = await post(older.body, auth(older.idempotencyKey));
    expect(await stale.json()).toMatchObject({ accepted: 1, stale: 1 });
    expect(receiver.records().get(r.record_id)?.record).toMatchObject({ revision: 5, status: 'clicked' });
  });

  it('400 for a missing Idempotency-Key, bad JSON, or an invalid record (naming the field, not the value)', async () => {
    expect((await post(batch!.body, { 'x-api-key': KEY })).status).toBe(400);
    const notJson = await post('{"schema_version":1,', auth('k-not-json-0123456789'));
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: 'body is not JSON' });
    const body = JSON.parse(batch!.body);
    body.records[3].status = 'exploded';
    const invalid = await post(JSON.stringify(body), auth('k-invalid-0123456789'));
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: string }).error).toMatch(/^records\[3\]\.status: /);
  });

  it('takes valid bodies not written by sesflow, those the byte scan leaves to the full parse included', async () => {
    const rs = syntheticRecords(3, { prefix: 'odd' });
    const [b] = packRecords(rs, { maxRecords: 50, maxBytes: 1e6 });
    const pretty = JSON.stringify(JSON.parse(b!.body), null, 2);
    const r1 = await post(pretty, auth('k-pretty-0123456789'));
    expect(await r1.json()).toMatchObject({ accepted: 3, stale: 0 });
    // A version written 1.0 and a duplicate key whose later value is valid: JSON.parse and the schema accept them.
    const odd = b!.body
      .replace('"schema_version":1,"records"', '"schema_version":1.0,"records"')
      .replace(`"revision":${rs[0]!.revision},`, `"revision":"x","revision":${rs[0]!.revision},`);
    const r2 = await post(odd, auth('k-odd-0123456789abc'));
    expect(await r2.json()).toMatchObject({ accepted: 3, stale: 0 });
    // The later value invalid: refused with the schema's reason.
    const bad = b!.body.replace(`"revision":${rs[0]!.revision},`, `"revision":${rs[0]!.revision},"revision":"x",`);
    const r3 = await post(bad, auth('k-bad-dup-0123456789'));
    expect(r3.status).toBe(400);
    expect(((await r3.json()) as { error: string }).error).toMatch(/^records\[0\]\.revision: /);
    for (const r of rs) expect(receiver.records().get(r.record_id)?.deliveries).toBe(2);
  });

  it('takes a gzip body (Content-Encoding: gzip) as the same body: a plain retry of it is a replay', async () => {
    const [b] = packRecords(syntheticRecords(5, { prefix: 'gz' }), { maxRecords: 50, maxBytes: 1e6 });
    const zipped = await post(gzipSync(b!.body), { ...auth(b!.idempotencyKey), 'content-encoding': 'gzip' });
    expect(zipped.status).toBe(200);
    expect(await zipped.json()).toEqual({ accepted: 5, stale: 0, idempotency_key: b!.idempotencyKey });
    const r = JSON.parse(b!.body).records[2];
    expect(receiver.records().get(r.record_id)?.record).toEqual(r);
    const plain = await post(b!.body, auth(b!.idempotencyKey));
    expect(plain.status).toBe(200);
    expect(plain.headers.get('idempotent-replayed')).toBe('true');
  });

  it('400 for a body that is not gzip, 415 for another encoding, 413 for a body over the limit once inflated', async () => {
    const gz = { ...auth('k-gzip-0123456789abc'), 'content-encoding': 'gzip' };
    const notGzip = await post(batch!.body, gz);
    expect(notGzip.status).toBe(400);
    expect(await notGzip.json()).toEqual({ error: 'body is not valid gzip' });
    const br = await post(batch!.body, { ...auth('k-br-0123456789abcdef'), 'content-encoding': 'br' });
    expect(br.status).toBe(415);
    expect(((await br.json()) as { error: string }).error).toMatch(/^Content-Encoding br is not supported/);
    // 2 MiB of spaces is a valid JSON prefix and compresses to a few KiB: refused without inflating it all.
    const bomb = await post(gzipSync(`${' '.repeat(2 * 1024 * 1024)}{}`), gz);
    expect(bomb.status).toBe(413);
    expect(((await bomb.json()) as { error: string }).error).toMatch(/once decompressed/);
  });

  it('413 over the record limit; 404 and 405 elsewhere', async () => {
    const big = packRecords(syntheticRecords(60, { prefix: 'big' }), { maxRecords: 500, maxBytes: 1e6 })[0]!;
    const tooMany = await post(big.body, auth(big.idempotencyKey));
    expect(tooMany.status).toBe(413);
    expect((await fetch(`${receiver.url}${RECORDS_PATH}`)).status).toBe(405);
    expect((await fetch(`${receiver.url}/v2/other`)).status).toBe(404);
  });

  it('fault mode: the configured share of requests fails, with Retry-After on 429s', async () => {
    receiver.setFaults({ rate: 1, kinds: ['429'], retryAfterSeconds: 7 });
    const r = await post(batch!.body, auth());
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('7');
    receiver.setFaults({ rate: 0.3, kinds: ['500'], seed: 9 });
    let failed = 0;
    for (let i = 0; i < 200; i++) if ((await post(batch!.body, auth())).status === 500) failed++;
    expect(failed).toBeGreaterThan(40);
    expect(failed).toBeLessThan(80);
    receiver.setFaults({ rate: 0 });
  });
});
