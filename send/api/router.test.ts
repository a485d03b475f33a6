import { describe, expect, it } from 'vitest';
import { TenantPausedError } from '../../enrich/reputation/errors';
import { hashApiKey } from '../../lib/http/api-key';
import type { ApiKeyScope, BulkSend, Sender, SendMessage, SendOutcome } from '../ports';
import { MemorySendStore } from './memory-send-store';
import type { ChunkMessage, JobQueue } from './ports';
import { type ApiRequest, createEmailApiRouter, type EmailApiLog } from './router';
import { MAX_BATCH_BODY_BYTES, MAX_MESSAGE_BODY_BYTES } from './schemas';

const KEYS: Record<string, ApiKeyScope> = {
  sfk_acme_0123456789abcdef: { tenantId: 'acme', keyId: 'key-acme' },
  sfk_globex_0123456789abcdef: { tenantId: 'globex', keyId: 'key-globex' },
};
const ACME = 'sfk_acme_0123456789abcdef';
const GLOBEX = 'sfk_globex_0123456789abcdef';

class FakeSender implements Sender {
  sent: SendMessage[] = [];
  failWith: Error | null = null;
  suppressed = new Set<string>();
  private n = 0;
  async send(m: SendMessage): Promise<SendOutcome> {
    if (this.failWith) throw this.failWith;
    this.sent.push(m);
    const all = [...m.to, ...(m.cc ?? []), ...(m.bcc ?? [])];
    const suppressed = all.filter((a) => this.suppressed.has(a));
    if (suppressed.length === all.length) return { messageId: '', suppressed };
    return { messageId: `0100019a-msg-${++this.n}`, suppressed };
  }
  async sendBulk(_job: BulkSend): Promise<never> {
    throw new Error('not used by the API');
  }
}

class FakeQueue implements JobQueue {
  chunks: ChunkMessage[] = [];
  failWith: Error | null = null;
  async enqueue(chunks: readonly ChunkMessage[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.chunks.push(...chunks);
  }
}

function setup() {
  const store = new MemorySendStore();
  const sender = new FakeSender();
  const queue = new FakeQueue();
  const logs: EmailApiLog[] = [];
  const byHash = new Map(Object.entries(KEYS).map(([k, v]) => [hashApiKey(k), v]));
  let jobs = 0;
  const handle = createEmailApiRouter({
    lookupKey: async (h) => byHash.get(h) ?? null,
    sender,
    messages: store,
    jobs: store,
    queue,
    now: () => new Date('2026-11-25T10:00:00Z'),
    newJobId: () => `job-00000000-0000-4000-8000-${String(++jobs).padStart(12, '0')}`,
    log: (e) => logs.push(e),
  });
  const call = async (method: string, path: string, opts: { key?: string | null; body?: unknown } = {}) => {
    const headers: Record<string, string | undefined> = {};
    if (opts.key !== null) headers['x-api-key'] = opts.key ?? ACME;
    const body = opts.body === undefined ? null : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const req: ApiRequest = { method, path, query: {}, headers, body };
    const res = await handle(req);
    return { ...res, json: JSON.parse(res.body) as Record<string, unknown> };
  };
  return { store, sender, queue, logs, call };
}

const MESSAGE = {
  from: 'Acme <news@mail.acme.example>',
  to: ['reader@example.org'],
  subject: 'Hello',
  text: 'Hi there',
  campaign: 'spring-2026',
  messageKind: 'marketing',
};

function expectOneLineError(res: { body: string; json: Record<string, unknown> }, pattern: RegExp) {
  expect(Object.keys(res.json)).toEqual(['error']);
  const error = String(res.json.error);
  expect(error).toMatch(pattern);
  expect(error).not.toContain('\n');
  expect(res.body).not.toMatch(/\bat .+:\d+:\d+/); // no stack frame
}

describe('Email API: authentication', () => {
  it('answers 401 without an x-api-key, on every route', async () => {
    const { call, sender } = setup();
    for (const [method, path] of [
      ['POST', '/v1/messages'],
      ['POST', '/v1/batches'],
      ['GET', '/v1/messages/0100019a-msg-1'],
      ['GET', '/v1/batches/job-00000000-0000-4000-8000-000000000001'],
      ['GET', '/v1/nothing-here'],
    ] as const) {
      const res = await call(method, path, { key: null, body: MESSAGE });
      expect(res.status).toBe(401);
      expectOneLineError(res, /x-api-key header is required/);
    }
    expect(sender.sent).toHaveLength(0);
  });

  it('answers 401 for an unknown key and for an absurdly long one, and logs the key id only when known', async () => {
    const { call, logs } = setup();
    expect((await call('POST', '/v1/messages', { key: 'sfk_wrong', body: MESSAGE })).status).toBe(401);
    expect((await call('POST', '/v1/messages', { key: 'x'.repeat(300), body: MESSAGE })).status).toBe(401);
    expect(logs.every((l) => l.keyId === null && l.status === 401)).toBe(true);
    expect(JSON.stringify(logs)).not.toContain('sfk_wrong');
  });
});

describe('Email API: POST /v1/messages', () => {
  it("sends as the key's tenant and records the message status, whatever tenant the body names", async () => {
    const { call, sender, store, logs } = setup();
    const res = await call('POST', '/v1/messages', { body: MESSAGE });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ messageId: '0100019a-msg-1', status: 'sent', suppressed: [] });
    expect(sender.sent[0]).toMatchObject({ tenantId: 'acme', campaign: 'spring-2026', to: ['reader@example.org'] });
    expect(await store.getMessage('0100019a-msg-1')).toMatchObject({ tenantId: 'acme', status: 'sent', recipients: 1 });
    expect(logs[0]).toMatchObject({ route: '/v1/messages', status: 200, keyId: 'key-acme', tenant: 'acme' });
    // A body naming another tenant is refused: the tenant is the key's, never the caller's word.
    const other = await call('POST', '/v1/messages', { body: { ...MESSAGE, tenantId: 'globex' } });
    expect(other.status).toBe(400);
    expectOneLineError(other, /unknown field "tenantId"/);
  });

  it('reports suppressed recipients, and sends nothing when every recipient is suppressed', async () => {
    const { call, sender, store } = setup();
    sender.suppressed.add('gone@example.org');
    const some = await call('POST', '/v1/messages', {
      body: { ...MESSAGE, to: ['a@example.org', 'gone@example.org'] },
    });
    expect(some.json).toMatchObject({ status: 'sent', suppressed: ['gone@example.org'] });
    expect((await store.getMessage(String(some.json.messageId)))?.recipients).toBe(1);
    const all = await call('POST', '/v1/messages', { body: { ...MESSAGE, to: ['gone@example.org'] } });
    expect(all.json).toEqual({ messageId: null, status: 'suppressed', suppressed: ['gone@example.org'] });
  });

  const bad: [string, unknown, RegExp][] = [
    ['bad JSON', '{"from": ', /the body must be JSON/],
    ['a JSON array', '[1,2]', /must be a JSON object/],
    ['no body', null, /the body must be JSON/],
    ['a missing field', { ...MESSAGE, subject: undefined }, /^subject: is required$/],
    ['a missing recipient list', { ...MESSAGE, to: undefined }, /^to: is required$/],
    ['an empty recipient list', { ...MESSAGE, to: [] }, /^to: needs at least one address$/],
    ['a bad address', { ...MESSAGE, to: ['ok@example.org', 'not-an-address'] }, /^to\.1: is not an email address$/],
    ['a bad sender', { ...MESSAGE, from: 'Acme <nobody>' }, /^from: is not an email address$/],
    [
      'too many recipients',
      {
        ...MESSAGE,
        to: Array.from({ length: 30 }, (_, i) => `r${i}@x.org`),
        bcc: Array.from({ length: 21 }, (_, i) => `b${i}@x.org`),
      },
      /too many recipients: 51 \(at most 50\)/,
    ],
    [
      'a bad campaign tag value',
      { ...MESSAGE, campaign: 'spring 2026!' },
      /^campaign: may contain only letters, digits, _ and -/,
    ],
    ['a tag value with a dot', { ...MESSAGE, messageKind: 'news.letter' }, /^messageKind: may contain only letters/],
    ['no content', { ...MESSAGE, text: undefined }, /html or text is required/],
    ['a two-line subject', { ...MESSAGE, subject: 'a\r\nBcc: x@y.org' }, /^subject: must be one line$/],
    ['a wrong type', { ...MESSAGE, to: 'reader@example.org' }, /^to: must be a list of email addresses$/],
  ];
  for (const [what, body, pattern] of bad) {
    it(`answers 400 with a one-line reason for ${what}, and sends nothing`, async () => {
      const { call, sender } = setup();
      const res = await call('POST', '/v1/messages', { body: body === null ? undefined : body });
      expect(res.status).toBe(400);
      expectOneLineError(res, pattern);
      expect(sender.sent).toHaveLength(0);
    });
  }

  it('answers 413 for a body over the limit', async () => {
    const { call, sender } = setup();
    const res = await call('POST', '/v1/messages', { body: { ...MESSAGE, text: 'x'.repeat(MAX_MESSAGE_BODY_BYTES) } });
    expect(res.status).toBe(413);
    expectOneLineError(res, /the body is over 1 MiB/);
    expect(sender.sent).toHaveLength(0);
  });

  it("answers 409 with why and since when for a paused tenant (the gate's refusal)", async () => {
    const { call, sender } = setup();
    sender.failWith = new TenantPausedError('acme', 'paused', 'bounce rate 8.0 %', '2026-11-25T09:00:00.000Z');
    const res = await call('POST', '/v1/messages', { body: MESSAGE });
    expect(res.status).toBe(409);
    expectOneLineError(res, /tenant acme is paused since 2026-11-25T09:00:00.000Z: bounce rate 8.0 %/);
  });

  it('answers 422 for a message SES rejects and 429 with retry-after when SES throttles', async () => {
    const { call, sender } = setup();
    sender.failWith = Object.assign(new Error('Email address is not verified.'), { name: 'MessageRejected' });
    const rejected = await call('POST', '/v1/messages', { body: MESSAGE });
    expect(rejected.status).toBe(422);
    expectOneLineError(rejected, /SES rejected the message: Email address is not verified/);
    sender.failWith = Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'TooManyRequestsException' });
    const throttled = await call('POST', '/v1/messages', { body: MESSAGE });
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('1');
  });

  it('answers 500 "internal error" for an unexpected failure, without its text, and logs the cause once', async () => {
    const { call, sender, logs } = setup();
    sender.failWith = new Error('connect ECONNREFUSED 10.0.0.7:443\n    at secret.ts:1:1');
    const res = await call('POST', '/v1/messages', { body: MESSAGE });
    expect(res.status).toBe(500);
    expect(res.json).toEqual({ error: 'internal error' });
    expect(logs.at(-1)?.error).toBe('connect ECONNREFUSED 10.0.0.7:443');
  });
});

describe('Email API: GET /v1/messages/{id}', () => {
  it("answers the key's own message, 403 for another tenant's, 404 for none, 400 for a malformed id", async () => {
    const { call } = setup();
    const sent = await call('POST', '/v1/messages', { body: MESSAGE });
    const id = String(sent.json.messageId);
    const own = await call('GET', `/v1/messages/${id}`);
    expect(own.status).toBe(200);
    expect(own.json).toMatchObject({ messageId: id, tenantId: 'acme', status: 'sent', campaign: 'spring-2026' });
    const other = await call('GET', `/v1/messages/${id}`, { key: GLOBEX });
    expect(other.status).toBe(403);
    expectOneLineError(other, /this key cannot see that message/);
    expect(JSON.stringify(other.json)).not.toContain('acme');
    expect((await call('GET', '/v1/messages/0100019a-nope')).status).toBe(404);
    const malformed = await call('GET', `/v1/messages/${encodeURIComponent("x' OR 1=1")}`);
    expect(malformed.status).toBe(400);
    expect((await call('GET', '/v1/messages/%E0%A4%A')).status).toBe(400);
  });

  it('answers 405 for a wrong method and 404 for an unknown route', async () => {
    const { call } = setup();
    expect((await call('DELETE', '/v1/messages/0100019a-msg-1')).status).toBe(405);
    expect((await call('GET', '/v1/messages')).status).toBe(405);
    expect((await call('GET', '/v2/messages')).status).toBe(404);
    expect((await call('GET', '/v1/messages/a/b')).status).toBe(404);
  });
});

describe('Email API: batches', () => {
  const BATCH = {
    from: 'news@mail.acme.example',
    subject: 'Hello {{name}}',
    html: '<p>Hi {{name}}</p>',
    campaign: 'spring-2026',
    destinations: Array.from({ length: 120 }, (_, i) => ({ to: `r${i}@example.org`, replacements: { name: `R${i}` } })),
  };

  it('queues a job in chunks of 50, answers 202 with its id, and the job is readable by its tenant only', async () => {
    const { call, queue } = setup();
    const res = await call('POST', '/v1/batches', { body: BATCH });
    expect(res.status).toBe(202);
    const jobId = String(res.json.jobId);
    expect(res.headers.location).toBe(`/v1/batches/${jobId}`);
    expect(res.json).toMatchObject({ status: 'queued', destinations: 120, chunks: 3 });
    expect(queue.chunks.map((c) => c.destinations.length)).toEqual([50, 50, 20]);
    expect(queue.chunks.every((c) => c.tenantId === 'acme' && c.jobId === jobId)).toBe(true);
    expect(queue.chunks[2]?.destinations[0]).toEqual({ to: 'r100@example.org', replacements: { name: 'R100' } });
    const own = await call('GET', `/v1/batches/${jobId}`);
    expect(own.json).toMatchObject({ status: 'queued', destinations: 120, sent: 0, pending: 120, failures: [] });
    const other = await call('GET', `/v1/batches/${jobId}`, { key: GLOBEX });
    expect(other.status).toBe(403);
    expectOneLineError(other, /this key cannot see that batch/);
    expect((await call('GET', '/v1/batches/job-00000000-0000-4000-8000-999999999999')).status).toBe(404);
    expect((await call('GET', '/v1/batches/42')).status).toBe(400);
  });

  const bad: [string, unknown, RegExp][] = [
    ['no destinations', { ...BATCH, destinations: [] }, /^destinations: needs at least one destination$/],
    [
      'a bad destination address',
      { ...BATCH, destinations: [{ to: 'nope' }] },
      /^destinations\.0\.to: is not an email address$/,
    ],
    [
      'a destination with several recipients',
      { ...BATCH, destinations: [{ to: ['a@x.org', 'b@x.org'] }] },
      /^destinations\.0\.to: must be an email address$/,
    ],
    [
      'too many destinations',
      { ...BATCH, destinations: Array.from({ length: 10_001 }, (_, i) => ({ to: `r${i}@x.org` })) },
      /^destinations: has more than 10,000 entries$/,
    ],
    ['a bad campaign tag value', { ...BATCH, campaign: 'a:b' }, /^campaign: may contain only letters/],
    [
      'a non-string replacement',
      { ...BATCH, destinations: [{ to: 'a@x.org', replacements: { n: 1 } }] },
      /^destinations\.0\.replacements\.n: replacement values must be strings$/,
    ],
  ];
  for (const [what, body, pattern] of bad) {
    it(`answers 400 for ${what} and queues nothing`, async () => {
      const { call, queue, store } = setup();
      const res = await call('POST', '/v1/batches', { body });
      expect(res.status).toBe(400);
      expectOneLineError(res, pattern);
      expect(queue.chunks).toHaveLength(0);
      expect(store.jobs.size).toBe(0);
    });
  }

  it('answers 413 over 5 MiB', async () => {
    const { call, queue } = setup();
    const res = await call('POST', '/v1/batches', { body: { ...BATCH, html: 'x'.repeat(MAX_BATCH_BODY_BYTES) } });
    expect(res.status).toBe(413);
    expect(queue.chunks).toHaveLength(0);
  });

  it('answers 503 naming the job when SQS cannot take it', async () => {
    const { call, queue } = setup();
    queue.failWith = new Error('SQS refused 3 bulk chunks');
    const res = await call('POST', '/v1/batches', { body: BATCH });
    expect(res.status).toBe(503);
    expectOneLineError(res, /batch job-\S+ could not be fully queued \(SQS refused 3 bulk chunks\)/);
  });
});
