import { describe, expect, it } from 'vitest';
import type { NormalisedEvent } from '../../ingest/normalise';
import { testEvent, testMail } from '../../ingest/test-events';
import { SeededRandom } from '../../local/seeded-random';
import {
  buildRecords,
  DELIVERY_STATUSES,
  type DeliveryRecord,
  mergeEvent,
  RECORD_SCHEMA_VERSION,
  ReportingRecordSchema,
  recordIdOf,
  revisionOf,
  STATUS_PRECEDENCE,
  toReportingRecord,
} from './record';
import { messageEvents, normalisedRows, type TestOutcome } from './test-events';

const mergeAll = (events: readonly NormalisedEvent[]): DeliveryRecord => {
  let r: DeliveryRecord | null = null;
  for (const e of events) r = mergeEvent(r, e);
  if (!r) throw new Error('no events');
  return r;
};

function shuffled<T>(items: readonly T[], rnd: SeededRandom): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = rnd.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const rows = (outcome: TestOutcome, messageId = `m-${outcome}`) =>
  normalisedRows(messageEvents({ messageId, tenant: 'tenant-a', recipient: 'reader@inbox.test', outcome }));

describe('status precedence table', () => {
  it('orders sent < delivered < opened < clicked below every terminal status', () => {
    const rank = (s: keyof typeof STATUS_PRECEDENCE) => STATUS_PRECEDENCE[s].rank;
    expect(rank('sent')).toBeLessThan(rank('delivered'));
    expect(rank('delivered')).toBeLessThan(rank('opened'));
    expect(rank('opened')).toBeLessThan(rank('clicked'));
    const engagement = DELIVERY_STATUSES.filter((s) => !STATUS_PRECEDENCE[s].terminal);
    const terminal = DELIVERY_STATUSES.filter((s) => STATUS_PRECEDENCE[s].terminal);
    expect(terminal.sort()).toEqual(['bounced', 'complained', 'rejected']);
    for (const t of terminal) for (const e of engagement) expect(rank(t)).toBeGreaterThan(rank(e));
    expect(new Set(DELIVERY_STATUSES.map(rank)).size).toBe(DELIVERY_STATUSES.length);
  });
});

describe('mergeEvent', () => {
  it('builds a clicked record with the time of every step', () => {
    const events = rows('clicked');
    const r = mergeAll(events);
    expect(r.status).toBe('clicked');
    expect(r.tenant_id).toBe('tenant-a');
    expect(r.campaign_id).toBe('spring');
    expect(r.recipient).toBe('reader@inbox.test');
    expect(r.record_id).toBe(recordIdOf(r.message_id, 'reader@inbox.test'));
    expect(new Date(r.sent_at!).toISOString()).toBe('2026-05-01T10:00:00.000Z');
    expect(new Date(r.delivered_at!).toISOString()).toBe('2026-05-01T10:00:03.000Z');
    expect(new Date(r.first_opened_at!).toISOString()).toBe('2026-05-01T10:30:00.000Z');
    expect(new Date(r.last_opened_at!).toISOString()).toBe('2026-05-01T11:30:00.000Z');
    expect(new Date(r.first_clicked_at!).toISOString()).toBe('2026-05-01T10:31:40.000Z');
    expect(r.bounce).toBeNull();
    expect(revisionOf(r)).toBe(events.length);
  });

  it('keeps a complaint that came before the delivery and the opens', () => {
    const complained = rows('complained', 'm-x');
    const opened = rows('opened', 'm-x').filter((e) => e.event_type === 'open');
    const complaintFirst = [...complained.filter((e) => e.event_type === 'complaint'), ...opened, ...complained];
    const r = mergeAll(complaintFirst);
    expect(r.status).toBe('complained');
    expect(r.complaint?.feedback_type).toBe('abuse');
    expect(r.delivered_at).not.toBeNull();
    expect(r.first_opened_at).not.toBeNull();
    expect(new Date(r.complained_at!).toISOString()).toBe('2026-05-01T12:00:00.000Z');
  });

  it('counts a duplicate open once and returns the same record object for it', () => {
    const events = rows('opened');
    const r = mergeAll(events);
    const open = events.find((e) => e.event_type === 'open')!;
    expect(mergeEvent(r, open)).toBe(r);
    expect(mergeEvent(r, { ...open })).toBe(r);
    expect(revisionOf(mergeAll([...events, open, open]))).toBe(events.length);
  });

  it('a late open never lifts a bounced record out of its terminal status', () => {
    const bounced = rows('bounced', 'm-b');
    const open = rows('opened', 'm-b').find((e) => e.event_type === 'open')!;
    const r = mergeAll([...bounced, open]);
    expect(r.status).toBe('bounced');
    expect(r.first_opened_at).toBe(open.event_time);
    expect(r.bounce).toMatchObject({ type: 'Permanent', subtype: 'General', smtp_status: '5.1.1' });
    expect(toReportingRecord(r).status_at).toBe(new Date(r.bounced_at!).toISOString());
  });

  it('reports the most severe bounce, whichever came first', () => {
    const mail = testMail({ messageId: 'm-soft-hard', destination: ['reader@inbox.test'] });
    const bounce = (type: string, ts: string, id: string) =>
      testEvent(
        'Bounce',
        'bounce',
        { bounceType: type, bouncedRecipients: [{ emailAddress: 'reader@inbox.test' }], timestamp: ts, feedbackId: id },
        mail,
      );
    const events = normalisedRows([
      bounce('Transient', '2026-05-01T10:00:05.000Z', 'f1'),
      bounce('Permanent', '2026-05-01T10:05:00.000Z', 'f2'),
    ]);
    for (const order of [events, events.slice().reverse()]) {
      const r = mergeAll(order);
      expect(r.bounce?.type).toBe('Permanent');
      expect(new Date(r.bounced_at!).toISOString()).toBe('2026-05-01T10:00:05.000Z');
    }
  });

  it('refuses an event of another message', () => {
    const r = mergeAll(rows('sent', 'm-1'));
    expect(() => mergeEvent(r, rows('sent', 'm-2')[0]!)).toThrow(/another record/);
  });
});

describe('mergeEvent is order-independent (property, shuffled and duplicated events)', () => {
  const outcomes: TestOutcome[] = ['sent', 'delivered', 'opened', 'clicked', 'bounced', 'complained', 'rejected'];
  // Every outcome's events, plus stray events of other outcomes for the same message (a late open after a bounce,
  // a complaint with a click), so the orders cover conflicting statuses too.
  const mixes: NormalisedEvent[][] = [
    ...outcomes.map((o) => rows(o)),
    [...rows('bounced', 'm-mix1'), ...rows('clicked', 'm-mix1')],
    [...rows('complained', 'm-mix2'), ...rows('clicked', 'm-mix2')],
    [...rows('rejected', 'm-mix3'), ...rows('opened', 'm-mix3')],
  ];

  it.each(mixes.map((events, i) => [i, events] as const))('mix %i: 300 random orders give one record', (_, events) => {
    const rnd = new SeededRandom(42);
    const reference = mergeAll(events);
    for (let round = 0; round < 300; round++) {
      const withDuplicates = [...events, ...events.filter(() => rnd.chance(0.3))];
      expect(mergeAll(shuffled(withDuplicates, rnd))).toEqual(reference);
    }
  });

  it('merging two partial records event by event equals merging everything (batches split anywhere)', () => {
    const rnd = new SeededRandom(7);
    const events = [...rows('complained', 'm-split'), ...rows('clicked', 'm-split')];
    const reference = mergeAll(events);
    for (let round = 0; round < 100; round++) {
      const order = shuffled(events, rnd);
      const cut = rnd.int(order.length);
      let r = mergeAll(order.slice(0, cut + 1));
      for (const e of shuffled(order.slice(cut), rnd)) r = mergeEvent(r, e);
      expect(r).toEqual(reference);
    }
  });
});

describe('buildRecords and the reporting form', () => {
  it('makes one record per message and recipient, a null-recipient one for opens of multi-recipient mail', () => {
    const mail = testMail({ messageId: 'm-multi', destination: ['a@x.test', 'b@y.test'] });
    const events = normalisedRows([
      testEvent('Send', 'send', {}, mail),
      testEvent(
        'Delivery',
        'delivery',
        { timestamp: '2026-05-01T10:00:02.000Z', recipients: ['a@x.test', 'b@y.test'], processingTimeMillis: 1 },
        mail,
      ),
      testEvent('Open', 'open', { timestamp: '2026-05-01T11:00:00.000Z', userAgent: 'x', ipAddress: '1.2.3.4' }, mail),
      testEvent('Subscription', 'subscription', { contactList: 'news', timestamp: '2026-05-01T12:00:00.000Z' }, mail),
    ]);
    const records = [...buildRecords(events).values()];
    const byRecipient = new Map(records.map((r) => [r.recipient, r.status]));
    expect(byRecipient).toEqual(
      new Map([
        ['a@x.test', 'delivered'],
        ['b@y.test', 'delivered'],
        [null, 'opened'],
      ]),
    );
  });

  it('every status round-trips through the contract schema', () => {
    const outcomes: TestOutcome[] = ['sent', 'delivered', 'opened', 'clicked', 'bounced', 'complained', 'rejected'];
    for (const o of outcomes) {
      const wire = toReportingRecord(mergeAll(rows(o)));
      expect(wire.schema_version).toBe(RECORD_SCHEMA_VERSION);
      expect(wire.status).toBe(o);
      expect(ReportingRecordSchema.parse(JSON.parse(JSON.stringify(wire)))).toEqual(wire);
    }
  });

  it('the contract schema refuses an unknown field and a bad time', () => {
    const wire = toReportingRecord(mergeAll(rows('opened')));
    expect(ReportingRecordSchema.safeParse({ ...wire, extra: 1 }).success).toBe(false);
    expect(ReportingRecordSchema.safeParse({ ...wire, sent_at: '2026-05-01 10:00' }).success).toBe(false);
    expect(ReportingRecordSchema.safeParse({ ...wire, revision: 0 }).success).toBe(false);
  });
});
