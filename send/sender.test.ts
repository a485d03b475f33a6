import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import { TenantPausedError } from '../enrich/reputation/errors';
import { InvalidMessageError, UnknownTenantError } from './errors';
import type { TenantProfile } from './ports';
import { MemoryRateLimiter } from './rate-limiter';
import { SesSender } from './sender';
import type { SuppressionList } from './suppression-list';

const ACME: TenantProfile = {
  tenantId: 'acme',
  status: 'active',
  statusReason: null,
  statusSince: '2026-11-01T00:00:00.000Z',
  policy: 'standard',
  configurationSet: 'acme-default',
  sesTenantName: 'acme',
  sendingDomains: ['acme.example'],
  createdAt: '2026-11-01T00:00:00.000Z',
};

interface Call {
  name: string;
  input: Record<string, unknown>;
}

/** A stand-in SES client (unit tests only): answers each call with the next scripted reply. */
function fakeSes(replies: ((input: Record<string, unknown>) => unknown)[]) {
  const calls: Call[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      calls.push({ name: command.constructor.name, input: command.input });
      const reply = replies.shift();
      if (!reply) throw new Error('no scripted reply');
      return reply(command.input);
    },
  };
  return { calls, client: client as unknown as SESv2Client };
}

function sesError(name: string, fault: 'client' | 'server' = 'client'): Error {
  return Object.assign(new Error(`${name} from SES`), { name, $fault: fault, $metadata: { httpStatusCode: 400 } });
}

function makeSender(
  ses: SESv2Client,
  opts: { profile?: TenantProfile | null; suppressed?: string[]; rate?: number } = {},
) {
  const sleeps: number[] = [];
  // A fake clock that moves only when someone sleeps: the limiter's waits are recorded, never slept.
  let clock = 0;
  const suppression: SuppressionList = {
    suppressed: async (_t, addresses) => new Set(addresses.filter((a) => opts.suppressed?.includes(a))),
  };
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    clock += ms;
  };
  const limiterSleep = async (ms: number) => {
    clock += ms;
  };
  const sender = new SesSender({
    ses,
    tenants: { getTenant: async () => (opts.profile === undefined ? ACME : opts.profile) },
    limiter: new MemoryRateLimiter(opts.rate ?? 1000, () => clock, limiterSleep),
    suppression,
    retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
    sleep,
    random: () => 0.5,
  });
  return { sender, sleeps };
}

/** What every send of acme names: its configuration set and SES tenant. */
const THROUGH_ACME = { ConfigurationSetName: 'acme-default', TenantName: 'acme' };
/** The message tags SES gets for acme: the tenant first, then `more` in order. */
const acmeTags = (more: Record<string, string>) => [
  { Name: 'tenant', Value: 'acme' },
  ...Object.entries(more).map(([Name, Value]) => ({ Name, Value })),
];

const message = { tenantId: 'acme', from: 'News <news@acme.example>', subject: 'Hi', text: 'hello' };

describe('SesSender.send', () => {
  it('sends with the configuration set, the SES tenant and the three tags', async () => {
    const ses = fakeSes([() => ({ MessageId: 'm-1' })]);
    const { sender } = makeSender(ses.client);
    const out = await sender.send({ ...message, to: ['a@x.test'], campaign: 'spring', messageKind: 'marketing' });
    expect(out).toEqual({ messageId: 'm-1', suppressed: [] });
    expect(ses.calls[0]?.name).toBe('SendEmailCommand');
    expect(ses.calls[0]?.input).toMatchObject({
      ...THROUGH_ACME,
      EmailTags: acmeTags({ campaign: 'spring', message_kind: 'marketing' }),
      Destination: { ToAddresses: ['a@x.test'] },
    });
  });

  it('refuses a paused tenant before calling SES, saying why and since when', async () => {
    const ses = fakeSes([]);
    const paused: TenantProfile = {
      ...ACME,
      status: 'paused',
      statusReason: 'bounce rate 8.00 % over 1000 sent',
      statusSince: '2026-11-24T10:00:00.000Z',
    };
    const { sender } = makeSender(ses.client, { profile: paused });
    const attempt = sender.send({ ...message, to: ['a@x.test'] });
    await expect(attempt).rejects.toThrow(TenantPausedError);
    await expect(sender.send({ ...message, to: ['a@x.test'] })).rejects.toThrow(
      'tenant acme is paused since 2026-11-24T10:00:00.000Z: bounce rate 8.00 % over 1000 sent; sending is refused until a resume',
    );
    expect(ses.calls).toHaveLength(0);
  });

  it('refuses a suspended tenant and an unknown one', async () => {
    const ses = fakeSes([]);
    const suspended = { ...ACME, status: 'suspended' as const, statusReason: 'contract ended' };
    await expect(
      makeSender(ses.client, { profile: suspended }).sender.sendBulk({
        ...message,
        destinations: [{ to: 'a@x.test' }],
      }),
    ).rejects.toThrow(/acme is suspended since .*: contract ended/);
    await expect(
      makeSender(ses.client, { profile: null }).sender.send({ ...message, to: ['a@x.test'] }),
    ).rejects.toThrow(UnknownTenantError);
    expect(ses.calls).toHaveLength(0);
  });

  it('refuses a bad tag value and a from address outside the sending domains before calling SES', async () => {
    const ses = fakeSes([]);
    const { sender } = makeSender(ses.client);
    await expect(sender.send({ ...message, to: ['a@x.test'], campaign: 'spring sale' })).rejects.toThrow(
      InvalidMessageError,
    );
    await expect(sender.send({ ...message, from: 'x@evil.example', to: ['a@x.test'] })).rejects.toThrow(
      'from domain evil.example is not a sending domain of tenant acme (acme.example)',
    );
    await expect(sender.send({ ...message, from: 'x@mail.acme.example', to: [] })).rejects.toThrow(
      'at least one recipient',
    );
    expect(ses.calls).toHaveLength(0);
  });

  it('skips suppressed recipients, and sends nothing when all are', async () => {
    const ses = fakeSes([() => ({ MessageId: 'm-2' })]);
    const { sender } = makeSender(ses.client, { suppressed: ['gone@x.test'] });
    expect(await sender.send({ ...message, to: ['a@x.test', 'gone@x.test'] })).toEqual({
      messageId: 'm-2',
      suppressed: ['gone@x.test'],
    });
    expect(ses.calls[0]?.input.Destination).toEqual({ ToAddresses: ['a@x.test'] });
    expect(await sender.send({ ...message, to: ['gone@x.test'] })).toEqual({
      messageId: '',
      suppressed: ['gone@x.test'],
    });
    expect(ses.calls).toHaveLength(1);
  });

  it('retries throttling with growing backoff, then gives up with the SES error', async () => {
    const throttled = () => {
      throw sesError('TooManyRequestsException');
    };
    const ses = fakeSes([throttled, throttled, () => ({ MessageId: 'm-3' })]);
    const { sender, sleeps } = makeSender(ses.client);
    expect((await sender.send({ ...message, to: ['a@x.test'] })).messageId).toBe('m-3');
    expect(sleeps).toEqual([50, 100]);

    const always = fakeSes([throttled, throttled, throttled, throttled, throttled]);
    await expect(makeSender(always.client).sender.send({ ...message, to: ['a@x.test'] })).rejects.toThrow(
      'TooManyRequestsException from SES',
    );
    expect(always.calls).toHaveLength(4);
  });

  it('does not retry SES refusing the message', async () => {
    const ses = fakeSes([
      () => {
        throw sesError('SendingPausedException');
      },
    ]);
    await expect(makeSender(ses.client).sender.send({ ...message, to: ['a@x.test'] })).rejects.toMatchObject({
      name: 'SendingPausedException',
    });
    expect(ses.calls).toHaveLength(1);
  });
});

describe('SesSender.sendBulk', () => {
  const destinations = (n: number) => Array.from({ length: n }, (_, i) => ({ to: `r${i}@x.test` }));
  const allOk = (input: Record<string, unknown>) => ({
    BulkEmailEntryResults: (input.BulkEmailEntries as unknown[]).map((_, i) => ({
      Status: 'SUCCESS',
      MessageId: `id-${i}`,
    })),
  });

  it('splits into calls of at most 50 entries, each with the tenant, set and tags', async () => {
    const ses = fakeSes([allOk, allOk, allOk]);
    const { sender } = makeSender(ses.client);
    const out = await sender.sendBulk({ ...message, campaign: 'c1', destinations: destinations(120) });
    expect(ses.calls.map((c) => (c.input.BulkEmailEntries as unknown[]).length)).toEqual([50, 50, 20]);
    expect(out).toHaveLength(120);
    expect(out.every((o) => o.status === 'sent')).toBe(true);
    expect(ses.calls[0]?.input).toMatchObject({
      ...THROUGH_ACME,
      DefaultEmailTags: acmeTags({ campaign: 'c1' }),
    });
  });

  it('sizes calls to a quarter of the rate limit when that is under 50', async () => {
    const ses = fakeSes(Array(9).fill(allOk));
    const { sender } = makeSender(ses.client, { rate: 14 });
    await sender.sendBulk({ ...message, destinations: destinations(30) });
    // 14 a second: three calls of 4, then the 2 the second has left; and so on.
    expect(ses.calls.map((c) => (c.input.BulkEmailEntries as unknown[]).length)).toEqual([4, 4, 4, 2, 4, 4, 4, 2, 2]);
  });

  it('maps per-entry statuses, retries only the throttled entries, and reports the suppressed', async () => {
    const ses = fakeSes([
      () => ({
        BulkEmailEntryResults: [
          { Status: 'SUCCESS', MessageId: 'ok-0' },
          { Status: 'ACCOUNT_THROTTLED', Error: 'Maximum sending rate exceeded.' },
          { Status: 'MESSAGE_REJECTED', Error: 'Illegal address.' },
          { Status: 'ACCOUNT_DAILY_QUOTA_EXCEEDED' },
        ],
      }),
      (input) => {
        expect((input.BulkEmailEntries as { Destination: { ToAddresses: string[] } }[])[0]?.Destination).toEqual({
          ToAddresses: ['r1@x.test'],
        });
        return { BulkEmailEntryResults: [{ Status: 'SUCCESS', MessageId: 'ok-1' }] };
      },
    ]);
    const { sender, sleeps } = makeSender(ses.client, { suppressed: ['gone@x.test'] });
    const out = await sender.sendBulk({
      ...message,
      destinations: [...destinations(2), { to: 'gone@x.test' }, { to: 'bad@' }, { to: 'r4@x.test' }],
    });
    expect(out).toEqual([
      { to: 'r0@x.test', status: 'sent', messageId: 'ok-0' },
      { to: 'r1@x.test', status: 'sent', messageId: 'ok-1' },
      { to: 'gone@x.test', status: 'suppressed' },
      { to: 'bad@', status: 'failed', error: 'MESSAGE_REJECTED', retryable: false },
      { to: 'r4@x.test', status: 'failed', error: 'ACCOUNT_DAILY_QUOTA_EXCEEDED', retryable: true },
    ]);
    expect(sleeps).toEqual([50]);
  });

  it('keeps earlier chunks sent when a later call fails for good', async () => {
    const ses = fakeSes([
      allOk,
      () => {
        throw sesError('SendingPausedException');
      },
    ]);
    const out = await makeSender(ses.client).sender.sendBulk({ ...message, destinations: destinations(60) });
    expect(out.slice(0, 50).every((o) => o.status === 'sent')).toBe(true);
    expect(out[55]).toEqual({ to: 'r55@x.test', status: 'failed', error: 'SendingPausedException', retryable: false });
  });

  it('marks entries still throttled after every attempt as retryable failures', async () => {
    const throttledAll = (input: Record<string, unknown>) => ({
      BulkEmailEntryResults: (input.BulkEmailEntries as unknown[]).map(() => ({ Status: 'ACCOUNT_THROTTLED' })),
    });
    const ses = fakeSes([throttledAll, throttledAll, throttledAll, throttledAll]);
    const out = await makeSender(ses.client).sender.sendBulk({ ...message, destinations: destinations(2) });
    expect(out).toEqual([
      { to: 'r0@x.test', status: 'failed', error: 'ACCOUNT_THROTTLED', retryable: true },
      { to: 'r1@x.test', status: 'failed', error: 'ACCOUNT_THROTTLED', retryable: true },
    ]);
    expect(ses.calls).toHaveLength(4);
  });
});
