import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildQueryTestLake, type QueryTestLake } from '../../queries/test-lake';
import { runCli } from './run-cli.test-support';

let lake: QueryTestLake;

beforeAll(() => {
  // Events of 2026-05-01 to 2026-05-03 (and the edge records'), errors of the day the lake is built.
  lake = buildQueryTestLake({ messages: 100, spanHours: 48 });
});

afterAll(() => {
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

const compact = (...args: string[]) => runCli(['compact', ...args, '--lake', lake.dir]);

/** The days that still have event files. */
const days = () =>
  readdirSync(join(lake.dir, 'events'))
    .filter((d) =>
      readdirSync(join(lake.dir, 'events', d), { recursive: true }).some((f) => String(f).endsWith('.parquet')),
    )
    .sort();

describe('sesflow compact --retention', () => {
  it('refuses retention options without --retention, and a bad number of days, in one line', async () => {
    const alone = await compact('--raw-days', '3');
    expect(alone.code).not.toBe(0);
    expect(alone.err).toMatch(/go with --retention/);
    const bad = await compact('--retention', '--raw-days', 'ten');
    expect(bad.code).not.toBe(0);
    expect(bad.err.trim()).toMatch(/^.*--raw-days must be a whole number of days/);
    expect(days().length).toBeGreaterThan(1);
  });

  it('keeps everything within the default 400 days of today, then deletes the days past --raw-days', async () => {
    const before = days();
    const kept = await compact('--retention', '--format', 'json');
    expect(kept.code).toBe(0);
    const summary = JSON.parse(kept.out) as { retention: { eventFilesDeleted: number } };
    // The test lake's events are of 2026-05; today is later than that but within 400 days on this machine's clock.
    const ageDays = (Date.now() - Date.parse('2026-05-01T00:00:00Z')) / 86_400_000;
    if (ageDays < 399) {
      expect(summary.retention.eventFilesDeleted).toBe(0);
      expect(days()).toEqual(before);
    }
    const cut = await compact('--retention', '--raw-days', String(Math.floor(ageDays) - 1));
    expect(cut.code).toBe(0);
    expect(cut.out).toMatch(/^retention: [1-9]\d* event files before \d{4}-\d{2}-\d{2}/);
    expect(days().length).toBeLessThan(before.length);
    expect(days()).not.toContain('dt=2026-05-01');
    // Each day was rolled up before its raw events went: the rollups (kept SESFLOW_ROLLUP_RETENTION_DAYS) stay.
    expect(readdirSync(join(lake.dir, 'rollups', 'daily')).sort()).toEqual(before);
    expect(readdirSync(join(lake.dir, 'rollups', 'daily', 'dt=2026-05-01'))).toHaveLength(1);
  });
});
