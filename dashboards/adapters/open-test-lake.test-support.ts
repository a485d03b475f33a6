import { rmSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
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
  let lake: TestLake | undefined;
  let db: LakeDb | undefined;
  beforeAll(async () => {
    lake = buildTestLake(opts);
    db = await openLake(lake.dir);
  });
  afterAll(() => {
    db?.close();
    if (lake) rmSync(lake.dir, { recursive: true, force: true });
  });
  return {
    get lake() {
      if (!lake) throw new Error('the test lake is not built yet');
      return lake;
    },
    get db() {
      if (!db) throw new Error('the test lake is not open yet');
      return db;
    },
  };
}
