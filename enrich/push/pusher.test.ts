import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  batchesOfBody,
  decodeQueueBody,
  encodeQueueBody,
  encodeQueuedBatch,
  idempotencyKeyOf,
  packRecords,
  queuedBatches,
  splitBatch,
} from './batches';
import type { RetryPolicy } from './config';
import {
  backoffDelay,
  type DeadLetterReason,
  deliverBatch,
  isRetryable,
  type PusherDeps,
  pushQueuedBatch,
} from './pusher';
import { type ApiAnswer, parseRetryAfter, type ReportingApi } from './reporting-api-client';
import { syntheticRecords } from './test-events';

const POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, timeoutMs: 2000 };
const ok: ApiAnswer = { status: 200, error: null, retryAfterMs: null, replayed: false };
const answer = (status: number, retryAfterMs: number | null = null): ApiAnswer => ({
  status,
  error: status === 0 ? 'no answer within 2000 ms' : `status ${status}`,
  retryAfterMs,
  replayed: false,
});

/** A scripted API: answers in order, records what it was sent (a gzip body inflated, and marked). */
function scriptedApi(answers: ApiAnswer[] | ((key: string, body: string) => ApiAnswer)) {
  const calls: { key: string; body: string; gzip: boolean }[] = [];
  const api: ReportingApi = {
    async postBatch(key, sent) {
      const body = typeof sent === 'string' ? sent : gunzipSync(sent.gzip).toString('utf8');
      calls.push({ key, body, gzip: typeof sent !== 'string' });
      if (typeof answers === 'function') return answers(key, body);
      return answers.shift() ?? ok;
    },
    close() {},
  };
  return { api, calls };
}

function deps(api: ReportingApi, extra: Partial<PusherDeps> = {}) {
  const sleeps: number[] = [];
  const dead: { body: string; why: DeadLetterReason }[] = [];
  let clock = 1_000_000;
  const d: PusherDeps = {
    api,
    deadLetters: { send: async (body, why) => void dead.push({ body, why }) },
    limits: { maxRecords: 500, maxBytes: 1_000_000 },
    retry: POLICY,
    maxReceiveCount: 3,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => 0.5,
    now: () => clock,
    ...extra,
  };
  return { d, sleeps, dead };
}

describe('retry classification and backoff', () => {
  it('retries timeouts, 408, 409, 425, 429 and 5xx; refuses other 4xx', () => {
    for (const s of [0, 408, 409, 425, 429, 500, 502, 503, 504]) expect(isRetryable(s)).toBe(true);
    for (const s of [400, 401, 403, 404, 413, 422]) expect(isRetryable(s)).toBe(false);
  });

  it('backs off exponentially with full jitter, capped, and never below Retry-After', () => {
    const max = () => 0.999999;
    expect(backoffDelay(1, POLICY, max, null)).toBeCloseTo(100, 0);
    expect(backoffDelay(3, POLICY, max, null)).toBeCloseTo(400, 0);
    expect(backoffDelay(10, POLICY, max, null)).toBeCloseTo(1000, 0);
    expect(backoffDelay(3, POLICY, () => 0, null)).toBe(0);
    expect(backoffDelay(1, POLICY, () => 0, 3000)).toBe(3000);
    expect(backoffDelay(1, POLICY, max, 3000)).toBeLessThan(3100);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(61_000).toUTCString(), 1000)).toBe(60_000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(undefined)).toBeNull();
  });
});

describe('deliverBatch', () => {
  const [batch] = packRecords(syntheticRecords(3), { maxRecords: 500, maxBytes: 1_000_000 });

  it('retries 503, a timeout and a 429 with the same key and body, waiting at least Retry-After', async () => {
    const { api, calls } = scriptedApi([answer(503), answer(0), answer(429, 2000), ok]);
    const { d, sleeps } = deps(api);
    const out = await deliverBatch(d, batch!, 10_000_000);
    expect(out).toEqual({ kind: 'delivered', attempts: 4, replayed: false });
    expect(new Set(calls.map((c) => c.key))).toEqual(new Set([batch!.idempotencyKey]));
    expect(new Set(calls.map((c) => c.body)).size).toBe(1);
    expect(sleeps).toHaveLength(3);
    expect(sleeps[0]).toBe(50); // 0.5 x 100
    expect(sleeps[1]).toBe(100); // 0.5 x 200
    expect(sleeps[2]).toBeGreaterThanOrEqual(2000);
  });

  it('stops at the first refusal', async () => {
    const { api, calls } = scriptedApi([answer(422)]);
    const out = await deliverBatch(deps(api).d, batch!, 10_000_000);
    expect(out).toMatchObject({ kind: 'refused', status: 422, attempts: 1 });
    expect(calls).toHaveLength(1);
  });

  it('gives up after maxAttempts, or when the next wait would pass the deadline', async () => {
    const always = () => answer(500);
    const out = await deliverBatch(deps(scriptedApi(always).api).d, batch!, 10_000_000);
    expect(out).toMatchObject({ kind: 'unfinished', attempts: 5 });
    const { api, calls } = scriptedApi(() => answer(429, 60_000));
    const short = await deliverBatch(deps(api).d, batch!, 1_000_000 + 30_000);
    expect(short).toMatchObject({ kind: 'unfinished', attempts: 1 });
    expect(short.kind === 'unfinished' && short.reason).toMatch(/no time left/);
    expect(calls).toHaveLength(1);
  });
});

describe('batches and keys', () => {
  it('the same records give the same body and key in any order; another revision gives another key', () => {
    const records = syntheticRecords(20);
    const a = packRecords(records, { maxRecords: 500, maxBytes: 1_000_000 });
    const b = packRecords([...records].reverse(), { maxRecords: 500, maxBytes: 1_000_000 });
    expect(a.map((x) => x.idempotencyKey)).toEqual(b.map((x) => x.idempotencyKey));
    const bumped = records.map((r, i) => (i === 0 ? { ...r, revision: r.revision + 1 } : r));
    expect(packRecords(bumped, { maxRecords: 500, maxBytes: 1_000_000 })[0]!.idempotencyKey).not.toBe(
      a[0]!.idempotencyKey,
    );
    expect(a[0]!.idempotencyKey).toMatch(/^sfr1-[A-Za-z0-9_-]{43}$/);
    expect(idempotencyKeyOf([{ id: 'x', revision: 1 }], 'a')).not.toBe(
      idempotencyKeyOf([{ id: 'x', revision: 1 }], 'b'),
    );
  });

  it('packs within the record and byte limits, keeping only the highest revision of a record', () => {
    const records = syntheticRecords(1200);
    const byCount = packRecords(records, { maxRecords: 500, maxBytes: 10_000_000 });
    expect(byCount.map((b) => b.recordIds.length)).toEqual([500, 500, 200]);
    const byBytes = packRecords(records, { maxRecords: 500, maxBytes: 100_000 });
    for (const b of byBytes) expect(Buffer.byteLength(b.body)).toBeLessThanOrEqual(100_000);
    expect(byBytes.reduce((n, b) => n + b.recordIds.length, 0)).toBe(1200);
    const twice = packRecords([records[0]!, { ...records[0]!, revision: 9 }], { maxRecords: 500, maxBytes: 1e6 });
    expect(JSON.parse(twice[0]!.body).records).toEqual([{ ...records[0]!, revision: 9 }]);
  });

  it('a queued body is sent byte for byte when it fits, split deterministically when it does not', () => {
    const [batch] = packRecords(syntheticRecords(10), { maxRecords: 500, maxBytes: 1e6 });
    expect(batchesOfBody(batch!.body, { maxRecords: 500, maxBytes: 1e6 })).toEqual([batch]);
    const split = batchesOfBody(batch!.body, { maxRecords: 4, maxBytes: 1e6 });
    expect(split.map((b) => b.recordIds.length)).toEqual([4, 4, 2]);
    expect(batchesOfBody(batch!.body, { maxRecords: 4, maxBytes: 1e6 })).toEqual(split);
    expect(() => batchesOfBody('[1,2]', { maxRecords: 4, maxBytes: 1e6 })).toThrow(/not a record batch/);
  });

  it('splits a refused batch by tenant first, then in halves', () => {
    const [mixed] = packRecords(syntheticRecords(10, { tenants: 2 }), { maxRecords: 500, maxBytes: 1e6 });
    const byTenant = splitBatch(mixed!)!;
    expect(byTenant.map((b) => b.tenants)).toEqual([['tenant-0'], ['tenant-1']]);
    expect(splitBatch(byTenant[0]!)!.map((b) => b.recordIds.length)).toEqual([3, 2]);
  });
});

describe('queue messages', () => {
  const LIMITS = { maxRecords: 500, maxBytes: 1e6 };

  it('a queued batch comes back compressed, with its key and size, and decodes to the same batch when read', async () => {
    const [batch] = packRecords(syntheticRecords(30, { tenants: 3 }), LIMITS);
    const message = await encodeQueuedBatch(batch!);
    expect(message).toMatch(/^sfb1:sfr1-[A-Za-z0-9_-]{43}:30:\d+:[A-Za-z0-9+/=]+$/);
    const [queued, ...more] = await queuedBatches(message, LIMITS);
    expect(more).toHaveLength(0);
    expect(queued!.gzip).toBeDefined();
    expect(gunzipSync(queued!.gzip!).toString('utf8')).toBe(batch!.body);
    expect({ key: queued!.idempotencyKey, size: queued!.size }).toEqual({ key: batch!.idempotencyKey, size: 30 });
    expect({ body: queued!.body, ids: queued!.recordIds, tenants: queued!.tenants }).toEqual({
      body: batch!.body,
      ids: batch!.recordIds,
      tenants: batch!.tenants,
    });
    expect(await decodeQueueBody(message)).toBe(batch!.body);
  });

  it('a queued batch over the limits, an older base64 gzip message and plain JSON are inflated and repacked', async () => {
    const [batch] = packRecords(syntheticRecords(10), LIMITS);
    const small = { maxRecords: 4, maxBytes: 1e6 };
    const repacked = await queuedBatches(await encodeQueuedBatch(batch!), small);
    expect(repacked.map((b) => [b.size, b.gzip])).toEqual([
      [4, undefined],
      [4, undefined],
      [2, undefined],
    ]);
    expect(repacked).toEqual(batchesOfBody(batch!.body, small));
    expect(await queuedBatches(await encodeQueueBody(batch!.body), LIMITS)).toEqual([batch]);
    expect(await queuedBatches(batch!.body, LIMITS)).toEqual([batch]);
  });

  it('refuses a malformed header or a body that is not gzip; a header that lies is caught when the body is read', async () => {
    const [batch] = packRecords(syntheticRecords(3), LIMITS);
    await expect(queuedBatches('sfb1:short:3:10:AAAA', LIMITS)).rejects.toThrow(/malformed batch header/);
    const notGzip = `sfb1:${batch!.idempotencyKey}:3:100:${Buffer.from('hello world, not gzip').toString('base64')}`;
    await expect(queuedBatches(notGzip, LIMITS)).rejects.toThrow(/not a base64 gzip batch/);
    const lying = (await encodeQueuedBatch(batch!)).replace(`:3:`, ':4:');
    const [queued] = await queuedBatches(lying, LIMITS);
    expect(() => queued!.body).toThrow(/header does not match its batch/);
  });
});

describe('pushQueuedBatch', () => {
  it('sends a queued batch compressed, as it came, under its key', async () => {
    const [batch] = packRecords(syntheticRecords(12, { tenants: 3 }), { maxRecords: 500, maxBytes: 1e6 });
    const { api, calls } = scriptedApi([ok]);
    const { d } = deps(api);
    const body = await encodeQueuedBatch(batch!);
    const out = await pushQueuedBatch(d, { body, receiveCount: 1, messageId: 'm' }, 10_000_000);
    expect(out).toEqual({ done: true, delivered: 12, deadLettered: 0 });
    expect(calls).toEqual([{ key: batch!.idempotencyKey, body: batch!.body, gzip: true }]);
  });

  it('isolates a refused tenant of a queued batch, and dead-letters a refused message that is not a batch', async () => {
    const [batch] = packRecords(syntheticRecords(12, { tenants: 3 }), { maxRecords: 500, maxBytes: 1e6 });
    const { api } = scriptedApi((_key, body) =>
      body.includes('"tenant_id":"tenant-1"') ? { ...answer(422), error: 'tenant tenant-1 refused' } : ok,
    );
    const { d, dead } = deps(api);
    const body = await encodeQueuedBatch(batch!);
    const out = await pushQueuedBatch(d, { body, receiveCount: 1, messageId: 'm' }, 10_000_000);
    expect(out).toEqual({ done: true, delivered: 8, deadLettered: 1 });
    expect(dead[0]!.why).toMatchObject({ status: 422, records: 4 });
    const lying = body.replace(':12:', ':11:');
    const refused = await pushQueuedBatch(d, { body: lying, receiveCount: 1, messageId: 'm2' }, 10_000_000);
    expect(refused).toMatchObject({ done: true, delivered: 0, deadLettered: 1 });
    expect(dead[1]).toMatchObject({ body: lying, why: { status: 0, records: 0 } });
    expect(dead[1]!.why.reason).toMatch(/header does not match its batch/);
  });

  it('isolates a refused tenant: the rest is delivered, the refused part dead-lettered with the reason', async () => {
    const [batch] = packRecords(syntheticRecords(12, { tenants: 3 }), { maxRecords: 500, maxBytes: 1e6 });
    const { api } = scriptedApi((_key, body) =>
      body.includes('"tenant_id":"tenant-1"') ? { ...answer(422), error: 'tenant tenant-1 refused' } : ok,
    );
    const { d, dead } = deps(api);
    const out = await pushQueuedBatch(d, { body: batch!.body, receiveCount: 1, messageId: 'm' }, 10_000_000);
    expect(out).toEqual({ done: true, delivered: 8, deadLettered: 1 });
    expect(dead).toHaveLength(1);
    expect(dead[0]!.why).toMatchObject({ status: 422, reason: 'HTTP 422: tenant tenant-1 refused', records: 4 });
    expect(JSON.parse(dead[0]!.body).records.every((r: { tenant_id: string }) => r.tenant_id === 'tenant-1')).toBe(
      true,
    );
  });

  it('leaves an undelivered batch on the queue, and dead-letters it with the reason at the last receive', async () => {
    const [batch] = packRecords(syntheticRecords(5), { maxRecords: 500, maxBytes: 1e6 });
    const { d, dead } = deps(scriptedApi(() => answer(503)).api);
    const first = await pushQueuedBatch(d, { body: batch!.body, receiveCount: 1, messageId: 'm' }, 10_000_000);
    expect(first).toMatchObject({ done: false, delivered: 0, deadLettered: 0 });
    expect(dead).toHaveLength(0);
    const last = await pushQueuedBatch(d, { body: batch!.body, receiveCount: 3, messageId: 'm' }, 10_000_000);
    expect(last).toMatchObject({ done: true, deadLettered: 1 });
    expect(dead[0]!.why.reason).toMatch(/^given up at receive 3 of 3: HTTP 503/);
    expect(dead[0]!.body).toBe(batch!.body);
  });
});
