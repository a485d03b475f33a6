import { spawnSync } from 'node:child_process';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import {
  GetConfigurationSetEventDestinationsCommand,
  GetReputationEntityCommand,
  ListTenantResourcesCommand,
  PutConfigurationSetSendingOptionsCommand,
  PutSuppressedDestinationCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReputationDecision } from '../enrich/reputation/engine';
import { TenantPausedError } from '../enrich/reputation/errors';
import type { NormalisedEvent } from '../ingest/normalise';
import { hashApiKey } from '../lib/http/api-key';
import { createTableInput } from '../lib/table-design';
import { MemoryRowSink } from '../local/firehose/row-sink';
import { type LocalFirehose, startLocalFirehose } from '../local/firehose/server';
import { resolveSinks, type SesSimulatorServer, startSesSimulator } from '../local/ses-simulator';
import { createLocalClients, LOCAL_CREDENTIALS, LOCAL_REGION, type LocalClients } from '../local/stack/clients';
import { startDynamoDbLocal } from '../local/stack/dynamodb-local';
import type { RunningStandIn } from '../local/stack/stand-in';
import { DynamoDbTenantRepository } from '../tenants/dynamodb-tenant-repository';
import { onboardTenant } from './onboarding';
import { AccountSendRate, DynamoDbRateLimiter, MemoryRateLimiter, type SendRateLimiter } from './rate-limiter';
import { TenantRegistry } from './registry';
import { SesSender } from './sender';
import { NO_SUPPRESSION, SesSuppressionList, type SuppressionList } from './suppression-list';

const hasJava = !spawnSync('java', ['-version'], { stdio: 'ignore' }).error;
const TABLE = 'sesflow-send-test';
const STREAM = 'sesflow-events';
/** The simulator's MaxSendRate (recipients per second) for this file. */
const MAX_SEND_RATE = 20;

let ddb: RunningStandIn;
let sim: SesSimulatorServer;
let firehose: LocalFirehose;
let firehoseClient: FirehoseClient;
let clients: LocalClients;
let ses: SESv2Client;
let registry: TenantRegistry;
const rows = new MemoryRowSink();

/** An SES client as the sender wants it: no SDK retries (the sender retries through the limiter). */
const senderSes = () =>
  new SESv2Client({ endpoint: sim.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
const extraClients: SESv2Client[] = [];

function makeSender(
  opts: { limiter?: SendRateLimiter; suppression?: SuppressionList; client?: SESv2Client; backoffs?: number[] } = {},
) {
  const client = opts.client ?? senderSes();
  extraClients.push(client);
  return new SesSender({
    sleep: async (ms) => {
      opts.backoffs?.push(ms);
      await new Promise((r) => setTimeout(r, ms));
    },
    ses: client,
    tenants: registry,
    limiter: opts.limiter ?? new MemoryRateLimiter(MAX_SEND_RATE),
    suppression: opts.suppression ?? NO_SUPPRESSION,
    retry: { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 1_000 },
  });
}

async function onboard(tenantId: string, domain = `${tenantId}.example`) {
  return onboardTenant({ ses, registry }, { tenantId, sendingDomains: [domain], deliveryStream: STREAM });
}

/** Waits until the simulator's events went through the local Firehose's transform into the row sink. */
async function deliveredRows(): Promise<NormalisedEvent[]> {
  await sim.simulator.flushEvents();
  await firehose.flush();
  return rows.rows;
}

beforeAll(async () => {
  if (!hasJava) return;
  [ddb, firehose] = await Promise.all([
    startDynamoDbLocal(),
    startLocalFirehose({ port: 0, sinkFor: () => rows, streams: [STREAM], bufferIntervalMs: 60_000 }),
  ]);
  firehoseClient = new FirehoseClient({
    endpoint: firehose.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  sim = await startSesSimulator({
    port: 0,
    seed: 7,
    maxSendRate: MAX_SEND_RATE,
    timeFactor: 0.0001,
    sinks: resolveSinks({ firehose: firehoseClient }),
  });
  clients = createLocalClients({ dynamodb: ddb.endpoint, ses: sim.endpoint });
  ses = clients.ses!;
  await clients.dynamodb!.send(new CreateTableCommand(createTableInput(TABLE)));
  registry = new TenantRegistry(clients.documentClient!, TABLE);
});

afterAll(async () => {
  for (const c of extraClients) c.destroy();
  clients?.destroy();
  firehoseClient?.destroy();
  await sim?.close();
  await firehose?.close();
  await ddb?.stop();
});

/** Onboards acme with the strict policy and `sendingDomains`, its events going to the test delivery stream. */
/** What an onboarding run created: everything (with its associations) or, on a second run, nothing. */
const createdAll = (yes: boolean, associations: number) => ({
  sesTenant: yes,
  configurationSet: yes,
  eventDestination: yes,
  associations,
  profile: yes,
});

const onboardAcme = (sendingDomains: string[]) =>
  onboardTenant({ ses, registry }, { tenantId: 'acme', sendingDomains, policy: 'strict', deliveryStream: STREAM });

describe.skipIf(!hasJava)('send core on DynamoDB Local, the SES simulator and the local Firehose', () => {
  it('onboards a tenant, and a second run changes nothing', async () => {
    const first = await onboardAcme(['Acme.example', 'mail.acme.example']);
    expect(first.created).toEqual(createdAll(true, 3));
    expect(first.profile).toMatchObject({
      tenantId: 'acme',
      status: 'active',
      policy: 'strict',
      configurationSet: 'acme-default',
      sesTenantName: 'acme',
      sendingDomains: ['acme.example', 'mail.acme.example'],
    });

    const second = await onboardAcme(['acme.example', 'mail.acme.example']);
    expect(second.created).toEqual(createdAll(false, 0));
    expect(second.profile).toEqual(first.profile);
    expect(second.tenantArn).toBe(first.tenantArn);

    const res = await ses.send(new ListTenantResourcesCommand({ TenantName: 'acme' }));
    expect(res.TenantResources?.map((r) => r.ResourceArn?.split(':').pop()).sort()).toEqual([
      'configuration-set/acme-default',
      'identity/acme.example',
      'identity/mail.acme.example',
    ]);
    const dest = await ses.send(
      new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'acme-default' }),
    );
    expect(dest.EventDestinations).toHaveLength(1);
    expect(dest.EventDestinations?.[0]?.MatchingEventTypes).toHaveLength(10);
    expect(dest.EventDestinations?.[0]?.KinesisFirehoseDestination?.DeliveryStreamArn).toMatch(
      /^arn:aws:firehose:us-east-1:\d{12}:deliverystream\/sesflow-events$/,
    );
    const entity = await ses.send(
      new GetReputationEntityCommand({ ReputationEntityType: 'RESOURCE', ReputationEntityReference: first.tenantArn }),
    );
    expect(entity.ReputationEntity?.ReputationManagementPolicy).toBe(
      'arn:aws:ses:us-east-1:aws:reputation-policy/strict',
    );
    expect((await registry.listAudit('acme')).filter((a) => a.action === 'onboard')).toHaveLength(1);
    expect((await registry.listTenants()).map((t) => t.tenantId)).toContain('acme');
  });

  it('onboards with the EventBridge and search destinations too, idempotently', async () => {
    const input = {
      tenantId: 'initech',
      sendingDomains: ['initech.example'],
      deliveryStream: STREAM,
      eventBus: 'default',
      searchStream: 'sesflow-search',
    };
    expect((await onboardTenant({ ses, registry }, input)).created.eventDestination).toBe(true);
    expect((await onboardTenant({ ses, registry }, input)).created.eventDestination).toBe(false);
    const dest = await ses.send(
      new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'initech-default' }),
    );
    const byName = new Map(dest.EventDestinations?.map((d) => [d.Name, d]));
    expect([...byName.keys()].sort()).toEqual(['lake-firehose', 'live-eventbridge', 'search-firehose']);
    for (const d of byName.values()) {
      expect(d.Enabled).toBe(true);
      expect(d.MatchingEventTypes).toHaveLength(10);
    }
    expect(byName.get('live-eventbridge')?.EventBridgeDestination?.EventBusArn).toMatch(
      /^arn:aws:events:us-east-1:\d{12}:event-bus\/default$/,
    );
    expect(byName.get('search-firehose')?.KinesisFirehoseDestination?.DeliveryStreamArn).toMatch(
      /:deliverystream\/sesflow-search$/,
    );
    await expect(
      onboardTenant(
        { ses, registry },
        { ...input, tenantId: 'x2', eventBus: 'arn:aws:events:us-east-1:123456789012:event-bus/mine' },
      ),
    ).rejects.toThrow('is not the default bus');
    expect(await registry.getTenant('x2')).toBeNull();
  });

  it('refuses a bad policy or domain before touching SES', async () => {
    await expect(onboard('bad tenant')).rejects.toThrow('tenant id "bad tenant" is not valid');
    await expect(
      onboardTenant({ ses, registry }, { tenantId: 'x1', sendingDomains: ['not a domain'], deliveryStream: STREAM }),
    ).rejects.toThrow('sending domain "not a domain" is not a domain name');
    await expect(
      onboardTenant(
        { ses, registry },
        { tenantId: 'x1', sendingDomains: ['x1.example'], policy: 'lax', deliveryStream: STREAM },
      ),
    ).rejects.toThrow('unknown reputation policy lax (known: standard, strict)');
    expect(await registry.getTenant('x1')).toBeNull();
  });

  it('issues keys stored only as hashes, finds them by hash, revokes and rotates them', async () => {
    await onboard('keyco');
    const issued = await registry.issueKey('keyco', { label: 'ci' });
    expect(issued.key).toMatch(/^sfk_[A-Za-z0-9_-]{43}$/);
    expect(await registry.lookupKey(hashApiKey(issued.key))).toEqual({ tenantId: 'keyco', keyId: issued.keyId });
    expect(await registry.lookupKey(hashApiKey(`${issued.key}x`))).toBeNull();

    const scan = await clients.documentClient!.send(new ScanCommand({ TableName: TABLE }));
    const dump = JSON.stringify(scan.Items);
    expect(dump).not.toContain(issued.key);
    expect(dump).toContain(hashApiKey(issued.key));

    const rotated = await registry.rotateKey('keyco', issued.keyId);
    expect(await registry.lookupKey(hashApiKey(issued.key))).toBeNull();
    expect(await registry.lookupKey(hashApiKey(rotated.key))).toEqual({ tenantId: 'keyco', keyId: rotated.keyId });
    const keys = await registry.listKeys('keyco');
    expect(keys.map((k) => [k.keyId, k.revokedAt !== null, k.label])).toEqual([
      [issued.keyId, true, 'ci'],
      [rotated.keyId, false, 'ci'],
    ]);
    expect(JSON.stringify(keys)).not.toContain(rotated.key);
    await registry.revokeKey('keyco', rotated.keyId);
    expect(await registry.lookupKey(hashApiKey(rotated.key))).toBeNull();
    await expect(registry.revokeKey('keyco', rotated.keyId)).rejects.toThrow(/was revoked at/);
    await expect(registry.issueKey('nobody')).rejects.toThrow('tenant nobody is not registered');
    expect((await registry.listAudit('keyco')).map((a) => a.action)).toEqual([
      'onboard',
      'key-issue',
      'key-issue',
      'key-revoke',
      'key-revoke',
    ]);
  });

  it('sends one message whose events reach the Firehose with tenant, campaign and message kind', async () => {
    await onboard('globex');
    const sender = makeSender();
    const out = await sender.send({
      tenantId: 'globex',
      from: 'News <news@globex.example>',
      to: ['success@simulator.amazonses.com'],
      subject: 'Welcome',
      html: '<p>hello</p>',
      campaign: 'welcome-1',
      messageKind: 'transactional',
    });
    expect(out.suppressed).toEqual([]);
    expect(out.messageId).not.toBe('');
    const mine = (await deliveredRows()).filter((r) => r.message_id === out.messageId);
    expect(mine.map((r) => r.event_type).sort()).toEqual(['delivery', 'send']);
    for (const r of mine) {
      expect(r).toMatchObject({
        tenant_id: 'globex',
        campaign_id: 'welcome-1',
        message_kind: 'transactional',
        configuration_set: 'globex-default',
      });
    }
    const send = mine.find((r) => r.event_type === 'send')!;
    expect(Math.abs(new Date(send.event_time).getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('bulk send: per-entry outcomes for sent, rejected, suppressed and throttled-then-retried entries', async () => {
    await onboard('initech');
    await ses.send(new PutSuppressedDestinationCommand({ EmailAddress: 'gone@initech-list.test', Reason: 'BOUNCE' }));
    // A limiter far above the simulator's MaxSendRate: SES throttles entries, the sender retries them.
    const backoffs: number[] = [];
    const sender = makeSender({
      limiter: new MemoryRateLimiter(1000),
      suppression: new SesSuppressionList(ses, 0),
      backoffs,
    });
    await new Promise((r) => setTimeout(r, 1100)); // the simulator's bucket refills after the earlier tests
    const destinations = [
      ...Array.from({ length: MAX_SEND_RATE + 10 }, (_, i) => ({ to: `user${i}@initech-list.test` })),
      { to: 'not-an-address' },
      { to: 'gone@initech-list.test' },
    ];
    const out = await sender.sendBulk({
      tenantId: 'initech',
      from: 'tps@initech.example',
      subject: 'Reports',
      text: 'Hello {{name}}',
      campaign: 'tps',
      destinations,
    });
    expect(out).toHaveLength(destinations.length);
    const byStatus = (s: string) => out.filter((o) => o.status === s);
    expect(byStatus('sent')).toHaveLength(MAX_SEND_RATE + 10);
    expect(out.find((o) => o.to === 'not-an-address')).toEqual({
      to: 'not-an-address',
      status: 'failed',
      error: 'MESSAGE_REJECTED',
      retryable: false,
    });
    expect(out.find((o) => o.to === 'gone@initech-list.test')).toEqual({
      to: 'gone@initech-list.test',
      status: 'suppressed',
    });
    expect(new Set(byStatus('sent').map((o) => o.messageId)).size).toBe(MAX_SEND_RATE + 10);
    // SES throttled the entries over its MaxSendRate, and the sender came back for them after a backoff.
    expect(backoffs.length).toBeGreaterThan(0);

    const sendRows = (await deliveredRows()).filter((r) => r.event_type === 'send' && r.tenant_id === 'initech');
    expect(sendRows).toHaveLength(MAX_SEND_RATE + 10);
    expect(sendRows.every((r) => r.campaign_id === 'tps')).toBe(true);
    expect(sendRows.some((r) => r.recipient === 'gone@initech-list.test')).toBe(false);
  });

  it('a paused configuration set: entries fail with SES status, nothing is thrown', async () => {
    await onboard('pausedset');
    await ses.send(
      new PutConfigurationSetSendingOptionsCommand({
        ConfigurationSetName: 'pausedset-default',
        SendingEnabled: false,
      }),
    );
    const out = await makeSender().sendBulk({
      tenantId: 'pausedset',
      from: 'a@pausedset.example',
      subject: 's',
      text: 't',
      destinations: [{ to: 'a@b.test' }, { to: 'c@d.test' }],
    });
    expect(out.map((o) => [o.status, o.error, o.retryable])).toEqual([
      ['failed', 'CONFIGURATION_SET_SENDING_PAUSED', false],
      ['failed', 'CONFIGURATION_SET_SENDING_PAUSED', false],
    ]);
  });

  it('refuses a tenant the reputation path paused, before SES, saying why and since when', async () => {
    await onboard('hooli');
    const status = new DynamoDbTenantRepository(clients.documentClient!, TABLE);
    const decision = {
      state: 'paused',
      reasons: ['bounce rate 8.00 % > 5 %'],
      evidence: {},
    } as unknown as ReputationDecision;
    const { since } = await status.markPaused(
      'hooli',
      'bounce rate 8.00 % over 1000 sent',
      decision,
      new Date('2026-11-24T10:00:00Z'),
    );
    expect(since).toBe('2026-11-24T10:00:00.000Z');
    const accepted = sim.simulator.stats.accepted;
    const sender = makeSender();
    const attempt = sender.send({
      tenantId: 'hooli',
      from: 'x@hooli.example',
      to: ['a@b.test'],
      subject: 's',
      text: 't',
    });
    await expect(attempt).rejects.toBeInstanceOf(TenantPausedError);
    await expect(
      sender.sendBulk({
        tenantId: 'hooli',
        from: 'x@hooli.example',
        subject: 's',
        text: 't',
        destinations: [{ to: 'a@b.test' }],
      }),
    ).rejects.toThrow(
      'tenant hooli is paused since 2026-11-24T10:00:00.000Z: bounce rate 8.00 % over 1000 sent; sending is refused until a resume',
    );
    expect(sim.simulator.stats.accepted).toBe(accepted);
    // Onboarding again keeps the pause: the registry never overwrites a status it did not set.
    expect((await onboard('hooli')).profile).toMatchObject({
      status: 'paused',
      statusSince: '2026-11-24T10:00:00.000Z',
    });
  });

  it('the DynamoDB limiter: a message over the limit takes an empty second, and does not starve when none is', async () => {
    let now = 1_900_000_000_250;
    const limiter = new DynamoDbRateLimiter({
      doc: clients.documentClient!,
      tableName: TABLE,
      scope: 'big-message',
      rate: 20,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    const start = Math.floor(now / 1000);
    await limiter.acquire(30); // an empty second: granted at once
    expect(Math.floor(now / 1000)).toBe(start);
    // Keep the next seconds busy with one recipient each, as other workers would.
    for (let s = start + 1; s <= start + 8; s++) {
      const busy = new DynamoDbRateLimiter({
        doc: clients.documentClient!,
        tableName: TABLE,
        scope: 'big-message',
        rate: 20,
        now: () => s * 1000,
        sleep: async () => {},
      });
      await busy.acquire(1);
    }
    await limiter.acquire(30);
    // Its own second was full and the next two busy; the fourth try (start+3) takes a second that is not full.
    expect(Math.floor(now / 1000)).toBe(start + 3);
    // That second is over its limit now: the next grant is in the following second, of what it has left.
    expect(await limiter.acquireUpTo(50)).toBe(19);
    expect(Math.floor(now / 1000)).toBe(start + 4);
  });

  it("two senders share the account's MaxSendRate through DynamoDB: no second's grants go over it", async () => {
    await onboard('umbrella');
    const makeShared = () => {
      const client = senderSes();
      const rate = new AccountSendRate(client);
      const limiter = new DynamoDbRateLimiter({
        doc: clients.documentClient!,
        tableName: TABLE,
        scope: 'account-test',
        rate: () => rate.get(),
        onGrant: (second, n) => granted.set(second, (granted.get(second) ?? 0) + n),
      });
      return makeSender({ client, limiter, backoffs });
    };
    const backoffs: number[] = [];
    const granted = new Map<number, number>(); // epoch second -> recipients granted in it, by both senders
    const [a, b] = [makeShared(), makeShared()];
    const job = (prefix: string) => ({
      tenantId: 'umbrella',
      from: 'ops@umbrella.example',
      subject: 's',
      text: 't',
      destinations: Array.from({ length: 25 }, (_, i) => ({ to: `${prefix}${i}@umbrella-list.test` })),
    });
    const singles = Array.from({ length: 10 }, (_, i) =>
      (i % 2 ? a : b).send({
        tenantId: 'umbrella',
        from: 'ops@umbrella.example',
        to: [`one${i}@umbrella-list.test`],
        subject: 's',
        text: 't',
      }),
    );
    const [outA, outB] = await Promise.all([a.sendBulk(job('a')), b.sendBulk(job('b')), ...singles]);
    const all = [...(outA as { status: string }[]), ...(outB as { status: string }[])];
    expect(all.filter((o) => o.status === 'sent')).toHaveLength(50);

    const sends = (await deliveredRows()).filter((r) => r.event_type === 'send' && r.tenant_id === 'umbrella');
    expect(sends).toHaveLength(60);
    // The limiter's contract: the two senders together are granted at most MaxSendRate recipients in any second
    // (retries after a throttle take capacity again, so the grants add up to at least the 60 recipients).
    expect(Math.max(...granted.values())).toBeLessThanOrEqual(MAX_SEND_RATE);
    expect([...granted.values()].reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(60);
    expect(granted.size).toBeGreaterThanOrEqual(Math.ceil(60 / MAX_SEND_RATE));
    // At SES a grant arrives a call's latency later, so a calendar second holds its own grants and at most the
    // previous second's late ones: never more than twice the rate while latency stays under a second.
    const perSecond = new Map<number, number>();
    for (const r of sends) {
      const s = Math.floor(new Date(r.event_time).getTime() / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(2 * MAX_SEND_RATE);
  });
});
