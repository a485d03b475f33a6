import { FsLakeStore } from '../../ingest/fs-lake-store';
import { rebuildRollupDays } from '../../ingest/rollups-writer';

/**
 * Builds the rollups of `days` (`YYYY-MM-DD`) in a local lake with the rollup writer (ingest/rollups-writer.ts, what
 * compaction runs): one build per day, named after the day's raw listing, `daily` last, older builds deleted.
 */
export async function writeRollups(lakeDir: string, days: readonly string[]): Promise<void> {
  await rebuildRollupDays(new FsLakeStore(lakeDir), days);
}
