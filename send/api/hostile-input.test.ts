import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../../dashboards/adapters/api-key-authenticator';
import { checkAddress, checkMailbox } from '../address';
import type { BulkSend, Sender, SendMessage, SendOutcome, TenantProfile } from '../ports';
import type { SendRateLimiter } from '../rate-limiter';
import { addressOf, assertFromDomain, SesSender } from '../sender';
import type { SuppressionList } from '../suppression-list';
import { MemorySendStore } from './memory-send-store';
import type { ChunkMessage } from './ports';
import { createEmailApiRouter } from './router';

// Rows 1-8 of the hostile-input probes: header injection through the From display name, the subject and its
// replacements, malformed addresses, and batches refused at submission as one message is.

const KEY = 'sfk_acme_0123456789abcdef';

function profile(tenantId: string, domain: string, status: TenantProfile['status'] = 'active'): TenantProfile {
  return {
    tenantId,
    status,
    statusReason: status === 'active' ? null : 'complaints from a purchased list',
    statusSince: status === 'active' ? null : '2026-11-25T09:00:00.000Z',
    policy: 'standard',
    configurationSet: `cs-${tenantId}`,
    sesTenantName: tenantId,
    sendingDomains: [domain],
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

/** The real sender's checks (gate, from domain) over in-memory profiles; what would reach SES is recorded. */
function setup(status: TenantProfile['status'] = 'active') {
  const profiles = new Map([
    ['acme', profile('acme', 'mail.acme-example.com', status)],
    ['globex', profile('globex', 'mail.globex-example.com')],
  ]);
  const real = new SesSender({
    ses: {} as SESv2Client,
    tenants: { getTenant: async (id) => profiles.get(id) ?? null },
    limiter: {} as SendRateLimiter,
    suppression: {} as SuppressionList,
  });
  const sent: SendMessage[] = [];
  const sender: Sender = {
    async send(m: SendMessage): Promise<SendOutcome> {
      await real.assertMaySend(m.tenantId, m.from);
      sent.push(m);
      return { messageId: `0100019a-msg-${sent.length}`, suppressed: [] };
    },
    async sendBulk(_job: BulkSend): Promise<never> {
      throw new Error('not used by the API');
    },
    assertMaySend: (tenantId, from) => real.assertMaySend(tenantId, from),
  };
  const queued: ChunkMessage[] = [];
  const store = new MemorySendStore();
  const handle = createEmailApiRouter({
    lookupKey: async (h) => (h === hashApiKey(KEY) ? { tenantId: 'acme', keyId: 'key-acme' } : null),
    sender,
    messages: store,
    jobs: store,
    queue: { enqueue: async (chunks) => void queued.push(...chunks) },
  });
  const post = async (path: string, body: unknown) => {
    const res = await handle({
      method: 'POST',
      path,
      query: {},
      headers: { 'x-api-key': KEY },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: JSON.parse(res.body) as Record<string, unknown> };
  };
  return { post, sent, queued, store };
}

const MESSAGE = { from: 'news@mail.acme-example.com', to: ['reader@example.org'], subject: 'Hello', text: 'Hi' };
const BATCH = {
  from: 'news@mail.acme-example.com',
  subject: 'Hi {{n}}',
  text: 'Hello {{n}}',
  destinations: [{ to: 'a@example.org', replacements: { n: 'Ann' } }],
};

describe('hostile input: POST /v1/messages (rows 1, 2, 4, 5, 8)', () => {
  const refused: [string, string, Record<string, unknown>, RegExp][] = [
    [
      '1',
      'a CRLF and a Bcc header in the display name',
      { from: 'Evil\r\nBcc: v@evil.org <news@mail.acme-example.com>' },
      /^from: must be one line$/,
    ],
    ['2', 'a CRLF after the address', { from: 'A <news@mail.acme-example.com>\r\n' }, /^from: must be one line$/],
    ['1', 'a bare LF in the display name', { from: 'A\nB <news@mail.acme-example.com>' }, /^from: must be one line$/],
    ['4', 'a domain of hyphens', { to: ['a@-.-'] }, /^to\.0: is not an email address$/],
    ['4', 'an empty domain label', { to: ['a@example..org'] }, /^to\.0: is not an email address$/],
    ['4', 'a NUL in the local part', { to: ['a\u0000b@example.org'] }, /^to\.0: is not an email address/],
    ['4', 'a trailing dot in the local part', { to: ['a.@example.org'] }, /^to\.0: is not an email address$/],
    ['4', 'a label over 63 characters', { to: [`a@${'x'.repeat(64)}.org`] }, /^to\.0: is not an email address$/],
    ['4', 'a non-ASCII local part (SES has no SMTPUTF8)', { to: ['jürgen@example.org'] }, /^to\.0: must have an ASCII/],
    ['5', 'a NUL in the subject', { subject: 'Hi\u0000there' }, /^subject: must not hold control characters$/],
    ['5', 'a lone surrogate in the subject', { subject: 'Hi \ud800' }, /^subject: must be valid Unicode/],
    ['5', 'a DEL in the subject', { subject: 'Hi\u007f' }, /^subject: must not hold control characters$/],
    [
      '5',
      'a lone surrogate in the display name',
      { from: 'A\udc00 <news@mail.acme-example.com>' },
      /^from: must be valid Unicode/,
    ],
    [
      '8',
      'two angle addresses (the format check read the last, the domain check the first)',
      { from: 'A <news@mail.acme-example.com> <news@mail.globex-example.com>' },
      /^from: is not an email address$/,
    ],
    [
      '8',
      'the other order',
      { from: 'A <news@mail.globex-example.com> <news@mail.acme-example.com>' },
      /^from: is not an email address$/,
    ],
  ];
  for (const [row, what, patch, error] of refused) {
    it(`row ${row}: answers 400 for ${what}, and sends nothing`, async () => {
      const { post, sent } = setup();
      const res = await post('/v1/messages', { ...MESSAGE, ...patch });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatch(error);
      expect(sent).toHaveLength(0);
    });
  }

  it('sends valid forms as SES takes them: quoted and Unicode display names, an IDN domain in Punycode', async () => {
    const { post, sent } = setup();
    const ok = await post('/v1/messages', {
      ...MESSAGE,
      from: '"Acme, Inc." <news@mail.acme-example.com>',
      to: ['Info@Bücher.example', "o'brien+tag@example.org"],
    });
    expect(ok.status).toBe(200);
    expect(sent[0]?.from).toBe('"Acme, Inc." <news@mail.acme-example.com>');
    expect(sent[0]?.to).toEqual(['Info@xn--bcher-kva.example', "o'brien+tag@example.org"]);
    const unicode = await post('/v1/messages', { ...MESSAGE, from: 'Zoë Café <news@mail.acme-example.com>' });
    expect(unicode.status).toBe(200);
    expect(sent[1]?.from).toBe(
      `=?UTF-8?B?${Buffer.from('Zoë Café').toString('base64')}?= <news@mail.acme-example.com>`,
    );
  });

  it("row 8's address is read by the validating parser: a quoted name holding <…> does not move the domain check", () => {
    const from = '"x <news@mail.acme-example.com>" <news@mail.globex-example.com>';
    expect(addressOf(from)).toBe('news@mail.globex-example.com');
    expect(() => assertFromDomain(profile('acme', 'mail.acme-example.com'), from)).toThrow(
      /from domain mail.globex-example.com is not a sending domain of tenant acme/,
    );
  });
});

describe('hostile input: POST /v1/batches (rows 3, 6, 7)', () => {
  it('row 3: answers 400 for a replacement used in the subject that holds CRLF, and queues nothing', async () => {
    const { post, queued, store } = setup();
    const res = await post('/v1/batches', {
      ...BATCH,
      destinations: [
        { to: 'a@example.org', replacements: { n: 'Ann' } },
        { to: 'b@example.org', replacements: { n: 'x\r\nBcc: victim@evil.org' } },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('destinations.1.replacements.n: is used in the subject and must be one line');
    expect(queued).toHaveLength(0);
    expect(store.jobs.size).toBe(0);
  });

  it('row 3: the rule follows the subject: triple mustaches and spaces too; a multi-line value for the body only is fine', async () => {
    const { post } = setup();
    const triple = await post('/v1/batches', {
      ...BATCH,
      subject: 'Hi {{{ n }}}',
      destinations: [{ to: 'a@example.org', replacements: { n: 'x\u0000y' } }],
    });
    expect(triple.status).toBe(400);
    expect(triple.json.error).toMatch(/replacements\.n: is used in the subject and must not hold control characters/);
    const body = await post('/v1/batches', {
      ...BATCH,
      text: 'Hello {{n}}\n{{address}}',
      destinations: [{ to: 'a@example.org', replacements: { n: 'Ann', address: '1 Main St\r\nSpringfield' } }],
    });
    expect(body.status).toBe(202);
  });

  it('row 6: answers 409 with why and since when for a paused tenant, as /v1/messages does, and queues nothing', async () => {
    const { post, queued, store } = setup('paused');
    const res = await post('/v1/batches', BATCH);
    expect(res.status).toBe(409);
    expect(res.json.error).toBe(
      'tenant acme is paused since 2026-11-25T09:00:00.000Z: complaints from a purchased list; sending is refused until a resume',
    );
    expect((await post('/v1/messages', MESSAGE)).json).toEqual(res.json);
    expect(queued).toHaveLength(0);
    expect(store.jobs.size).toBe(0);
  });

  it("row 7: answers 400 for another tenant's from domain, as /v1/messages does, and queues nothing", async () => {
    const { post, queued, store } = setup();
    const res = await post('/v1/batches', { ...BATCH, from: 'news@mail.globex-example.com' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/^from domain mail.globex-example.com is not a sending domain of tenant acme/);
    expect((await post('/v1/messages', { ...MESSAGE, from: 'news@mail.globex-example.com' })).json).toEqual(res.json);
    expect(queued).toHaveLength(0);
    expect(store.jobs.size).toBe(0);
  });

  it('row 4: a batch destination is checked by the same rules', async () => {
    const { post } = setup();
    const res = await post('/v1/batches', { ...BATCH, destinations: [{ to: 'a@example..org' }] });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('destinations.0.to: is not an email address');
  });
});

describe('the address rules (send/address.ts)', () => {
  it('answers the normalised address, or a reason', () => {
    expect(checkAddress('x@ＥＸＡＭＰＬＥ.org')).toEqual({ ok: true, address: 'x@example.org', domain: 'example.org' });
    expect(checkAddress('x@[127.0.0.1]')).toMatchObject({ ok: false });
    expect(checkAddress('x@localhost')).toMatchObject({ ok: false });
    expect(checkMailbox('news@mail.acme-example.com')).toMatchObject({ ok: true, name: null });
    expect(checkMailbox('Group: a@b.org;')).toMatchObject({ ok: false });
  });
});
