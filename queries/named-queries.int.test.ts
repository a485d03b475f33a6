import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalisedEvent } from '../ingest/normalise';
import { UsageError } from '../lib/errors';
import { type LakeDb, openLake } from './duckdb-lake';
import { NAMED_QUERIES } from './named-queries';
import { compareNullsLast, dayOf, groupBy, type Metrics, metricsOf } from './oracle';
import { type QueryRow, runNamedQuery } from './run-named-query';
import { buildQueryTestLake, EDGE_TENANT, type QueryTestLake } from './test-lake';

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
});
