import { rmSync } from 'node:fs';
import { useFixture } from '../../lib/fixture.test-support';
import { type LakeDb, openLake } from '../../queries/duckdb-lake';
import { buildTestLake, type TestLake } from '../test-lake';

/** A test lake and the DuckDB connection open on it, for the lake-cache tests. */
export interface OpenTestLake {
  readonly lake: TestLake;
  readonly db: LakeDb;
}

/**
 * Builds a test lake of `messages` messages from `start` over `spanHours` and opens it before the file's tests; closes
 * and deletes it after them.
 */
export function useOpenTestLake(opts: { messages: number; start: Date; spanHours: number }): OpenTestLake {
  const get = useFixture(
    async () => {
      const lake = buildTestLake(opts);
      return { lake, db: await openLake(lake.dir) };
    },
    ({ lake, db }) => {
      db.close();
      rmSync(lake.dir, { recursive: true, force: true });
    },
  );
  return {
    get lake() {
      return get().lake;
    },
    get db() {
      return get().db;
    },
  };
}
