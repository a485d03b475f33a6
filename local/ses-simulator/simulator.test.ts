import { describe, expect, it } from 'vitest';
import { SesApiError } from './errors';
import { MemoryEventSink } from './event-sinks';
import { type OutgoingMessage, SesSimulator } from './simulator';

function setup(opts: ConstructorParameters<typeof SesSimulator>[0] = {}) {
  let now = Date.UTC(2026, 10, 25, 12);
  const sink = new MemoryEventSink();
  const sim = new SesSimulator({ seed: 1, timeFactor: 0, now: () => now, sinks: () => sink, ...opts });
  sim.createConfigurationSet('cs', {});
  sim.createEventDestination('cs', 'all', { Enabled: true, KinesisFirehoseDestination: { DeliveryStreamArn: 'x/y' } });
  return { sim, sink, advance: (ms: number) => (now += ms) };
}

function msg(to: string[], extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    from: 'news@mail.example.com',
    to,
    cc: [],
    bcc: [],
    subject: 's',
    tags: [{ Name: 'tenant', Value: 't1' }],
    configurationSetName: 'cs',
    operation: 'SendEmail',
    sourceIp: '127.0.0.1',
    callerIdentity: 'test',
    ...extra,
  };
}

const types = (sink: MemoryEventSink, id: string) =>
  sink.records.filter((r) => r.data.includes(id)).map((r) => r.eventType);

describe('SesSimulator', () => {
  it('adds a hard-bounced address to the account suppression list, and bounces the next send as suppressed', async () => {
    const { sim, sink } = setup({ senderBehaviour: () => ({ hardBounceRate: 1 }) });
    const first = sim.sendEmail(msg(['gone@example.net']));
    await sim.flushEvents({ all: true });
    expect(types(sink, first)).toEqual(['Send', 'Bounce']);
    expect(sim.getSuppressedDestination('gone@example.net').Reason).toBe('BOUNCE');
    const second = sim.sendEmail(msg(['gone@example.net']));
    await sim.flushEvents({ all: true });
    const bounce = JSON.parse(sink.records.filter((r) => r.data.includes(second))[1]!.data);
    expect(bounce.bounce.bounceSubType).toBe('OnAccountSuppressionList');
  });

  it('checks only the tenant list for a tenant with scope TENANT', async () => {
    const { sim, sink } = setup();
    sim.createTenant('t1', [], { SuppressedReasons: ['BOUNCE'], SuppressionScope: 'TENANT' });
    sim.createTenantResourceAssociation('t1', sim.configurationSetArn('cs'));
    sim.putSuppressedDestination('a@example.net', 'BOUNCE'); // account list only: not suppressed for t1
    sim.putSuppressedDestination('b@example.net', 'BOUNCE', 't1');
    const id = sim.sendEmail(msg(['success@simulator.amazonses.com', 'b@example.net'], { tenantName: 't1' }));
    const other = sim.sendEmail(msg(['a@example.net'], { tenantName: 't1' }));
    await sim.flushEvents({ all: true });
    const bounce = sink.records.filter((r) => r.data.includes(id) && r.eventType === 'Bounce');
    expect(bounce.map((r) => JSON.parse(r.data).bounce.bounceSubType)).toEqual(['OnTenantSuppressionList']);
    const otherBounces = sink.records
      .filter((r) => r.data.includes(other) && r.eventType === 'Bounce')
      .map((r) => JSON.parse(r.data).bounce.bounceSubType);
    expect(otherBounces).not.toContain('OnAccountSuppressionList');
  });

  it('refuses sends while the account is paused, and per entry in bulk', () => {
    const { sim } = setup();
    sim.putAccountSendingAttributes(false);
    expect(() => sim.sendEmail(msg(['a@example.net']))).toThrow(
      expect.objectContaining({ code: 'SendingPausedException' }),
    );
    expect(sim.sendBulkEmail([msg(['a@example.net'])])[0]!.Status).toBe('ACCOUNT_SENDING_PAUSED');
  });

  it('enforces the daily quota, without counting mailbox-simulator recipients', () => {
    const { sim } = setup({ max24HourSend: 2, maxSendRate: 100 });
    sim.sendEmail(msg(['success@simulator.amazonses.com']));
    sim.sendEmail(msg(['a@example.net', 'b@example.net']));
    const err = (() => {
      try {
        sim.sendEmail(msg(['c@example.net']));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SesApiError);
    expect((err as SesApiError).code).toBe('LimitExceededException');
    expect(sim.getAccount().SendQuota).toMatchObject({ Max24HourSend: 2, SentLast24Hours: 2 });
  });

  it('refills the send rate over time: throttled now, accepted a second later', () => {
    const { sim, advance } = setup({ maxSendRate: 2 });
    const bulk = sim.sendBulkEmail([msg(['a@x.net']), msg(['b@x.net']), msg(['c@x.net'])]);
    expect(bulk.map((r) => r.Status)).toEqual(['SUCCESS', 'SUCCESS', 'ACCOUNT_THROTTLED']);
    advance(1000);
    expect(sim.sendBulkEmail([msg(['c@x.net'])])[0]!.Status).toBe('SUCCESS');
  });

  it('publishes only the event types a destination matches', async () => {
    const { sim, sink } = setup();
    sim.updateEventDestination('cs', 'all', {
      Enabled: true,
      MatchingEventTypes: ['BOUNCE'],
      KinesisFirehoseDestination: { DeliveryStreamArn: 'x/y' },
    });
    const id = sim.sendEmail(msg(['bounce@simulator.amazonses.com']));
    await sim.flushEvents({ all: true });
    expect(types(sink, id)).toEqual(['Bounce']);
  });

  it('refuses a configuration set that is not associated with the tenant', () => {
    const { sim } = setup();
    sim.createTenant('t2', []);
    expect(() => sim.sendEmail(msg(['a@example.net'], { tenantName: 't2' }))).toThrow(/not associated/);
  });
});
