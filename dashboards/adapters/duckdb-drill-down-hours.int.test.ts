import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openLake } from '../../queries/duckdb-lake';
import type { ReportParams } from '../api/ports';
import { createDuckDbReportEngine, createDuckDbRollupReportEngine } from './duckdb-report-engine';
import { DuckDbReportsStore } from './duckdb-reports-store';
import { rewriteDayFiles } from './raw-lake.test-support';
import { ROLLED_UP_LAKE_START, useRolledUpTestLake, writeRollups } from './rollup-lake.test-support';

const H = 3_600_000;
const START = ROLLED_UP_LAKE_START;
const PERIOD = { from: START, to: START + 3 * 24 * H };
const fx = useRolledUpTestLake({ seed: 21, scratch: 'sesflow-drill-down-' });

/** bounced-recipients over the whole lake opened now (every file read): the answer to match. */
async function reference(dir: string, p: ReportParams) {
  const db = await openLake(dir);
  try {
    return (await createDuckDbReportEngine(db).run('bounced-recipients', p)).rows;
  } finally {
    db.close();
  }
}

/** A copy of the test lake, its days rolled up again (the copy's files have new versions), and a store over it. */
async function copyLake(name: string) {
  const dir = join(fx.scratch, name);
  cpSync(fx.lake.dir, dir, { recursive: true });
  await writeRollups(dir, ['2026-07-01', '2026-07-02']);
  return { dir, store: await DuckDbReportsStore.open({ lakeDir: dir, minIntervalMs: 0 }) };
}

/** The rows of the raw events (all of them, newest first) and how many fall on each day. */
async function allRows(dir: string, tenant: string | null) {
  const rows = await reference(dir, { ...PERIOD, tenant, limit: 100_000 });
  const perDay = new Map<string, number>();
  for (const r of rows) {
    const day = String(r.event_time).slice(0, 10);
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }
  return { rows, perDay };
}

describe('bounced-recipients reads the newest hours that hold its rows', () => {
  it.each([
    ['its default first step (the newest 2 rolled-up days: here, every rolled-up day)', undefined],
    ['a first step over the newest rolled-up day alone, then every day when that day does not fill the limit', 1],
  ])(
    'gives the raw answer for every limit, reading fewer hours when the newer ones fill it, with %s',
    async (_, recentDays) => {
      const store = await DuckDbReportsStore.open({ lakeDir: fx.lake.dir, minIntervalMs: 0 });
      const engine = createDuckDbRollupReportEngine(store, { drillDownRecentDays: recentDays });
      try {
        for (const tenant of [null, 'umbrella']) {
          const { rows, perDay } = await allRows(fx.lake.dir, tenant);
          expect(rows.length, `${tenant}`).toBeGreaterThan(10);
          // The newest day (raw, not rolled up) and the next (rolled up) hold fewer rows than a limit one past them.
          const newest = (perDay.get('2026-07-03') ?? 0) + (perDay.get('2026-07-02') ?? 0);
          const limits = [1, 2, 5, newest, newest + 1, rows.length - 1, rows.length, 100_000];
          let narrower = 0;
          for (const limit of limits) {
            const p = { ...PERIOD, tenant, limit };
            const got = await engine.run('bounced-recipients', p);
            expect(got.rows, `${tenant} limit ${limit}`).toEqual(await reference(fx.lake.dir, p));
            const read = store.lastRawRanges.reduce((n, r) => n + (r.to - r.from), 0);
            if (read < PERIOD.to - PERIOD.from) narrower++;
          }
          expect(narrower, `${tenant}: some limits read fewer hours`).toBeGreaterThan(0);
          // A limit one past the rows of the two newest days reaches the first day.
          const past = await engine.run('bounced-recipients', { ...PERIOD, tenant, limit: newest + 1 });
          expect(String(past.rows.at(-1)!.event_time).slice(0, 10), `${tenant}`).toBe('2026-07-01');
        }
        // A tenant's hours without any of its events are not read, whatever the limit.
        await engine.run('bounced-recipients', { ...PERIOD, tenant: 'umbrella', limit: 100_000 });
        expect(store.lastRawRanges.reduce((n, r) => n + (r.to - r.from), 0)).toBeLessThanOrEqual(
          PERIOD.to - PERIOD.from,
        );
      } finally {
        store.close();
      }
    },
  );

  it('reads a rolled-up day whose raw files changed since (stale) in full: its rollup counts are no bound any more', async () => {
    const { dir, store } = await copyLake('stale-lake');
    try {
      await store.refresh(true);
      expect(store.rolledUp(START + 24 * H)).toBe(true);
      // A limit the rollup of 2026-07-02 alone says the day fills (its counted bounces and complaints).
      const hinted = await store.connection.runAndReadAll(
        "SELECT sum(hard_bounces + soft_bounces + complaints) AS n FROM rollup_hourly WHERE dt = '2026-07-02'",
      );
      const limit = Number(hinted.getRowObjectsJS()[0]!.n);
      expect(limit).toBeGreaterThan(0);
      // The bounces and complaints of 2026-07-02 erased from its files (rewritten under their names), its rollup
      // not built again: by its rollup, the day still holds them.
      await rewriteDayFiles(
        store.connection,
        dir,
        '2026-07-02',
        (src) => `SELECT * FROM ${src} WHERE event_type NOT IN ('bounce', 'complaint')`,
      );
      const p = { from: START, to: START + 2 * 24 * H, tenant: null, limit };
      const got = await createDuckDbRollupReportEngine(store).run('bounced-recipients', p);
      expect(store.rolledUp(START + 24 * H)).toBe(false);
      const want = await reference(dir, p);
      expect(got.rows).toEqual(want);
      expect(want.length).toBe(limit);
      expect(want.some((r) => String(r.event_time).startsWith('2026-07-01'))).toBe(true);
    } finally {
      store.close();
    }
  });

  it('reads an hour of a rolled-up day that had no event of the tenant once a late event makes the day stale', async () => {
    const { dir, store } = await copyLake('late-lake');
    try {
      const engine = createDuckDbRollupReportEngine(store);
      const p = { ...PERIOD, tenant: 'umbrella', limit: 100_000 };
      const before = await engine.run('bounced-recipients', p);
      expect(before.rows).toEqual(await reference(dir, p));
      const skipped = store.lastRawRanges.reduce((n, r) => n + (r.to - r.from), 0) < PERIOD.to - PERIOD.from;
      // A late file holding one of umbrella's bounces moved to an hour where umbrella had no event.
      const conn = store.connection;
      const rows = (
        await conn.runAndReadAll(
          `SELECT epoch_ms(date_trunc('hour', event_time)) AS h FROM read_parquet('${join(dir, 'events', 'dt=2026-07-01', '*', '*.parquet')}')
           GROUP BY 1 HAVING count(*) FILTER (WHERE tenant_id = 'umbrella') = 0 ORDER BY 1`,
        )
      ).getRowObjectsJS();
      expect(rows.length, 'an hour of 2026-07-01 without any event of umbrella').toBeGreaterThan(0);
      expect(skipped, 'such hours were not read').toBe(true);
      const empty = Number(rows[0]!.h);
      const hourDir = join(dir, 'events', `dt=2026-07-01`, `hour=${new Date(empty).toISOString().slice(11, 13)}`);
      const [name] = readdirSync(hourDir);
      await conn.run(
        `COPY (SELECT * REPLACE (CAST('${new Date(empty + 60_000).toISOString().slice(0, 19).replace('T', ' ')}' AS TIMESTAMP) AS event_time,
                 'late-' || event_id AS event_id, 'umbrella' AS tenant_id)
               FROM read_parquet('${join(fx.lake.dir, 'events', 'dt=2026-07-01', '*', '*.parquet')}')
               WHERE event_type = 'bounce' LIMIT 1)
         TO '${join(hourDir, `late-${name}`)}' (FORMAT parquet)`,
      );
      const after = await engine.run('bounced-recipients', p);
      const want = await reference(dir, p);
      expect(after.rows).toEqual(want);
      expect(want.length).toBe(before.rows.length + 1);
    } finally {
      store.close();
    }
  });
});
