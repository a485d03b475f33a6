import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LakeDb, openLake } from '../../queries/duckdb-lake';
import { NAMED_QUERIES } from '../../queries/named-queries';
import type { ReportEngine } from '../api/ports';
import { buildTestLake, type TestLake } from '../test-lake';
import { createDuckDbReportEngine, createDuckDbRollupReportEngine } from './duckdb-report-engine';
import { DuckDbReportsStore } from './duckdb-reports-store';
import { writeRollups } from './rollup-lake.test-support';
import { createSerialQueue } from './serial-lake';

let lake: TestLake;
let db: LakeDb;
let engine: ReportEngine;
let store: DuckDbReportsStore;
const FROM = Date.parse('2026-05-01T00:00:00Z');
const TO = Date.parse('2026-05-04T00:00:00Z');
const ALL = { from: FROM, to: TO, tenant: null, limit: 10_000 };

beforeAll(async () => {
  lake = buildTestLake({ messages: 2000, start: new Date(FROM), spanHours: 48 });
  db = await openLake(lake.dir);
  // The dashboards' engine: the first day rolled up, the rest read raw.
  await writeRollups(lake.dir, ['2026-05-01']);
  store = await DuckDbReportsStore.open({ lakeDir: lake.dir });
  engine = createDuckDbRollupReportEngine(store, { serial: createSerialQueue() });
});

afterAll(() => {
  db?.close();
  store?.close();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

/** The definitions of DESIGN.md written the plain way, over the lake's own deduplicated view. */
const REFERENCE = `SELECT tenant_id,
  count(*) FILTER (WHERE event_type = 'send') AS sent,
  count(*) FILTER (WHERE event_type = 'bounce' AND bounce_type = 'Permanent'
    AND coalesce(bounce_subtype, '') NOT IN ('OnAccountSuppressionList', 'OnTenantSuppressionList')) AS hard_bounces,
  count(*) FILTER (WHERE event_type = 'complaint' AND complaint_subtype IS NULL
    AND coalesce(complaint_feedback_type, '') <> 'not-spam') AS complaints,
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

  it("runs queries/'s named query where the registry defines it, with the same figures and the server's tenant scope", async () => {
    const named = createDuckDbReportEngine(db, { registry: NAMED_QUERIES, serial: createSerialQueue() });
    expect(named.reports().map((r) => r.name)).toEqual(expect.arrayContaining(['tenant-summary', 'campaign-report']));
    const cols = [
      'tenant_id',
      'sent',
      'delivered',
      'hard_bounces',
      'soft_bounces',
      'complaints',
      'unique_opens',
      'human_opens',
      'unique_clicks',
    ];
    const project = (rows: Record<string, unknown>[]) =>
      rows.map((r) => cols.map((c) => r[c])).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    const fromRegistry = (await named.run('tenant-summary', ALL)).rows;
    expect(project(fromRegistry)).toEqual(project((await engine.run('tenant-summary', ALL)).rows));
    const scoped = (await named.run('tenant-summary', { ...ALL, tenant: 'umbrella' })).rows;
    expect(scoped.map((r) => r.tenant_id)).toEqual(['umbrella']);
  });
});
