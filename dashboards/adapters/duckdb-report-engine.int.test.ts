import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LakeDb, openLake } from '../../queries/duckdb-lake';
import type { ReportEngine } from '../api/ports';
import { buildTestLake, type TestLake } from '../test-lake';
import { DuckDbLakeCache } from './duckdb-lake-cache';
import { createDuckDbReportEngine } from './duckdb-report-engine';
import { createSerialQueue } from './serial-lake';

let lake: TestLake;
let db: LakeDb;
let engine: ReportEngine;
const FROM = Date.parse('2026-05-01T00:00:00Z');
const TO = Date.parse('2026-05-04T00:00:00Z');
const ALL = { from: FROM, to: TO, tenant: null, limit: 10_000 };

beforeAll(async () => {
  lake = buildTestLake({ messages: 2000, start: new Date(FROM), spanHours: 48 });
  db = await openLake(lake.dir);
  engine = createDuckDbReportEngine(db, undefined, createSerialQueue(), new DuckDbLakeCache(db, lake.dir));
});

afterAll(() => {
  db?.close();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

/** The definitions of DESIGN.md written the plain way, over the lake's own deduplicated view. */
const REFERENCE = `SELECT tenant_id,
  count(*) FILTER (WHERE event_type = 'send') AS sent,
  count(*) FILTER (WHERE counts_toward_bounce_rate) AS hard_bounces,
  count(*) FILTER (WHERE counts_toward_complaint_rate) AS complaints,
  count(DISTINCT CASE WHEN event_type = 'open' THEN message_id || '|' || coalesce(recipient, '') END) AS unique_opens,
  count(DISTINCT CASE WHEN event_type = 'open' AND NOT machine_open THEN message_id || '|' || coalesce(recipient, '') END) AS human_opens,
  count(DISTINCT CASE WHEN event_type = 'open' AND machine_open THEN message_id || '|' || coalesce(recipient, '') END) AS machine_opens,
  count(DISTINCT CASE WHEN event_type = 'click' THEN message_id || '|' || coalesce(recipient, '') END) AS unique_clicks
  FROM events WHERE event_time >= '2026-05-01' AND event_time < '2026-05-04' GROUP BY tenant_id ORDER BY tenant_id`;

const pick = (r: Record<string, unknown>) =>
  [
    'tenant_id',
    'sent',
    'hard_bounces',
    'complaints',
    'unique_opens',
    'human_opens',
    'machine_opens',
    'unique_clicks',
  ].map((k) => (Number.isFinite(Number(r[k])) ? Number(r[k]) : r[k]));

describe('DuckDB report engine over a lake built by the real transform', () => {
  it('tenant-summary equals the plain count(DISTINCT) definitions, tenant by tenant', async () => {
    const expected = (await db.query(REFERENCE)).map(pick);
    const got = (await engine.run('tenant-summary', ALL)).rows
      .map(pick)
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(got).toEqual(expected);
    expect(expected.length).toBe(5);
    expect(expected.some((r) => Number(r[5]) > 0 && Number(r[6]) > 0)).toBe(true);
  });

  it('per-campaign and per-day rows add up to the tenant totals', async () => {
    const summary = (await engine.run('tenant-summary', { ...ALL, tenant: 'acme' })).rows[0]!;
    for (const report of ['campaign-report', 'daily-timeseries']) {
      const rows = (await engine.run(report, { ...ALL, tenant: 'acme' })).rows;
      expect(rows.every((r) => r.tenant_id === 'acme')).toBe(true);
      for (const k of ['sent', 'delivered', 'hard_bounces', 'complaints']) {
        expect(rows.reduce((n, r) => n + Number(r[k]), 0)).toBe(summary[k]);
      }
    }
  });

  it('binds every value: a tenant name holding SQL matches no rows and changes nothing', async () => {
    const before = (await engine.run('tenant-summary', ALL)).rows;
    expect((await engine.run('tenant-summary', { ...ALL, tenant: "acme' OR '1'='1" })).rows).toEqual([]);
    expect((await engine.run('tenant-summary', ALL)).rows).toEqual(before);
  });

  it('maps recipient domains to mailbox providers', async () => {
    const rows = (await engine.run('domain-deliverability', ALL)).rows;
    const provider = new Map(rows.map((r) => [r.recipient_domain, r.provider]));
    expect(provider.get('gmail.com')).toBe('Gmail');
    expect(provider.get('hotmail.com')).toBe('Outlook/Hotmail');
    expect(provider.get('yahoo.com')).toBe('Yahoo');
    expect(provider.get('icloud.com')).toBe('Apple iCloud');
  });
});
