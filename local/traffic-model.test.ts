import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { transformRecord } from '../ingest/transform';
import {
  APPLE_MPP_USER_AGENT,
  BAD_SENDER,
  createTrafficModel,
  type DomainProfile,
  defaultTenants,
  generateTraffic,
  type Outcome,
  SES_MESSAGE_ID,
  SeededRandom,
  simulateOutcomes,
  simulatorScenario,
  suppressionBounce,
  type TenantProfile,
} from './traffic-model';

const START = new Date('2026-11-01T00:00:00.000Z');

function eventTime(r: Record<string, unknown>): number {
  const key = Object.keys(r).find((k) => k !== 'eventType' && k !== 'mail');
  const obj = (key === 'send' ? r.mail : r[key!]) as { timestamp: string };
  return Date.parse(obj.timestamp);
}

function digest(records: Iterable<Record<string, unknown>>): string {
  const h = createHash('sha256');
  for (const r of records) h.update(`${JSON.stringify(r)}\n`);
  return h.digest('hex');
}

/** One domain with round rates, and kind factors of 1, so expected rates are the configured numbers. */
const TEST_DOMAIN: DomainProfile = {
  domain: 'mail.test',
  provider: 'isp',
  weight: 1,
  hardBounce: 0.02,
  softBounce: 0.01,
  undetermined: 0.005,
  delay: 0.05,
  complaint: 0.01,
  open: 0.3,
  appleMppShare: 0.1,
  imageProxy: false,
  click: 0.2,
  scannerClick: 0,
};
const FLAT_MODEL = createTrafficModel({
  domains: [TEST_DOMAIN],
  simulatorShare: 0,
  multiRecipientShare: 0,
  kindFactors: {},
});

/** Fails when `observed` of `n` trials is more than 5 standard deviations from p (a wrong model, not bad luck). */
function expectRate(observed: number, n: number, p: number): void {
  const sd = Math.sqrt((p * (1 - p)) / n);
  expect(Math.abs(observed / n - p)).toBeLessThanOrEqual(5 * sd + 1e-9);
}

describe('generateTraffic', () => {
  it('gives byte-identical records for the same seed and different records for another seed', () => {
    const opts = { tenants: 5, messages: 2000, start: START };
    const a = digest(generateTraffic({ seed: 42, ...opts }));
    const b = digest(generateTraffic({ seed: 42, ...opts }));
    const c = digest(generateTraffic({ seed: 43, ...opts }));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('writes records the ingest transform accepts, with tenant, campaign and kind tags and SES message ids', () => {
    const tenants = defaultTenants(4);
    let n = 0;
    for (const r of generateTraffic({ seed: 7, tenants, messages: 1500, start: START })) {
      const t = transformRecord(`${JSON.stringify(r)}\n`);
      expect(t.ok, JSON.stringify(t).slice(0, 200)).toBe(true);
      if (!t.ok) continue;
      const row = t.rows[0]!;
      expect(row.tenant_source).toBe('tag');
      expect(tenants.map((x) => x.name)).toContain(row.tenant_id);
      expect(row.campaign_id).toMatch(/^[a-z-]+$/);
      expect(['transactional', 'marketing']).toContain(row.message_kind);
      expect(row.message_id).toMatch(SES_MESSAGE_ID);
      expect(row.event_time).toBe(eventTime(r));
      const tags = (r.mail as { tags: Record<string, string[]> }).tags;
      const hasTenantName = 'ses:tenant-name' in tags;
      expect(hasTenantName).toBe(r.eventType === 'Bounce' || r.eventType === 'Complaint');
      n++;
    }
    expect(n).toBeGreaterThan(3000);
  });

  it('emits records in event-time order, and one Send per message', () => {
    let last = 0;
    let sends = 0;
    for (const r of generateTraffic({ seed: 3, tenants: 3, messages: 3000, start: START, spanHours: 2 })) {
      const t = eventTime(r);
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
      if (r.eventType === 'Send') sends++;
    }
    expect(sends).toBe(3000);
  });

  it('follows the daily rhythm: many more sends at 15:00 UTC than at 03:00, unless diurnal is off', () => {
    const perHour = (diurnal: boolean) => {
      const counts = new Array<number>(24).fill(0);
      const opts = { seed: 6, tenants: 2, messages: 24_000, start: START, diurnal, order: 'message' as const };
      for (const r of generateTraffic(opts)) {
        if (r.eventType === 'Send') counts[new Date(eventTime(r)).getUTCHours()]!++;
      }
      return counts;
    };
    const shaped = perHour(true);
    expect(shaped[15]!).toBeGreaterThan(2.5 * shaped[3]!);
    const flat = perHour(false);
    expect(flat[15]!).toBeLessThan(1.3 * flat[3]!);
    expect(shaped.reduce((a, b) => a + b)).toBe(24_000);
  });

  it('stops at maxRecords', () => {
    const records = [...generateTraffic({ seed: 1, tenants: 2, messages: 1000, start: START, maxRecords: 123 })];
    expect(records).toHaveLength(123);
  });

  it('keeps sends within the span and later events after their send', () => {
    const end = START.getTime() + 3 * 3600_000;
    for (const r of generateTraffic({
      seed: 9,
      tenants: 2,
      messages: 500,
      start: START,
      spanHours: 3,
      order: 'message',
    })) {
      const mailTime = Date.parse((r.mail as { timestamp: string }).timestamp);
      expect(mailTime).toBeGreaterThanOrEqual(START.getTime());
      expect(mailTime).toBeLessThanOrEqual(end + 3600_000);
      expect(eventTime(r)).toBeGreaterThanOrEqual(mailTime);
    }
  });

  it('matches the configured per-domain rates within tolerance', () => {
    const tenants: TenantProfile[] = [{ name: 'good' }];
    const n = 40_000;
    const c = { hard: 0, soft: 0, undetermined: 0, delivered: 0, delayedDelivered: 0, complaint: 0 };
    const delayed = new Set<string>();
    const humanOpeners = new Set<string>();
    const mpp = new Set<string>();
    for (const r of generateTraffic({
      seed: 11,
      tenants,
      messages: n,
      start: START,
      model: FLAT_MODEL,
      order: 'message',
    })) {
      const id = (r.mail as { messageId: string }).messageId;
      switch (r.eventType) {
        case 'Bounce': {
          const b = r.bounce as { bounceType: string };
          if (b.bounceType === 'Permanent') c.hard++;
          else if (b.bounceType === 'Transient') c.soft++;
          else c.undetermined++;
          break;
        }
        case 'DeliveryDelay':
          delayed.add(id);
          break;
        case 'Delivery':
          c.delivered++;
          if (delayed.has(id)) c.delayedDelivered++;
          break;
        case 'Complaint':
          c.complaint++;
          break;
        case 'Open': {
          const ua = (r.open as { userAgent: string }).userAgent;
          (ua === APPLE_MPP_USER_AGENT ? mpp : humanOpeners).add(id);
          break;
        }
      }
    }
    expectRate(c.hard, n, 0.02);
    expectRate(c.soft, n, 0.01);
    expectRate(c.undetermined, n, 0.005);
    expectRate(c.delivered, n, 1 - 0.02 - 0.01 - 0.005);
    expectRate(c.delayedDelivered, c.delivered, 0.05);
    expectRate(c.complaint, c.delivered, 0.01);
    expectRate(humanOpeners.size, c.delivered, 0.3);
    expectRate(mpp.size, c.delivered, 0.1);
  });

  it('makes a bad sender bounce at its configured hard bounce rate', () => {
    const tenants: TenantProfile[] = [
      { name: 'good', weight: 1 },
      { name: 'bad', weight: 1, sender: { hardBounceRate: 0.08 } },
    ];
    const sent = new Map<string, number>();
    const hard = new Map<string, number>();
    for (const r of generateTraffic({ seed: 5, tenants, messages: 30_000, start: START, model: FLAT_MODEL })) {
      const tenant = (r.mail as { tags: Record<string, string[]> }).tags.tenant![0]!;
      if (r.eventType === 'Send') sent.set(tenant, (sent.get(tenant) ?? 0) + 1);
      if (r.eventType === 'Bounce' && (r.bounce as { bounceType: string }).bounceType === 'Permanent') {
        hard.set(tenant, (hard.get(tenant) ?? 0) + 1);
      }
    }
    expectRate(hard.get('bad') ?? 0, sent.get('bad')!, 0.08);
    expectRate(hard.get('good') ?? 0, sent.get('good')!, 0.02);
  });

  it('sends no complaints for Gmail recipients (Gmail has no feedback loop to SES)', () => {
    const tenants: TenantProfile[] = [
      { name: 'spammy', sender: { complaintRate: 0.05 }, domainMix: { 'gmail.com': 1 } },
    ];
    const types = new Set<unknown>();
    const model = createTrafficModel({ simulatorShare: 0 });
    for (const r of generateTraffic({ seed: 2, tenants, messages: 3000, start: START, model })) types.add(r.eventType);
    expect(types.has('Delivery')).toBe(true);
    expect(types.has('Complaint')).toBe(false);
  });

  it('produces Apple MPP and GoogleImageProxy opens that the normaliser flags as machine opens', () => {
    const tenants: TenantProfile[] = [{ name: 'opens', domainMix: { 'icloud.com': 1, 'gmail.com': 1 } }];
    let machine = 0;
    let human = 0;
    for (const r of generateTraffic({ seed: 8, tenants, messages: 3000, start: START })) {
      if (r.eventType !== 'Open') continue;
      const t = transformRecord(JSON.stringify(r));
      if (!t.ok) throw new Error(t.reason);
      if (t.rows[0]!.machine_open) machine++;
      else human++;
    }
    expect(machine).toBeGreaterThan(human);
    expect(human).toBeGreaterThan(0);
  });

  it('gives every fourth default tenant the bad sender profile', () => {
    const t = defaultTenants(14);
    expect(t[3]!.sender).toBe(BAD_SENDER);
    expect(t[13]!.sender).toBe(BAD_SENDER);
    expect(t.filter((x) => x.sender).length).toBe(2);
    expect(new Set(t.map((x) => x.name)).size).toBe(14);
  });

  it('refuses a tenant name SES would refuse as a tag value', () => {
    const gen = generateTraffic({ seed: 1, tenants: [{ name: 'bad name' }], messages: 1, start: START });
    expect(() => gen.next()).toThrow(/tenant name/);
  });
});

describe('mailbox simulator addresses', () => {
  const kinds = (address: string): string[] =>
    simulateOutcomes({ recipients: [address] }, createTrafficModel(), new SeededRandom(1)).map((o) =>
      o.kind === 'bounce' ? `bounce:${o.bounceType}/${o.bounceSubType}` : o.kind,
    );

  it('behave as SES documents them', () => {
    expect(kinds('success@simulator.amazonses.com')).toEqual(['delivery']);
    expect(kinds('bounce@simulator.amazonses.com')).toEqual(['bounce:Permanent/General']);
    expect(kinds('ooto@simulator.amazonses.com')).toEqual(['delivery']);
    expect(kinds('complaint@simulator.amazonses.com')).toEqual(['delivery', 'complaint']);
    expect(kinds('suppressionlist@simulator.amazonses.com')).toEqual(['bounce:Permanent/Suppressed']);
  });

  it('ignore labels and case', () => {
    expect(simulatorScenario('bounce+test-42@simulator.amazonses.com')).toBe('bounce');
    expect(simulatorScenario('Complaint+x@simulator.amazonses.com')).toBe('complaint');
    expect(simulatorScenario('whatever@simulator.amazonses.com')).toBe('success');
  });

  it('give the documented 5.1.1 hard bounce for bounce@', () => {
    const [o] = simulateOutcomes(
      { recipients: ['bounce@simulator.amazonses.com'] },
      createTrafficModel(),
      new SeededRandom(3),
    ) as Extract<Outcome, { kind: 'bounce' }>[];
    expect(o?.status).toBe('5.1.1');
    expect(o?.diagnosticCode).toContain('550 5.1.1');
  });
});

describe('suppressionBounce', () => {
  it('uses the account and tenant suppression subtypes', () => {
    const a = suppressionBounce('x@example.com', 'ACCOUNT');
    const t = suppressionBounce('x@example.com', 'TENANT');
    expect(a.kind === 'bounce' && a.bounceSubType).toBe('OnAccountSuppressionList');
    expect(t.kind === 'bounce' && t.bounceSubType).toBe('OnTenantSuppressionList');
  });
});
