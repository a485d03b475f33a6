import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import { createUnsubscribeRouter } from './api/unsubscribe-router';
import { MemoryRateLimiter } from './rate-limiter';
import { SesSender } from './sender';
import { type UnsubscribeDeps, unsubscribe } from './unsubscribe';
import { listUnsubscribeHeaders, openUnsubscribeToken, sealUnsubscribeToken } from './unsubscribe-token';

const SECRET = 'a-secret-of-at-least-thirty-two-characters';
const NOW = Date.parse('2026-12-07T12:00:00Z');
const CLAIM = { tenantId: 'acme', recipient: 'reader@example.org', campaign: 'spring', expiresAt: NOW / 1000 + 3600 };
const CONFIG = { url: 'https://api.example.com/v1/unsubscribe', secret: SECRET, mailto: null, ttlDays: 60 };

describe('unsubscribe tokens', () => {
  it('open to the claim they were sealed with; the address is not readable in the token', () => {
    const token = sealUnsubscribeToken(CLAIM, SECRET);
    expect(openUnsubscribeToken(token, SECRET, NOW)).toEqual(CLAIM);
    expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain('reader');
  });

  it('refuse a changed byte, another secret, garbage (invalid) and a past expiry (expired), in one line', () => {
    const token = sealUnsubscribeToken(CLAIM, SECRET);
    const raw = Buffer.from(token, 'base64url');
    raw[20] = (raw[20] ?? 0) ^ 1;
    expect(() => openUnsubscribeToken(raw.toString('base64url'), SECRET, NOW)).toThrow(
      /^the unsubscribe link is not valid$/,
    );
    expect(() => openUnsubscribeToken(token, `${SECRET}x`, NOW)).toThrow('the unsubscribe link is not valid');
    expect(() => openUnsubscribeToken('not a token', SECRET, NOW)).toThrow('the unsubscribe link is not valid');
    expect(() => openUnsubscribeToken(token, SECRET, NOW + 3600_000)).toThrow(/^the unsubscribe link has expired$/);
  });

  it('headers: List-Unsubscribe with the HTTPS link (and mailto when configured), List-Unsubscribe-Post', () => {
    const h = listUnsubscribeHeaders({ ...CONFIG, mailto: 'unsub@acme.example' }, CLAIM, NOW);
    expect(h.map((x) => x.Name)).toEqual(['List-Unsubscribe', 'List-Unsubscribe-Post']);
    expect(h[0]!.Value).toMatch(
      /^<https:\/\/api\.example\.com\/v1\/unsubscribe\?token=[\w-]+>, <mailto:unsub@acme\.example\?subject=unsubscribe%20[\w-]+>$/,
    );
    expect(h[1]!.Value).toBe('List-Unsubscribe=One-Click');
    // SES: a header value is at most 995 characters.
    expect(h[0]!.Value.length).toBeLessThanOrEqual(995);
    const token = new URL(/<([^>]+)>/.exec(h[0]!.Value)![1]!).searchParams.get('token')!;
    expect(openUnsubscribeToken(token, SECRET, NOW).expiresAt).toBe(NOW / 1000 + 60 * 86_400);
  });
});

describe('the one-click use case and endpoint', () => {
  function deps(listed: Map<string, Date>, published: Record<string, unknown>[]): UnsubscribeDeps {
    return {
      secret: SECRET,
      now: () => NOW,
      tenants: {
        getTenant: async (id) =>
          id === 'acme'
            ? {
                tenantId: 'acme',
                status: 'active',
                statusReason: null,
                statusSince: null,
                policy: 'standard',
                configurationSet: 'acme-events',
                sesTenantName: 'acme-ses',
                sendingDomains: ['acme.example'],
                createdAt: '2026-01-01T00:00:00Z',
              }
            : null,
      },
      suppression: {
        listedAt: async (t, a) => listed.get(`${t}/${a}`) ?? null,
        suppress: async (t, a) => {
          listed.set(`${t}/${a}`, new Date(NOW));
        },
      },
      events: { publish: async (r) => void published.push(r) },
    };
  }

  it('suppresses on the tenant list once, and publishes the same record on a repeat (one event id)', async () => {
    const listed = new Map<string, Date>();
    const published: Record<string, unknown>[] = [];
    const token = sealUnsubscribeToken(CLAIM, SECRET);
    expect(await unsubscribe(deps(listed, published), token)).toEqual({ tenantId: 'acme', status: 'unsubscribed' });
    expect([...listed.keys()]).toEqual(['acme-ses/reader@example.org']);
    expect(await unsubscribe(deps(listed, published), token)).toEqual({ tenantId: 'acme', status: 'already' });
    expect(published).toHaveLength(2);
    expect(published[0]).toEqual(published[1]);
    expect(published[0]).toMatchObject({
      eventType: 'Subscription',
      mail: { destination: ['reader@example.org'], tags: { tenant: ['acme'], campaign: ['spring'] } },
      subscription: { source: 'OneClickUnsubscribe', newTopicPreferences: { unsubscribeAll: true } },
    });
  });

  it('answers 200 one line, 400 / 410 one line for a bad or expired token, 503 when SES fails', async () => {
    const route = (fn: UnsubscribeDeps['suppression']['suppress'] | null = null) => {
      const d = deps(new Map(), []);
      if (fn) d.suppression.suppress = fn;
      return createUnsubscribeRouter({ unsubscribe: (t) => unsubscribe(d, t) });
    };
    const post = (token: string, r = route()) =>
      r({ method: 'POST', path: '/v1/unsubscribe', query: { token }, headers: {}, body: 'List-Unsubscribe=One-Click' });
    const ok = await post(sealUnsubscribeToken(CLAIM, SECRET));
    expect([ok.status, ok.body]).toEqual([200, 'unsubscribed\n']);
    const bad = await post('x'.repeat(60));
    expect([bad.status, bad.body]).toEqual([400, 'the unsubscribe link is not valid\n']);
    const expired = await post(sealUnsubscribeToken({ ...CLAIM, expiresAt: NOW / 1000 - 1 }, SECRET));
    expect([expired.status, expired.body]).toEqual([410, 'the unsubscribe link has expired\n']);
    const failing = await post(
      sealUnsubscribeToken(CLAIM, SECRET),
      route(async () => {
        throw new Error('TooManyRequestsException: rate exceeded at https://email.us-east-1.amazonaws.com');
      }),
    );
    expect([failing.status, failing.body]).toEqual([503, 'the unsubscribe could not be recorded now; try again\n']);
  });
});

describe('the sender adds the headers to marketing mail', () => {
  it('a bulk marketing send gives each entry its own List-Unsubscribe (replacement headers)', async () => {
    const calls: Record<string, any>[] = [];
    const ses = {
      async send(command: { input: Record<string, unknown> }) {
        calls.push(command.input);
        return {
          BulkEmailEntryResults: (command.input.BulkEmailEntries as unknown[]).map((_, i) => ({
            Status: 'SUCCESS',
            MessageId: `m${i}`,
          })),
        };
      },
    } as unknown as SESv2Client;
    const sender = new SesSender({
      ses,
      tenants: {
        getTenant: async () => ({
          tenantId: 'acme',
          status: 'active',
          statusReason: null,
          statusSince: null,
          policy: 'standard',
          configurationSet: 'acme-default',
          sesTenantName: 'acme',
          sendingDomains: ['acme.example'],
          createdAt: '2026-01-01T00:00:00Z',
        }),
      },
      limiter: new MemoryRateLimiter(
        1000,
        () => 0,
        async () => {},
      ),
      suppression: { suppressed: async () => new Set() },
      unsubscribe: CONFIG,
      now: () => NOW,
    });
    const out = await sender.sendBulk({
      tenantId: 'acme',
      from: 'news@acme.example',
      subject: 'Hi',
      text: 'hello',
      campaign: 'spring',
      messageKind: 'marketing',
      destinations: [{ to: 'a@example.org' }, { to: 'b@example.org' }],
    });
    expect(out.map((o) => o.status)).toEqual(['sent', 'sent']);
    const entries = calls[0]!.BulkEmailEntries as { ReplacementHeaders: { Name: string; Value: string }[] }[];
    const recipients = entries.map((e) => {
      const link = /<([^>]+)>/.exec(e.ReplacementHeaders[0]!.Value)![1]!;
      return openUnsubscribeToken(new URL(link).searchParams.get('token')!, SECRET, NOW).recipient;
    });
    expect(recipients).toEqual(['a@example.org', 'b@example.org']);
    expect(entries[0]!.ReplacementHeaders[1]).toEqual({
      Name: 'List-Unsubscribe-Post',
      Value: 'List-Unsubscribe=One-Click',
    });
  });
});
