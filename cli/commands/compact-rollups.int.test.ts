import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLUP_TABLES } from '../../ingest/rollups';
import { localRollupDays } from '../../ingest/rollups-writer';
import { testEvent, testMail } from '../../ingest/test-events';
import { expectRollupsEqualBuildSql } from '../../ingest/test-rollups';
import { buildQueryTestLake, type QueryTestLake } from '../../queries/test-lake';
import { runCli } from './run-cli.test-support';

let lake: QueryTestLake;
let inputDir: string;

beforeAll(() => {
  // 2026-05-01 to 2026-05-04 (the edge records' last event is on 05-04), one partition delivered twice.
  lake = buildQueryTestLake({ messages: 150, spanHours: 72 });
  inputDir = mkdtempSync(join(tmpdir(), 'sesflow-late-'));
});

afterAll(() => {
  for (const d of [lake?.dir, inputDir]) if (d) rmSync(d, { recursive: true, force: true });
});

/** Every rollup file of the lake with its modification time (ns): what a rebuild changes. */
function rollupStamps(): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const root = join(lake.dir, 'rollups');
  for (const f of readdirSync(root, { recursive: true }).map(String)) {
    if (f.endsWith('.parquet')) out.set(f, statSync(join(root, f), { bigint: true }).mtimeNs);
  }
  return out;
}

const LATE_DAY = '2026-05-02';

/** A message sent and opened on a closed day, arriving after its day was rolled up. */
function lateRecords(): Record<string, unknown>[] {
  const mail = testMail({
    messageId: '010001a0late0001-00000000-0000-0000-0000-000000000001-000000',
    timestamp: `${LATE_DAY}T15:20:00.000Z`,
  });
  return [
    testEvent('Send', 'send', {}, mail),
    testEvent('Open', 'open', { ipAddress: '198.51.100.7', timestamp: `${LATE_DAY}T16:00:00.000Z` }, mail),
  ];
}

describe('sesflow compact: rollups', () => {
  it('rolls up every closed day, each table equal to its build SQL over the raw events; a late event rebuilds only its day', {
    timeout: 240_000,
  }, async () => {
    const first = await runCli(['compact', '--lake', lake.dir]);
    expect(first.code, first.err).toBe(0);
    const days = [...(await localRollupDays(lake.dir)).values()];
    expect(days.map((d) => d.day)).toEqual(['2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04']);
    expect(first.out).toContain(`rollups: ${days.length} days rolled up, 0 rebuilt`);
    for (const d of days) {
      expect(d.fresh, d.day).toBe(true);
      // One file per table and day, all of one build.
      expect(d.rollupKeys.map((k) => k.split('/').at(-1))).toEqual(ROLLUP_TABLES.map(() => d.build));
    }
    const totalsBefore = await expectRollupsEqualBuildSql(lake.dir);
    const before = rollupStamps();
    expect(before.size).toBe(days.length * ROLLUP_TABLES.length);

    // Nothing changed: nothing is written again.
    const again = await runCli(['compact', '--lake', lake.dir, '--format', 'json']);
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out).rollups).toMatchObject({ built: 0, rebuilt: 0, fresh: days.length });
    expect(rollupStamps()).toEqual(before);

    // A late record of a closed day, through `sesflow ingest`, then a compaction.
    const input = join(inputDir, 'late.ndjson');
    writeFileSync(
      input,
      `${lateRecords()
        .map((r) => JSON.stringify(r))
        .join('\n')}\n`,
    );
    const ingested = await runCli(['ingest', input, '--lake', lake.dir, '--no-progress']);
    expect(ingested.code, ingested.err).toBe(0);
    expect((await localRollupDays(lake.dir)).get(LATE_DAY)!.fresh).toBe(false);
    const late = await runCli(['compact', '--lake', lake.dir]);
    expect(late.code, late.err).toBe(0);
    expect(late.out).toContain(`rollups: 0 days rolled up, 1 rebuilt (changed since), ${days.length - 1} up to date`);
    const after = rollupStamps();
    const changed = [...after.keys()].filter((k) => before.get(k) !== after.get(k));
    expect(changed.map((k) => k.split('/')[1]).sort()).toEqual(
      ROLLUP_TABLES.map(() => `dt=${LATE_DAY}`), // every table of that day, nothing else
    );
    for (const [k, stamp] of before) {
      if (!k.includes(`dt=${LATE_DAY}`)) expect(after.get(k), k).toBe(stamp);
      else expect(after.has(k), k).toBe(false); // the old build is gone
    }
    const totalsAfter = await expectRollupsEqualBuildSql(lake.dir);
    for (const [day, t] of totalsBefore) {
      const late = day === LATE_DAY ? 1 : 0;
      expect(totalsAfter.get(day), day).toEqual({
        sent: t.sent + late,
        delivered: t.delivered,
        opens: t.opens + late,
        bounces: t.bounces,
        pairs: t.pairs + late,
      });
    }
  });
});
