import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteConfigurationSetCommand,
  DeleteSuppressedDestinationCommand,
  DeleteTenantCommand,
  GetAccountCommand,
  GetConfigurationSetCommand,
  GetConfigurationSetEventDestinationsCommand,
  GetReputationEntityCommand,
  GetSuppressedDestinationCommand,
  GetTenantCommand,
  ListConfigurationSetsCommand,
  ListReputationEntitiesCommand,
  ListResourceTenantsCommand,
  ListSuppressedDestinationsCommand,
  ListTenantResourcesCommand,
  ListTenantsCommand,
  NotFoundException,
  PutConfigurationSetSendingOptionsCommand,
  PutSuppressedDestinationCommand,
  PutTenantSuppressionAttributesCommand,
  SESv2Client,
  SendBulkEmailCommand,
  SendEmailCommand,
  SendingPausedException,
  TooManyRequestsException,
  UpdateReputationEntityCustomerManagedStatusCommand,
} from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onboardDemoTenant } from '../pipeline/demo-tenants';
import { SES_MESSAGE_ID } from '../traffic-model';
import { MemoryEventSink } from './event-sinks';
import { EICAR, type SesSimulatorServer, startSesSimulator } from './server';
import { textMail } from './text-mail.test-support';

const STREAM_ARN = 'arn:aws:firehose:us-east-1:123456789012:deliverystream/sesflow-events';
const ACCOUNT = { accountId: '123456789012', region: 'us-east-1' };

let sim: SesSimulatorServer;
let ses: SESv2Client;
const sink = new MemoryEventSink();

function sesClient(endpoint: string): SESv2Client {
  return new SESv2Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

/** The tenant `<tenant>`, its configuration set `<tenant>-events` sending every event to the stream, associated. */
async function onboard(tenant: string): Promise<{ configSet: string; tenantArn: string }> {
  const configSet = `${tenant}-events`;
  await onboardDemoTenant(ses, { tenant, configurationSet: configSet, deliveryStreamArn: STREAM_ARN, ...ACCOUNT });
  const t = await ses.send(new GetTenantCommand({ TenantName: tenant }));
  return { configSet, tenantArn: t.Tenant!.TenantArn! };
}

function simpleEmail(tenant: string, configSet: string, to: string[], campaign = 'welcome') {
  return textMail({
    from: `Acme <news@mail.${tenant}-example.com>`,
    to,
    subject: 'Hello',
    text: 'Hi',
    configurationSet: configSet,
    tenant,
    tags: [
      { Name: 'tenant', Value: tenant },
      { Name: 'campaign', Value: campaign },
      { Name: 'message_kind', Value: 'transactional' },
    ],
  });
}

beforeAll(async () => {
  sim = await startSesSimulator({ port: 0, seed: 1, timeFactor: 0.0001, maxSendRate: 1000, sinks: () => sink });
  ses = sesClient(sim.endpoint);
});
afterAll(async () => {
  ses?.destroy();
  await sim?.close();
});

describe('SES simulator through @aws-sdk/client-sesv2', () => {
  it('sends one message and publishes its Send and Delivery records to the event destination', async () => {
    const { configSet } = await onboard('acme');
    const res = await ses.send(simpleEmail('acme', configSet, ['success+one@simulator.amazonses.com']));
    expect(res.MessageId).toMatch(SES_MESSAGE_ID);
    await sim.simulator.flushEvents({ all: true });
    const mine = sink.records.filter((r) => r.data.includes(res.MessageId!));
    expect(mine.map((r) => r.eventType)).toEqual(['Send', 'Delivery']);
    const send = JSON.parse(mine[0]!.data);
    expect(send.mail.tags.tenant).toEqual(['acme']);
    expect(send.mail.tags['ses:configuration-set']).toEqual([configSet]);
    expect(send.mail.destination).toEqual(['success+one@simulator.amazonses.com']);
    expect(mine[0]!.partitionKey).toBe('acme');
    expect(mine[0]!.data.endsWith('\n')).toBe(true);
    const stats = (await (await fetch(`${sim.endpoint}/_sesflow/stats`)).json()) as Record<string, number>;
    expect(stats.accepted).toBeGreaterThanOrEqual(1);
    expect(stats.pendingEvents).toBe(0);
  });

  it('reports a bulk send entry by entry: success, rejected address, bad tag', async () => {
    const res = await ses.send(
      new SendBulkEmailCommand({
        FromEmailAddress: 'news@mail.acme-example.com',
        ConfigurationSetName: 'acme-events',
        TenantName: 'acme',
        DefaultContent: { Template: { TemplateContent: { Subject: 'Sale', Text: 'x' } } },
        DefaultEmailTags: [{ Name: 'tenant', Value: 'acme' }],
        BulkEmailEntries: [
          { Destination: { ToAddresses: ['bounce@simulator.amazonses.com'] } },
          { Destination: { ToAddresses: ['not an address'] } },
          {
            Destination: { ToAddresses: ['success@simulator.amazonses.com'] },
            ReplacementTags: [{ Name: 'campaign', Value: 'has space' }],
          },
        ],
      }),
    );
    const statuses = res.BulkEmailEntryResults!.map((r) => r.Status);
    expect(statuses).toEqual(['SUCCESS', 'MESSAGE_REJECTED', 'INVALID_PARAMETER']);
    expect(res.BulkEmailEntryResults![0]!.MessageId).toMatch(SES_MESSAGE_ID);
    expect(res.BulkEmailEntryResults![1]!.MessageId).toBeUndefined();
    await sim.simulator.flushEvents({ all: true });
    const bounce = sink.records
      .filter((r) => r.data.includes(res.BulkEmailEntryResults![0]!.MessageId!))
      .find((r) => r.eventType === 'Bounce');
    const b = JSON.parse(bounce!.data);
    expect(b.bounce.bounceType).toBe('Permanent');
    expect(b.mail.tags['ses:tenant-name']).toEqual(['acme']);
  });

  it('refuses a paused configuration set with SendingPausedException, and bulk entries with CONFIGURATION_SET_SENDING_PAUSED', async () => {
    const { configSet } = await onboard('paused-co');
    await ses.send(
      new PutConfigurationSetSendingOptionsCommand({ ConfigurationSetName: configSet, SendingEnabled: false }),
    );
    await expect(ses.send(simpleEmail('paused-co', configSet, ['a@example.com']))).rejects.toBeInstanceOf(
      SendingPausedException,
    );
    const bulk = await ses.send(
      new SendBulkEmailCommand({
        FromEmailAddress: 'news@mail.paused-co-example.com',
        ConfigurationSetName: configSet,
        TenantName: 'paused-co',
        DefaultContent: { Template: { TemplateName: 'x' } },
        BulkEmailEntries: [{ Destination: { ToAddresses: ['a@example.com'] } }],
      }),
    );
    expect(bulk.BulkEmailEntryResults![0]!.Status).toBe('CONFIGURATION_SET_SENDING_PAUSED');
    const cs = await ses.send(new GetConfigurationSetCommand({ ConfigurationSetName: configSet }));
    expect(cs.SendingOptions?.SendingEnabled).toBe(false);
  });

  it('refuses a tenant whose reputation entity is DISABLED, and sends again once ENABLED', async () => {
    const { configSet, tenantArn } = await onboard('risky');
    await ses.send(
      new UpdateReputationEntityCustomerManagedStatusCommand({
        ReputationEntityType: 'RESOURCE',
        ReputationEntityReference: tenantArn,
        SendingStatus: 'DISABLED',
      }),
    );
    const entity = await ses.send(
      new GetReputationEntityCommand({ ReputationEntityType: 'RESOURCE', ReputationEntityReference: tenantArn }),
    );
    expect(entity.ReputationEntity?.SendingStatusAggregate).toBe('DISABLED');
    expect(entity.ReputationEntity?.CustomerManagedStatus?.Status).toBe('DISABLED');
    const tenant = await ses.send(new GetTenantCommand({ TenantName: 'risky' }));
    expect(tenant.Tenant?.SendingStatus).toBe('DISABLED');
    const err = await ses.send(simpleEmail('risky', configSet, ['a@example.com'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SendingPausedException);
    expect((err as SendingPausedException).$metadata.httpStatusCode).toBe(400);
    await ses.send(
      new UpdateReputationEntityCustomerManagedStatusCommand({
        ReputationEntityType: 'RESOURCE',
        ReputationEntityReference: tenantArn,
        SendingStatus: 'ENABLED',
      }),
    );
    const ok = await ses.send(simpleEmail('risky', configSet, ['success@simulator.amazonses.com']));
    expect(ok.MessageId).toMatch(SES_MESSAGE_ID);
  });

  it('reports the send quota in GetAccount and throttles above MaxSendRate', async () => {
    const tight = await startSesSimulator({ port: 0, seed: 2, maxSendRate: 3 });
    const client = sesClient(tight.endpoint);
    try {
      const account = await client.send(new GetAccountCommand({}));
      expect(account.SendQuota?.MaxSendRate).toBe(3);
      expect(account.SendingEnabled).toBe(true);
      const send = () => client.send(textMail());
      const results = await Promise.allSettled([send(), send(), send(), send(), send()]);
      const throttled = results.filter((r) => r.status === 'rejected');
      expect(results.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(3);
      expect(throttled.length).toBeGreaterThanOrEqual(2);
      expect((throttled[0] as PromiseRejectedResult).reason).toBeInstanceOf(TooManyRequestsException);
    } finally {
      client.destroy();
      await tight.close();
    }
  });

  it('rejects a raw message carrying a virus (EICAR) with a Reject record and no delivery', async () => {
    const mime = [
      'From: news@mail.acme-example.com',
      'To: success@simulator.amazonses.com',
      'Subject: invoice',
      'MIME-Version: 1.0',
      'Content-Type: text/plain',
      '',
      EICAR,
    ].join('\r\n');
    const res = await ses.send(
      new SendEmailCommand({
        Content: { Raw: { Data: Buffer.from(mime) } },
        ConfigurationSetName: 'acme-events',
        TenantName: 'acme',
        EmailTags: [{ Name: 'tenant', Value: 'acme' }],
      }),
    );
    await sim.simulator.flushEvents({ all: true });
    const mine = sink.records.filter((r) => r.data.includes(res.MessageId!));
    expect(mine.map((r) => r.eventType)).toEqual(['Send', 'Reject']);
    expect(JSON.parse(mine[1]!.data).reject.reason).toBe('Bad content');
    expect(JSON.parse(mine[0]!.data).mail.commonHeaders.subject).toBe('invoice');
  });

  it('answers NotFoundException for an unknown configuration set', async () => {
    const err = await ses.send(textMail({ configurationSet: 'nope' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundException);
  });

  it('bounces a suppressed recipient with OnAccountSuppressionList, and manages the list', async () => {
    const address = 'gone@example.org';
    await ses.send(new PutSuppressedDestinationCommand({ EmailAddress: address, Reason: 'BOUNCE' }));
    const got = await ses.send(new GetSuppressedDestinationCommand({ EmailAddress: address }));
    expect(got.SuppressedDestination?.Reason).toBe('BOUNCE');
    expect(got.SuppressedDestination?.LastUpdateTime).toBeInstanceOf(Date);
    const list = await ses.send(new ListSuppressedDestinationsCommand({ Reasons: ['BOUNCE'] }));
    expect(list.SuppressedDestinationSummaries?.map((s) => s.EmailAddress)).toContain(address);
    const res = await ses.send(simpleEmail('acme', 'acme-events', [address]));
    await sim.simulator.flushEvents({ all: true });
    const mine = sink.records.filter((r) => r.data.includes(res.MessageId!));
    expect(mine.map((r) => r.eventType)).toEqual(['Send', 'Bounce']);
    expect(JSON.parse(mine[1]!.data).bounce.bounceSubType).toBe('OnAccountSuppressionList');
    await ses.send(new DeleteSuppressedDestinationCommand({ EmailAddress: address }));
    await expect(ses.send(new GetSuppressedDestinationCommand({ EmailAddress: address }))).rejects.toBeInstanceOf(
      NotFoundException,
    );
  });

  it('lists reputation entities by sending status, the tenants of a resource, and sets tenant suppression', async () => {
    const { tenantArn } = await onboard('entities');
    await ses.send(
      new UpdateReputationEntityCustomerManagedStatusCommand({
        ReputationEntityType: 'RESOURCE',
        ReputationEntityReference: tenantArn,
        SendingStatus: 'DISABLED',
      }),
    );
    const disabled = await ses.send(new ListReputationEntitiesCommand({ Filter: { SENDING_STATUS: 'DISABLED' } }));
    expect(disabled.ReputationEntities?.map((e) => e.ReputationEntityReference)).toContain(tenantArn);
    expect(disabled.ReputationEntities?.every((e) => e.SendingStatusAggregate === 'DISABLED')).toBe(true);
    const owners = await ses.send(
      new ListResourceTenantsCommand({
        ResourceArn: 'arn:aws:ses:us-east-1:123456789012:configuration-set/entities-events',
      }),
    );
    expect(owners.ResourceTenants?.map((t) => t.TenantName)).toEqual(['entities']);
    expect(owners.ResourceTenants?.[0]?.AssociatedTimestamp).toBeInstanceOf(Date);
    await ses.send(
      new PutTenantSuppressionAttributesCommand({
        TenantName: 'entities',
        SuppressedReasons: ['BOUNCE'],
        SuppressionScope: 'TENANT',
      }),
    );
    const t = await ses.send(new GetTenantCommand({ TenantName: 'entities' }));
    expect(t.Tenant?.SuppressionAttributes?.SuppressionScope).toBe('TENANT');
  });

  it('lists and deletes configuration sets, destinations, tenants and tenant resources', async () => {
    await onboard('listed');
    const sets = await ses.send(new ListConfigurationSetsCommand({}));
    expect(sets.ConfigurationSets).toContain('listed-events');
    const dests = await ses.send(
      new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'listed-events' }),
    );
    expect(dests.EventDestinations?.[0]?.KinesisFirehoseDestination?.DeliveryStreamArn).toBe(STREAM_ARN);
    const tenants = await ses.send(new ListTenantsCommand({}));
    expect(tenants.Tenants?.map((t) => t.TenantName)).toContain('listed');
    const resources = await ses.send(new ListTenantResourcesCommand({ TenantName: 'listed' }));
    expect(resources.TenantResources?.[0]?.ResourceType).toBe('CONFIGURATION_SET');
    await ses.send(new DeleteTenantCommand({ TenantName: 'listed' }));
    await ses.send(new DeleteConfigurationSetCommand({ ConfigurationSetName: 'listed-events' }));
    await expect(ses.send(new GetTenantCommand({ TenantName: 'listed' }))).rejects.toBeInstanceOf(NotFoundException);
    const after = await ses.send(new ListConfigurationSetsCommand({}));
    expect(after.ConfigurationSets).not.toContain('listed-events');
  });

  it('keeps configuration sets, tenants and suppression entries across a restart with a data dir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sesflow-ses-'));
    try {
      const before = new MemoryEventSink();
      const first = await startSesSimulator({ port: 0, dataDir, timeFactor: 1, sinks: () => before });
      const c1 = sesClient(first.endpoint);
      await onboardDemoTenant(c1, {
        tenant: 'kept',
        configurationSet: 'kept-events',
        deliveryStreamArn: STREAM_ARN,
        ...ACCOUNT,
      });
      // Delivery comes about 1-2.5 s after the send: the restart happens before, so it must survive it.
      const sent = await c1.send(textMail({ configurationSet: 'kept-events' }));
      await c1.send(new PutSuppressedDestinationCommand({ EmailAddress: 'x@example.org', Reason: 'COMPLAINT' }));
      c1.destroy();
      await first.close();
      expect(before.records.some((r) => r.eventType === 'Delivery')).toBe(false);
      const after = new MemoryEventSink();
      const second = await startSesSimulator({ port: 0, dataDir, sinks: () => after });
      const c2 = sesClient(second.endpoint);
      try {
        await second.simulator.flushEvents({ all: true });
        const delivery = after.records.find((r) => r.eventType === 'Delivery');
        expect(JSON.parse(delivery!.data).mail.messageId).toBe(sent.MessageId);
        expect((await c2.send(new GetTenantCommand({ TenantName: 'kept' }))).Tenant?.TenantName).toBe('kept');
        expect((await c2.send(new ListConfigurationSetsCommand({}))).ConfigurationSets).toEqual(['kept-events']);
        const s = await c2.send(new GetSuppressedDestinationCommand({ EmailAddress: 'x@example.org' }));
        expect(s.SuppressedDestination?.Reason).toBe('COMPLAINT');
      } finally {
        c2.destroy();
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
