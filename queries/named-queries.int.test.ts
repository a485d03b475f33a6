import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalisedEvent } from '../ingest/normalise';
import { UsageError } from '../lib/errors';
import { type LakeDb, openLake } from './duckdb-lake';
import { NAMED_QUERIES } from './named-queries';
import { compareNullsLast, dayOf, expectedRows, groupBy, type Metrics, metricsOf, providerOf } from './oracle';
import { type QueryRow, runNamedQuery } from './run-named-query';
import { buildQueryTestLake, EDGE_MESSAGE_ID, EDGE_TENANT, type QueryTestLake } from './test-lake';

let lake: QueryTestLake;
let db: LakeDb;

beforeAll(async () => {
  lake = buildQueryTestLake();
  db = await openLake(lake.dir);
});

afterAll(() => {
  db?.close();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

const METRIC_KEYS: (keyof Metrics)[] = [
  'sent',
  'delivered',
  'hard_bounces',
  'soft_bounces',
  'complaints',
  'opens',
  'unique_opens',
  'human_opens',
  'machine_opens',
  'clicks',
  'unique_clicks',
  'rejects',
  'delivery_delays',
  'rendering_failures',
  'subscriptions',
];

/** A result row's figures against the reference's: counts exactly, rates to 12 digits. */
function expectMetrics(row: QueryRow, want: Metrics, label: string): void {
  for (const k of METRIC_KEYS) expect(row[k], `${label} ${k}`).toBe(want[k]);
  for (const k of ['bounce_rate', 'complaint_rate', 'open_rate', 'click_rate'] as const) {
    if (want[k] === null) expect(row[k], `${label} ${k}`).toBeNull();
    else expect(row[k] as number, `${label} ${k}`).toBeCloseTo(want[k], 12);
  }
}

const inRange = (rows: readonly NormalisedEvent[], from: string, to: string) =>
  rows.filter((r) => r.event_time >= Date.parse(from) && r.event_time < Date.parse(to));

describe('named queries on the DuckDB lake, against the metric definitions computed independently', () => {
  it('the test lake holds duplicates, every tenant, and the edge cases', () => {
    expect(lake.duplicates).toBeGreaterThan(0);
    expect(new Set(lake.rows.map((r) => r.tenant_id)).size).toBeGreaterThanOrEqual(5);
  });

  it('daily-timeseries: one row per tenant and UTC day, every figure as defined, in day then tenant order', async () => {
    const rows = await runNamedQuery(db, 'daily-timeseries', {});
    const groups = [...groupBy(lake.rows, (r) => [dayOf(r.event_time), r.tenant_id] as const).values()].sort(
      (a, b) => compareNullsLast(a.key[0], b.key[0]) || compareNullsLast(a.key[1], b.key[1]),
    );
    expect(rows.map((r) => [r.day, r.tenant_id])).toEqual(groups.map((g) => [...g.key]));
    rows.forEach((row, i) => {
      expectMetrics(row, metricsOf(groups[i]!.rows), `${row.day} ${row.tenant_id}`);
    });
    expect(new Set(rows.map((r) => r.day)).size).toBeGreaterThanOrEqual(3);
  });

  it('daily-timeseries: a time range and the server scope keep only those days of that tenant', async () => {
    const [from, to] = ['2026-05-02T00:00:00Z', '2026-05-03T12:00:00Z'];
    const rows = await runNamedQuery(db, 'daily-timeseries', { from, to }, { tenant: 'acme' });
    const want = inRange(lake.rows, from, to).filter((r) => r.tenant_id === 'acme');
    expect(rows.map((r) => r.day)).toEqual(['2026-05-02', '2026-05-03']);
    expect(rows.every((r) => r.tenant_id === 'acme')).toBe(true);
    for (const row of rows) {
      expectMetrics(row, metricsOf(want.filter((r) => dayOf(r.event_time) === row.day)), String(row.day));
    }
  });

  it('tenant-summary: one row per tenant, every figure as defined, duplicates counted once', async () => {
    const rows = await runNamedQuery(db, 'tenant-summary', {});
    const groups = [...groupBy(lake.rows, (r) => [r.tenant_id] as const).values()].sort((a, b) =>
      compareNullsLast(a.key[0], b.key[0]),
    );
    expect(rows.map((r) => r.tenant_id)).toEqual(groups.map((g) => g.key[0]));
    rows.forEach((row, i) => {
      expectMetrics(row, metricsOf(groups[i]!.rows), String(row.tenant_id));
    });
  });

  it('tenant-summary: the edge tenant, counted by hand from its records', async () => {
    const [row] = await runNamedQuery(db, 'tenant-summary', {}, { tenant: EDGE_TENANT });
    // Sends: 5 recipients + 1; deliveries: 3 + 1. Bounces: the suppression-list one is not hard, the
    // Undetermined and MailboxFull ones are soft. Complaints: not-spam and the suppression-list one do not count.
    expect(row).toMatchObject({
      tenant_id: EDGE_TENANT,
      sent: 6,
      delivered: 4,
      hard_bounces: 1,
      soft_bounces: 2,
      complaints: 2,
      opens: 1,
      unique_opens: 1,
      clicks: 1,
      unique_clicks: 1,
    });
    expect(row!.bounce_rate).toBeCloseTo(1 / 6, 12);
    expect(row!.complaint_rate).toBeCloseTo(2 / 4, 12);
  });

  it('the tenant is the server scope: a caller passing it is refused, a scope matches only that tenant', async () => {
    await expect(runNamedQuery(db, 'tenant-summary', { tenant: 'acme' })).rejects.toThrow(UsageError);
    const rows = await runNamedQuery(db, 'daily-timeseries', {}, { tenant: 'globex' });
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.tenant_id))).toEqual(new Set(['globex']));
  });

  it('every query declares the columns it returns, in order', async () => {
    for (const q of NAMED_QUERIES.values()) {
      const params: Record<string, string> = q.params.some((p) => p.required)
        ? { message_id: lake.rows.find((r) => r.tenant_id === EDGE_TENANT)!.message_id }
        : {};
      const result = await db.connection.runAndReadAll(q.sql, q.bind({ ...params, tenant: EDGE_TENANT }) as never);
      expect(result.columnNames(), q.name).toEqual(q.columns.map((c) => c.name));
    }
  });

  it('campaign-report: one row per tenant and campaign (mail without a campaign included), by volume', async () => {
    const rows = await runNamedQuery(db, 'campaign-report', {});
    const groups = [...groupBy(lake.rows, (r) => [r.tenant_id, r.campaign_id] as const).values()];
    expect(rows).toHaveLength(groups.length);
    const byKey = new Map(groups.map((g) => [JSON.stringify(g.key), g.rows]));
    for (const row of rows) {
      const want = byKey.get(JSON.stringify([row.tenant_id, row.campaign_id]))!;
      expect(want, `${row.tenant_id}/${row.campaign_id}`).toBeDefined();
      expectMetrics(row, metricsOf(want), `${row.tenant_id}/${row.campaign_id}`);
      const subjects = want.map((r) => r.subject).filter((x): x is string => x !== null);
      expect(row.subject).toBe(subjects.sort().at(-1) ?? null);
    }
    const sent = rows.map((r) => Number(r.sent));
    expect(sent).toEqual([...sent].sort((a, b) => b - a));
    expect(rows.some((r) => r.tenant_id === EDGE_TENANT && r.campaign_id === null)).toBe(true);
    const one = await runNamedQuery(db, 'campaign-report', { campaign: 'edge-launch' });
    expect(one.map((r) => [r.tenant_id, r.campaign_id, r.sent])).toEqual([[EDGE_TENANT, 'edge-launch', 5]]);
  });

  it('domain-deliverability: one row per recipient domain with its mailbox provider', async () => {
    const rows = await runNamedQuery(db, 'domain-deliverability', {});
    const withDomain = lake.rows.filter((r) => r.recipient_domain !== null);
    const groups = groupBy(withDomain, (r) => [r.recipient_domain] as const);
    expect(rows).toHaveLength(groups.size);
    for (const row of rows) {
      const want = groups.get(JSON.stringify([row.recipient_domain]))!.rows;
      expect(row.provider, String(row.recipient_domain)).toBe(providerOf(String(row.recipient_domain)));
      expectMetrics(row, metricsOf(want), String(row.recipient_domain));
    }
    const provider = new Map(rows.map((r) => [r.recipient_domain, r.provider]));
    expect([
      provider.get('gmail.com'),
      provider.get('hotmail.co.uk'),
      provider.get('outlook.de'),
      provider.get('yahoo.fr'),
      provider.get('aol.com'),
      provider.get('me.com'),
      provider.get('example.org'),
    ]).toEqual(['Gmail', 'Outlook/Hotmail', 'Outlook/Hotmail', 'Yahoo', 'Yahoo', 'Apple iCloud', 'other']);
    const apple = await runNamedQuery(db, 'domain-deliverability', { provider: 'Apple iCloud' });
    expect(new Set(apple.map((r) => r.recipient_domain))).toEqual(
      new Set(
        withDomain.filter((r) => providerOf(r.recipient_domain!) === 'Apple iCloud').map((r) => r.recipient_domain),
      ),
    );
  });

  it('bounce-breakdown: per type and subtype, the top status codes with their counts', async () => {
    for (const top of [undefined, '1']) {
      const rows = await runNamedQuery(db, 'bounce-breakdown', top ? { top } : {});
      expect(rows).toEqual(
        expectedRows('bounce-breakdown', lake.rows, { tenant: null, from: null, to: null, top: top ?? null }),
      );
      expect(rows.length).toBeGreaterThanOrEqual(4);
    }
    const classes = await runNamedQuery(db, 'bounce-breakdown', {}, { tenant: EDGE_TENANT });
    expect(classes.map((r) => [r.bounce_subtype, r.bounce_class]).sort()).toEqual([
      ['General', 'hard'],
      ['MailboxFull', 'soft'],
      ['OnAccountSuppressionList', 'suppressed'],
      ['Undetermined', 'soft'],
    ]);
  });

  it('complaint-breakdown: per feedback type and subtype, and which count toward the rate', async () => {
    const rows = await runNamedQuery(db, 'complaint-breakdown', {});
    const complaints = lake.rows.filter((r) => r.event_type === 'complaint');
    const groups = groupBy(complaints, (r) => [r.complaint_feedback_type, r.complaint_subtype] as const);
    expect(rows).toHaveLength(groups.size);
    for (const row of rows) {
      const g = groups.get(JSON.stringify([row.feedback_type, row.complaint_subtype]))!;
      expect(row.complaints).toBe(g.rows.length);
      expect(row.recipients).toBe(new Set(g.rows.map((r) => r.recipient)).size);
    }
    const edge = await runNamedQuery(db, 'complaint-breakdown', {}, { tenant: EDGE_TENANT });
    expect(edge.map((r) => [r.feedback_type, r.complaint_subtype, r.counts_toward_rate, r.complaints])).toEqual([
      ['abuse', null, true, 1],
      ['not-spam', null, false, 1],
      [null, 'OnAccountSuppressionList', false, 1],
      [null, null, true, 1],
    ]);
  });

  it('bounced-recipients: every bounce and complaint with its address, reason and time, newest first', async () => {
    const rows = await runNamedQuery(db, 'bounced-recipients', {});
    const want = lake.rows
      .filter((r) => r.event_type === 'bounce' || r.event_type === 'complaint')
      .sort(
        (a, b) =>
          b.event_time - a.event_time ||
          compareNullsLast(a.recipient, b.recipient) ||
          compareNullsLast(a.event_id, b.event_id),
      );
    expect(rows.map((r) => [r.event_time, r.event_type, r.recipient, r.message_id])).toEqual(
      want.map((r) => [new Date(r.event_time).toISOString(), r.event_type, r.recipient, r.message_id]),
    );
    rows.forEach((row, i) => {
      const w = want[i]!;
      const reason =
        w.event_type === 'bounce'
          ? (w.diagnostic_code ?? w.bounce_subtype)
          : (w.complaint_feedback_type ?? w.complaint_subtype);
      expect(row.reason).toBe(reason);
    });
    const onlyComplaints = await runNamedQuery(db, 'bounced-recipients', { event_type: 'complaint' });
    expect(onlyComplaints).toHaveLength(want.filter((r) => r.event_type === 'complaint').length);
  });

  it('message-timeline: every event of one message in time order; the message id is required', async () => {
    const rows = await runNamedQuery(db, 'message-timeline', { message_id: EDGE_MESSAGE_ID });
    const want = lake.rows
      .filter((r) => r.message_id === EDGE_MESSAGE_ID)
      .sort(
        (a, b) =>
          a.event_time - b.event_time ||
          compareNullsLast(a.event_type, b.event_type) ||
          (a.recipient === null ? -1 : b.recipient === null ? 1 : compareNullsLast(a.recipient, b.recipient)) ||
          compareNullsLast(a.event_id, b.event_id),
      );
    expect(rows.map((r) => [r.event_time, r.event_type, r.recipient])).toEqual(
      want.map((r) => [new Date(r.event_time).toISOString(), r.event_type, r.recipient]),
    );
    // 5 sends, 3 deliveries, 4 bounces, 4 complaints, 1 open.
    expect(rows).toHaveLength(17);
    await expect(runNamedQuery(db, 'message-timeline', {})).rejects.toThrow(/needs --message_id/);
    expect(await runNamedQuery(db, 'message-timeline', { message_id: EDGE_MESSAGE_ID }, { tenant: 'acme' })).toEqual(
      [],
    );
  });

  const ATTACKS = [
    "x' OR '1'='1",
    "'; DROP VIEW events; --",
    "acme' UNION SELECT * FROM events_raw --",
    '1); DELETE FROM events_raw; --',
    ':tenant',
    '?',
  ];

  it('an injection attempt in every parameter is harmless: it matches nothing or is refused, and the lake is unchanged', {
    timeout: 180_000,
  }, async () => {
    const before = await runNamedQuery(db, 'tenant-summary', {});
    const rawRows = async () => Number((await db.query<{ n: bigint }>('SELECT count(*) AS n FROM events_raw'))[0]!.n);
    const rawBefore = await rawRows();
    for (const q of NAMED_QUERIES.values()) {
      for (const spec of q.params) {
        for (const attack of ATTACKS) {
          const base: Record<string, string> = q.params.some((p) => p.required && p.name !== spec.name)
            ? { message_id: EDGE_MESSAGE_ID }
            : {};
          const run =
            spec.name === 'tenant'
              ? runNamedQuery(db, q.name, base, { tenant: attack })
              : runNamedQuery(db, q.name, { ...base, [spec.name]: attack });
          if (spec.type === 'string') {
            // Bound as a value: it is compared with data, never run.
            expect(await run, `${q.name} ${spec.name} ${attack}`).toEqual([]);
          } else {
            await expect(run, `${q.name} ${spec.name} ${attack}`).rejects.toThrow(UsageError);
          }
        }
      }
    }
    expect(await runNamedQuery(db, 'tenant-summary', {})).toEqual(before);
    expect(await rawRows()).toBe(rawBefore);
  });
});
