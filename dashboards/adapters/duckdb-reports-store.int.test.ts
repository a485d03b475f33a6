import { copyFileSync, cpSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openLake } from '../../queries/duckdb-lake';
import { NAMED_QUERIES } from '../../queries/named-queries';
import type { ReportParams } from '../api/ports';
import { rollupRenderings } from '../report-split';
import { startDashboardServer } from '../server';
import { buildTestLake } from '../test-lake';
import { createDuckDbLiveFigures, createDuckDbRollupLiveFigures } from './duckdb-live-figures';
import { createDuckDbReportEngine, createDuckDbRollupReportEngine } from './duckdb-report-engine';
import { DuckDbReportsStore } from './duckdb-reports-store';
import { addLateFile, rawLiveFigures, rewriteDayFiles } from './raw-lake.test-support';
import { ROLLED_UP_LAKE_START, useRolledUpTestLake, writeRollups } from './rollup-lake.test-support';

const H = 3_600_000;
const START = ROLLED_UP_LAKE_START;
const fx = useRolledUpTestLake({ seed: 11, scratch: 'sesflow-reports-store-' });

/** The named queries over the whole lake opened now (every file read, deduplicated): the answer to match. */
async function reference() {
  const db = await openLake(fx.lake.dir);
  return {
    run: (name: string, p: ReportParams) => createDuckDbReportEngine(db).run(name, p),
    close: () => db.close(),
  };
}

const PERIODS: [string, number, number][] = [
  ['whole rolled-up days', START, START + 2 * 24 * H],
  ['partial days at both ends', START + 5 * H + 1234, START + 2 * 24 * H + 17 * H],
  ['a whole day and a partial one', START + 24 * H, START + 2 * 24 * H + 3 * H],
  ['longer than the data', START - 10 * 24 * H, START + 40 * 24 * H],
  ['inside one day', START + 3 * H, START + 20 * H],
];
const TENANTS = [null, 'umbrella'];

/**
 * Every metric report (and two that have no rollup rendering) over every period and tenant equals the raw-only
 * answer; `quick`: two periods, all tenants only. Returns the sources used.
 */
async function expectSameAsRaw(store: DuckDbReportsStore, label: string, quick = true): Promise<Set<string>> {
  const engine = createDuckDbRollupReportEngine(store);
  const ref = await reference();
  const sources = new Set<string>();
  let rows = 0;
  try {
    for (const [period, from, to] of quick ? PERIODS.slice(1, 2) : PERIODS) {
      for (const tenant of quick ? [null] : TENANTS) {
        for (const name of [...rollupRenderings(NAMED_QUERIES).keys(), 'bounced-recipients']) {
          const p = { from, to, tenant, limit: 100_000 };
          const got = await engine.run(name, p);
          const want = await ref.run(name, p);
          expect({ columns: got.columns, rows: got.rows }, `${label}: ${name} ${period} ${tenant}`).toEqual(want);
          sources.add(got.basis!.source);
          rows += got.rows.length;
        }
      }
    }
  } finally {
    ref.close();
  }
  expect(rows).toBeGreaterThan(quick ? 20 : 200);
  return sources;
}

describe('reports engine: rollups and the raw open window', () => {
  it('answers every metric report exactly as the raw events do, whole days from rollups, edges from raw', async () => {
    const store = await DuckDbReportsStore.open({ lakeDir: fx.lake.dir, minIntervalMs: 0 });
    try {
      const sources = await expectSameAsRaw(store, 'rolled up', false);
      expect([...sources].sort()).toEqual(['raw', 'rollups', 'rollups+raw']);
    } finally {
      store.close();
    }
  }, 240_000);

  it('holds the rollups and no raw row: no table besides the rollup tables, whose rows are the rollup files', async () => {
    const store = await DuckDbReportsStore.open({ lakeDir: fx.lake.dir, minIntervalMs: 0 });
    try {
      await store.refresh();
      const held = await store.held();
      expect(held.otherTables).toBe(0);
      const db = await openLake(fx.lake.dir);
      try {
        for (const t of ['daily', 'hourly', 'pairs', 'bounces', 'complaints']) {
          const [files] = await db.query<{ n: bigint }>(
            `SELECT count(*) AS n FROM read_parquet('${join(fx.lake.dir, 'rollups', t)}/*/*.parquet')`,
          );
          expect(held[t], t).toBe(Number(files!.n));
        }
        const [raw] = await db.query<{ n: bigint }>('SELECT count(*) AS n FROM events');
        // The rollup rows are a small part of the events of the days they cover.
        expect(held.daily! + held.hourly! + held.pairs!).toBeLessThan(Number(raw!.n) / 2);
      } finally {
        db.close();
      }
      expect(held.daily).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  });

  it('reloads only the days whose rollup files changed; a compaction of raw files reloads nothing and makes its day stale', async () => {
    const store = await DuckDbReportsStore.open({ lakeDir: fx.lake.dir, minIntervalMs: 0 });
    try {
      await store.refresh();
      expect(store.lastReloaded).toHaveLength(10);
      await store.refresh();
      expect(store.lastReloaded).toEqual([]);
      expect(store.rolledUp(START)).toBe(true);

      // Compaction replaces an hour's file of a rolled-up day: a new file, newer than the day's rollup.
      const hour = join(fx.lake.dir, 'events', 'dt=2026-07-01', 'hour=10');
      const [name] = readdirSync(hour);
      copyFileSync(
        join(hour, name!),
        join(hour, 'sesflow~compacted-2026-07-05-00-00-00-0a1b2c3d-0000-4000-8000-000000000001.parquet'),
      );
      rmSync(join(hour, name!));
      await store.refresh();
      expect(store.lastReloaded).toEqual([]);
      expect(store.rolledUp(START)).toBe(false);
      await expectSameAsRaw(store, 'day 1 stale');

      // The writer rebuilds that day's rollups: that day alone is loaded again, and is rolled up again.
      await writeRollups(fx.lake.dir, ['2026-07-01']);
      await store.refresh();
      expect(store.lastReloaded).toEqual([
        'bounces/2026-07-01',
        'complaints/2026-07-01',
        'daily/2026-07-01',
        'hourly/2026-07-01',
        'pairs/2026-07-01',
      ]);
      expect(store.rolledUp(START)).toBe(true);
      await expectSameAsRaw(store, 'day 1 rebuilt');
    } finally {
      store.close();
    }
  });

  it('counts a redelivered raw file once, and reads the open days from raw', async () => {
    const hour = join(fx.lake.dir, 'events', 'dt=2026-07-03', 'hour=09');
    const [name] = readdirSync(hour);
    copyFileSync(join(hour, name!), join(hour, 'firehose-redelivered.parquet'));
    const store = await DuckDbReportsStore.open({ lakeDir: fx.lake.dir, minIntervalMs: 0 });
    try {
      await expectSameAsRaw(store, 'redelivered');
    } finally {
      store.close();
      rmSync(join(hour, 'firehose-redelivered.parquet'));
    }
  });

  it('keeps the rollup tables in its DuckDB file: a restart reloads nothing that did not change', async () => {
    const file = join(fx.scratch, 'reports.duckdb');
    const first = await DuckDbReportsStore.open({ lakeDir: fx.lake.dir, dbFile: file, minIntervalMs: 0 });
    await first.refresh();
    expect(first.lastReloaded.length).toBe(10);
    first.close();
    const again = await DuckDbReportsStore.open({ lakeDir: fx.lake.dir, dbFile: file, minIntervalMs: 0 });
    try {
      await again.refresh();
      expect(again.lastReloaded).toEqual([]);
      expect(again.rolledUp(START + 24 * H)).toBe(true);
      await expectSameAsRaw(again, 'restarted');
    } finally {
      again.close();
    }
  });

  it('live figures from rollup_hourly and the raw open hours equal those over the raw events', async () => {
    const store = await DuckDbReportsStore.open({ lakeDir: fx.lake.dir, minIntervalMs: 0 });
    const db = await openLake(fx.lake.dir);
    try {
      for (const now of ['2026-07-02T12:30:00Z', '2026-07-03T20:00:00Z', '2026-07-08T01:00:00Z']) {
        const fromRollups = await createDuckDbRollupLiveFigures(store, undefined, { cacheMs: 0 }).figures(
          new Date(now),
        );
        const fromRaw = await createDuckDbLiveFigures(db, undefined, { cacheMs: 0 }).figures(new Date(now));
        expect(fromRollups, now).toEqual(fromRaw);
        expect(
          fromRaw.reduce((n, t) => n + t.sent7d, 0),
          now,
        ).toBeGreaterThan(100);
      }
    } finally {
      db.close();
      store.close();
    }
  });

  it('live figures keep the raw hours counted while their files are the same, and count a new raw file at once', async () => {
    const dir = join(fx.scratch, 'live-cache-lake');
    cpSync(fx.lake.dir, dir, { recursive: true });
    const more = buildTestLake({ messages: 300, start: new Date(START), spanHours: 72, seed: 12 });
    const store = await DuckDbReportsStore.open({ lakeDir: dir, minIntervalMs: 0 });
    const now = new Date('2026-07-03T20:00:00Z');
    const rawFigures = () => rawLiveFigures(dir, now);
    try {
      const live = createDuckDbRollupLiveFigures(store, undefined, { cacheMs: 0 });
      const before = await live.figures(now);
      expect(before).toEqual(await rawFigures());
      expect(store.lastRawRanges.length).toBeGreaterThan(0);
      store.lastRawRanges = [];
      expect(await live.figures(now)).toEqual(before);
      expect(store.lastRawRanges, 'the raw hours were not read again').toEqual([]);
      addLateFile(more.dir, dir, join('events', 'dt=2026-07-03', 'hour=10'));
      const after = await live.figures(now);
      expect(after).toEqual(await rawFigures());
      expect(after).not.toEqual(before);
    } finally {
      store.close();
      rmSync(more.dir, { recursive: true, force: true });
    }
  });

  it('live figures are kept while nothing they read changed, and a rolled-up day rebuilt with a late event counts at once', async () => {
    const dir = join(fx.scratch, 'live-rebuilt-lake');
    cpSync(fx.lake.dir, dir, { recursive: true });
    const more = buildTestLake({ messages: 300, start: new Date(START), spanHours: 72, seed: 13 });
    // (the copy's files have new versions: its days are rolled up again)
    await writeRollups(dir, ['2026-07-01', '2026-07-02']);
    const store = await DuckDbReportsStore.open({ lakeDir: dir, minIntervalMs: 0 });
    const now = new Date('2026-07-03T20:00:00Z');
    try {
      const live = createDuckDbRollupLiveFigures(store, undefined, { cacheMs: 0 });
      const before = await live.figures(now);
      expect(store.rolledUp(START + 24 * H)).toBe(true);
      store.lastRawRanges = [];
      expect(await live.figures(now)).toBe(before);
      expect(store.lastRawRanges, 'nothing was read again').toEqual([]);
      // A late event in the rolled-up 2026-07-02, rolled up again before the next request: the same days and raw
      // hours as before, only the day's build differs.
      addLateFile(more.dir, dir, join('events', 'dt=2026-07-02', 'hour=10'));
      await writeRollups(dir, ['2026-07-02']);
      const after = await live.figures(now);
      expect(store.rolledUp(START + 24 * H)).toBe(true);
      expect(after).toEqual(await rawLiveFigures(dir, now));
      expect(after).not.toEqual(before);
    } finally {
      store.close();
      rmSync(more.dir, { recursive: true, force: true });
    }
  });

  it('reads a raw file rewritten under its name with other columns as it is now, not as its schema was kept', async () => {
    const dir = join(fx.scratch, 'rewritten-lake');
    cpSync(fx.lake.dir, dir, { recursive: true });
    const store = await DuckDbReportsStore.open({ lakeDir: dir, minIntervalMs: 0 });
    const engine = createDuckDbRollupReportEngine(store);
    const p = { from: START + 2 * 24 * H, to: START + 3 * 24 * H, tenant: null, limit: 100_000 };
    const want = async () => {
      const db = await openLake(dir);
      try {
        return (await createDuckDbReportEngine(db).run('bounced-recipients', p)).rows;
      } finally {
        db.close();
      }
    };
    try {
      const before = await engine.run('bounced-recipients', p);
      expect(before.rows).toEqual(await want());
      expect(before.rows.some((r) => r.campaign_id !== null)).toBe(true);
      // Every file of the day rewritten in place without campaign_id (as an older writer's files were).
      await rewriteDayFiles(store.connection, dir, '2026-07-03', (src) => `SELECT * EXCLUDE (campaign_id) FROM ${src}`);
      const after = await engine.run('bounced-recipients', p);
      expect(after.rows).toEqual(await want());
      expect(after.rows.length).toBe(before.rows.length);
      expect(after.rows.every((r) => r.campaign_id === null)).toBe(true);
    } finally {
      store.close();
    }
  });

  it('lists again and reads what replaced a raw file deleted between the listing and the read', async () => {
    const store = await DuckDbReportsStore.open({ lakeDir: fx.lake.dir, minIntervalMs: 60_000 });
    try {
      await store.refresh(true);
      const hour = join(fx.lake.dir, 'events', 'dt=2026-07-03', 'hour=05');
      const [name] = readdirSync(hour);
      copyFileSync(
        join(hour, name!),
        join(hour, 'sesflow~compacted-2026-07-06-00-00-00-0a1b2c3d-0000-4000-8000-000000000002.parquet'),
      );
      rmSync(join(hour, name!));
      const t = new Date('2026-07-06T00:00:00Z');
      utimesSync(hour, t, t);
      const p = { from: START + 2 * 24 * H, to: START + 3 * 24 * H, tenant: null, limit: 1000 };
      const got = await createDuckDbRollupReportEngine(store).run('tenant-summary', p);
      const ref = await reference();
      try {
        expect(got.rows).toEqual((await ref.run('tenant-summary', p)).rows);
      } finally {
        ref.close();
      }
    } finally {
      store.close();
    }
  });
});

describe('reports engine: a period longer than raw retention', () => {
  it('answers the aggregate reports from rollups alone over whole days and says so; drill-down says the raw events were deleted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sesflow-retention-'));
    const own = buildTestLake({ messages: 600, start: new Date(START), spanHours: 72, seed: 5, dir });
    try {
      await writeRollups(own.dir, ['2026-07-01', '2026-07-02', '2026-07-03']);
      const before = await openLake(own.dir);
      const asked = { from: START + 6 * H, to: START + 3 * 24 * H, tenant: null, limit: 100_000 };
      const whole = { ...asked, from: START };
      const engineBefore = createDuckDbReportEngine(before);
      const expected = await engineBefore.run('tenant-summary', whole);
      const expectedDaily = await engineBefore.run('daily-timeseries', whole);
      const bouncedKept = await engineBefore.run('bounced-recipients', { ...asked, from: START + 24 * H });
      before.close();
      // Retention: raw events of 2026-07-01 deleted, its rollups kept.
      rmSync(join(own.dir, 'events', 'dt=2026-07-01'), { recursive: true, force: true });
      const now = () => Date.parse('2026-07-10T08:00:00Z');
      const store = await DuckDbReportsStore.open({ lakeDir: own.dir, minIntervalMs: 0, rawRetentionDays: 8, now });
      try {
        const engine = createDuckDbRollupReportEngine(store);
        const got = await engine.run('tenant-summary', asked);
        expect(got.rows).toEqual(expected.rows);
        expect(got.rows.length).toBeGreaterThan(2);
        expect(got.basis).toEqual({
          source: 'rollups',
          from: '2026-07-01T00:00:00.000Z',
          to: '2026-07-04T00:00:00.000Z',
          rawEventsKeptFrom: '2026-07-02',
          note: 'raw events before 2026-07-02 were deleted by retention: the days before then come from the daily rollups, whole days only (2026-07-01 to 2026-07-03)',
        });
        expect((await engine.run('daily-timeseries', asked)).rows).toEqual(expectedDaily.rows);
        const bounced = await engine.run('bounced-recipients', asked);
        expect(bounced.rows).toEqual(bouncedKept.rows);
        expect(bounced.rows.length).toBeGreaterThan(0);
        expect(bounced.basis?.note).toBe(
          'raw events before 2026-07-02 were deleted by retention: rows before then cannot be shown',
        );
        // Within raw retention nothing is said.
        const recent = await engine.run('tenant-summary', { ...asked, from: START + 30 * H });
        expect(recent.basis).toMatchObject({ source: 'rollups+raw', rawEventsKeptFrom: null, note: null });
      } finally {
        store.close();
      }
      // Through the Reports API: the same rows, and `basis` in the answer (docs/reports-api.openapi.yaml).
      const server = await startDashboardServer({
        port: 0,
        lakeDir: own.dir,
        apiKeys: { 'test-compliance-key-0123456789': { keyId: 'c', role: 'compliance', tenantId: null } },
        rawRetentionDays: Math.floor(Date.now() / (24 * H)) - Math.floor(START / (24 * H)) - 1,
      });
      try {
        const res = await fetch(
          `${server.url}/v1/reports/tenant-summary?from=2026-07-01T06:00:00Z&to=2026-07-04T00:00:00Z`,
          { headers: { 'x-api-key': 'test-compliance-key-0123456789' } },
        );
        expect(res.status).toBe(200);
        const body = (await res.json()) as { rows: unknown[]; basis: Record<string, unknown> };
        expect(body.rows).toEqual(expected.rows);
        expect(body.basis).toMatchObject({
          source: 'rollups',
          from: '2026-07-01T00:00:00.000Z',
          rawEventsKeptFrom: '2026-07-02',
        });
        expect(String(body.basis.note)).toMatch(/^raw events before 2026-07-02 were deleted by retention/);
      } finally {
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('named queries without a rollup rendering', () => {
  it('every report of the registry is answered', async () => {
    const store = await DuckDbReportsStore.open({ lakeDir: fx.lake.dir, minIntervalMs: 0 });
    try {
      const engine = createDuckDbRollupReportEngine(store);
      for (const name of NAMED_QUERIES.keys()) {
        const p = { from: START, to: START + 3 * 24 * H, tenant: null, limit: 10, messageId: 'none' };
        const r = await engine.run(name, p);
        expect(r.columns.length, name).toBeGreaterThan(0);
      }
    } finally {
      store.close();
    }
  });
});
