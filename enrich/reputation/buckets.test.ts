import { describe, expect, it } from 'vitest';
import type { NormalisedEvent } from '../../ingest/normalise';
import { testBounce, testComplaint, testEvent, testMail } from '../../ingest/test-events';
import { transformRecord } from '../../ingest/transform';
import { STANDARD_POLICY, wilsonLowerBound } from '../../tenants/policy';
import { aggregateHours, boundMap, evaluateHours, OTHER_KEY, windowHours } from './buckets';

function rows(record: unknown): NormalisedEvent[] {
  const t = transformRecord(JSON.stringify(record));
  if (!t.ok) throw new Error(t.reason);
  return t.rows;
}
const mail = (i: number, time: string, to = `r${i}@inbox.test`) =>
  testMail({ messageId: `m-${i}`, timestamp: time, destination: [to], tags: { tenant: ['t'], campaign: ['spring'] } });
const send = (i: number, time: string, to?: string) => rows(testEvent('Send', 'send', {}, mail(i, time, to)));
const bounce = (i: number, time: string, subtype = 'General', to = `r${i}@inbox.test`) => {
  const b = testBounce(
    'Permanent',
    subtype,
    [{ emailAddress: to, diagnosticCode: 'smtp; 550 5.1.1 unknown' }],
    mail(i, time, to),
  );
  (b.bounce as Record<string, unknown>).timestamp = time;
  return rows(b);
};

describe('Wilson bound reproduces the policy examples exactly', () => {
  it('70 in 1,000 is above 5 %, 60 in 1,000 below, 1 in 10 far below', () => {
    expect(wilsonLowerBound(70, 1000, 1.96)).toBeCloseTo(0.0558, 4);
    expect(wilsonLowerBound(60, 1000, 1.96)).toBeCloseTo(0.0469, 4);
    expect(wilsonLowerBound(1, 10, 1.96)).toBeCloseTo(0.0179, 4);
  });
  it('the pause edge for 1,000 sent lies between 63 and 64 hard bounces', () => {
    expect(wilsonLowerBound(63, 1000, 1.96)).toBeLessThan(0.05);
    expect(wilsonLowerBound(64, 1000, 1.96)).toBeGreaterThanOrEqual(0.05);
  });
});

describe('hour buckets', () => {
  it('a late bounce lands in the hour it happened, not the hour it arrived', () => {
    const b = aggregateHours([...send(1, '2026-06-07T10:59:59.000Z'), ...bounce(1, '2026-06-07T08:15:00.000Z')]);
    const byHour = Object.fromEntries(b.map((x) => [x.hour, x]));
    expect(byHour['2026-06-07T10']!.sent).toBe(1);
    expect(byHour['2026-06-07T08']!.hardBounces).toBe(1);
    expect(byHour['2026-06-07T10']!.hardBounces).toBe(0);
  });

  it('simulator traffic, suppression-list bounces and not-spam or suppressed complaints do not count', () => {
    const t = '2026-06-07T10:00:00.000Z';
    const sim = 'bounce@simulator.amazonses.com';
    const complaint = (fields: Record<string, unknown>) =>
      rows({ ...testComplaint(fields), mail: mail(9, t) }).map((r) => ({ ...r, event_time: Date.parse(t) }));
    const b = aggregateHours([
      ...send(1, t, sim),
      ...bounce(1, t, 'General', sim),
      ...bounce(2, t, 'OnAccountSuppressionList'),
      ...bounce(3, t, 'OnTenantSuppressionList'),
      ...complaint({ complaintFeedbackType: 'not-spam' }),
      ...complaint({ complaintSubType: 'OnAccountSuppressionList' }),
      ...complaint({ complaintFeedbackType: 'abuse' }),
    ]);
    expect(b).toHaveLength(1);
    expect([b[0]!.sent, b[0]!.hardBounces, b[0]!.complaints]).toEqual([0, 0, 1]);
  });

  it('tenant unknown is left out', () => {
    const r = send(1, '2026-06-07T10:00:00.000Z').map((x) => ({ ...x, tenant_id: 'unknown' }));
    expect(aggregateHours(r)).toEqual([]);
  });

  it('evidence maps keep the top keys and sum the rest', () => {
    const m = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`d${i}`, i + 1]));
    const bounded = boundMap(m, 10);
    expect(Object.keys(bounded)).toHaveLength(11);
    expect(bounded[OTHER_KEY]).toBe(1 + 2 + 3 + 4 + 5);
    expect(bounded.d14).toBe(15);
  });
});

describe('window', () => {
  const at = new Date('2026-06-08T12:30:00Z');
  it('is the 168 hours ending with the hour of the evaluation', () => {
    const w = windowHours(at, STANDARD_POLICY);
    expect([w.fromHour, w.toHour]).toEqual(['2026-06-01T13', '2026-06-08T12']);
  });

  it('events before the window do not count, events in its first hour do', () => {
    const b = aggregateHours([...send(1, '2026-06-01T12:59:59.000Z'), ...send(2, '2026-06-01T13:00:00.000Z')]);
    expect(evaluateHours(b, STANDARD_POLICY, at).evidence.counts.sent).toBe(1);
  });

  it('after a resume only later events count, to the millisecond within the resume hour', () => {
    const armed = Date.parse('2026-06-08T10:20:00.000Z');
    const evs = [
      ...send(1, '2026-06-08T09:00:00.000Z'),
      ...send(2, '2026-06-08T10:19:59.999Z'),
      ...send(3, '2026-06-08T10:20:00.001Z'),
      ...send(4, '2026-06-08T11:00:00.000Z'),
    ];
    const d = evaluateHours(aggregateHours(evs, armed), STANDARD_POLICY, at, armed);
    expect(d.evidence.counts.sent).toBe(2);
    expect(d.evidence.window.from).toBe('2026-06-08T10:20:00.000Z');
    // Without the resume, all four count.
    expect(evaluateHours(aggregateHours(evs), STANDARD_POLICY, at).evidence.counts.sent).toBe(4);
  });

  it('pauses at 8 % over 1,000 sends with domains, campaigns and codes as evidence', () => {
    const t = '2026-06-08T09:00:00.000Z';
    const evs: NormalisedEvent[] = [];
    for (let i = 0; i < 1000; i++) evs.push(...send(i, t), ...(i < 80 ? bounce(i, t) : []));
    const d = evaluateHours(aggregateHours(evs), STANDARD_POLICY, at);
    expect(d.state).toBe('paused');
    expect(d.evidence.topDomains[0]).toEqual({ name: 'inbox.test', count: 80 });
    expect(d.evidence.topCampaigns[0]).toEqual({ name: 'spring', count: 80 });
    expect(d.evidence.topDiagnosticCodes[0]!.name).toContain('5.1.1');
  });
});
