import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestLake, type TestLake } from '../../dashboards/test-lake';
import { listPartitions, partitionHourEnd } from '../../ingest/compact';
import { CHECKED_WRITERS, parseLakeFileName } from '../../ingest/lake-schema';
import { localRollupDays } from '../../ingest/rollups-writer';
import { expectRollupsEqualBuildSql } from '../../ingest/test-rollups';
import { queryLake } from '../../queries/test-lake';
import { startLakeCompactor } from './lake-compactor';

const START = Date.parse('2026-08-01T00:00:00Z');
const H = 3_600_000;
const parquetIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.parquet'));

let lake: TestLake | null = null;
afterEach(() => {
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
  lake = null;
});

const summary = (dir: string) => queryLake(dir, 'tenant-summary');

describe('lake compaction in sesflow start', () => {
  it('reads the end of an hour partition from its folder name, and nothing from another name', () => {
    expect(partitionHourEnd(join('lake', 'events', 'dt=2026-08-01', 'hour=13'))).toBe(START + 14 * H);
    expect(partitionHourEnd(join('lake', 'events', 'dt=2026-08-01', 'hour=23'))).toBe(START + 24 * H);
    expect(partitionHourEnd(join('lake', 'events', 'dt=later-1', 'hour=00'))).toBeNull();
    expect(partitionHourEnd(join('lake', 'events', 'dt=2026-08-01'))).toBeNull();
  });

  it('compacts the hours that ended before the settle time, leaves the later ones as they are, counts nothing twice', async () => {
    lake = buildTestLake({ messages: 400, start: new Date(START), spanHours: 12, seed: 21 });
    const parts = listPartitions(lake.dir);
    expect(parts.length).toBeGreaterThan(6);
    // Firehose redelivered a file in every partition.
    for (const p of parts) {
      const f = parquetIn(p)[0]!;
      copyFileSync(join(p, f), join(p, `redelivered-${f}`));
    }
    const before = await summary(lake.dir);
    const lines: string[] = [];
    // "Now" is 7 h after the start and hours settle for 1 h: the first 6 hours are closed.
    const compactor = startLakeCompactor({
      lakeDir: lake.dir,
      everyMs: 3_600_000,
      settleMs: H,
      now: () => START + 7 * H,
      log: (l) => lines.push(l),
    });
    const result = await compactor.runOnce();
    await compactor.stop();
    const closed = parts.filter((p) => partitionHourEnd(p)! <= START + 6 * H);
    expect(closed.length).toBeGreaterThan(0);
    expect(closed.length).toBeLessThan(parts.length);
    expect(result.partitions).toBe(closed.length);
    expect(result.duplicatesDropped).toBeGreaterThan(0);
    for (const p of parts) {
      const files = parquetIn(p);
      if (closed.includes(p)) {
        expect(files).toHaveLength(1);
        expect(parseLakeFileName(files[0]!)?.writer).toBe(CHECKED_WRITERS.compacted);
      } else {
        expect(files).toHaveLength(2);
      }
    }
    expect(lines.join('\n')).toMatch(/compaction: \d+ closed hours, files \d+ -> \d+, \d+ duplicates dropped/);
    expect(await summary(lake.dir)).toEqual(before);
  });

  it('rolls up each day once its last hour has settled, and again when a late file arrives in it', async () => {
    lake = buildTestLake({ messages: 300, start: new Date(START), spanHours: 36, seed: 23 });
    const lines: string[] = [];
    let clock = START + 24 * H + H / 2; // the day's last hour ended 30 min ago: not settled
    const compactor = startLakeCompactor({
      lakeDir: lake.dir,
      everyMs: 3_600_000,
      settleMs: H,
      now: () => clock,
      log: (l) => lines.push(l),
    });
    try {
      expect((await compactor.runOnce()).rollups).toMatchObject({ built: 0, rebuilt: 0 });
      clock = START + 25 * H;
      expect((await compactor.runOnce()).rollups).toMatchObject({ built: 1, rebuilt: 0 });
      expect(lines.at(-1)).toBe('rollups: 1 days rolled up, 0 rebuilt (changed since)');
      const days = await localRollupDays(lake.dir);
      expect([...days.values()].filter((d) => d.build).map((d) => d.day)).toEqual(['2026-08-01']);
      await expectRollupsEqualBuildSql(lake.dir);
      // Firehose redelivers a file of the closed day: its rollup is stale, rebuilt, and counts nothing twice.
      const p = listPartitions(lake.dir, '2026-08-01')[3]!;
      const f = parquetIn(p)[0]!;
      copyFileSync(join(p, f), join(p, `redelivered-${f}`));
      expect((await localRollupDays(lake.dir)).get('2026-08-01')!.fresh).toBe(false);
      expect((await compactor.runOnce()).rollups).toMatchObject({ built: 0, rebuilt: 1, fresh: 0 });
      await expectRollupsEqualBuildSql(lake.dir);
      expect((await compactor.runOnce()).rollups).toMatchObject({ built: 0, rebuilt: 0, fresh: 1 });
    } finally {
      await compactor.stop();
    }
  });

  it('runs on its schedule until stopped', async () => {
    lake = buildTestLake({ messages: 100, start: new Date(START), spanHours: 2, seed: 22 });
    const p = listPartitions(lake.dir)[0]!;
    const f = parquetIn(p)[0]!;
    copyFileSync(join(p, f), join(p, `redelivered-${f}`));
    const lines: string[] = [];
    const compactor = startLakeCompactor({ lakeDir: lake.dir, everyMs: 20, settleMs: H, log: (l) => lines.push(l) });
    for (let i = 0; i < 250 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await compactor.stop();
    expect(lines[0]).toMatch(/^compaction: /);
    expect(parquetIn(p)).toHaveLength(1);
  });
});
