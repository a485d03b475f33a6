import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsLakeStore } from '../../ingest/fs-lake-store';
import { rebuildRollupDays } from '../../ingest/rollups-writer';
import { useFixture } from '../../lib/fixture.test-support';
import { buildTestLake, type TestLake } from '../test-lake';

/**
 * Builds the rollups of `days` (`YYYY-MM-DD`) in a local lake with the rollup writer (ingest/rollups-writer.ts, what
 * compaction runs): one build per day, named after the day's raw listing, `daily` last, older builds deleted.
 */
export async function writeRollups(lakeDir: string, days: readonly string[]): Promise<void> {
  await rebuildRollupDays(new FsLakeStore(lakeDir), days);
}

/** The first day of {@link useRolledUpTestLake}'s lake. */
export const ROLLED_UP_LAKE_START = Date.parse('2026-07-01T00:00:00Z');

/**
 * A test file's lake: 1,500 messages over the 3 days from {@link ROLLED_UP_LAKE_START} (the traffic model's `seed`),
 * its first two days rolled up, and a scratch folder for copies of it; built before the file's tests (a `beforeAll`
 * hook), removed after them.
 */
export function useRolledUpTestLake(opts: { seed: number; scratch: string }): {
  readonly lake: TestLake;
  readonly scratch: string;
} {
  const get = useFixture(
    async () => {
      const lake = buildTestLake({
        messages: 1500,
        start: new Date(ROLLED_UP_LAKE_START),
        spanHours: 72,
        seed: opts.seed,
      });
      const scratch = mkdtempSync(join(tmpdir(), opts.scratch));
      await writeRollups(lake.dir, ['2026-07-01', '2026-07-02']);
      return { lake, scratch };
    },
    ({ lake, scratch }) => {
      for (const dir of [lake.dir, scratch]) rmSync(dir, { recursive: true, force: true });
    },
  );
  return {
    get lake() {
      return get().lake;
    },
    get scratch() {
      return get().scratch;
    },
  };
}
