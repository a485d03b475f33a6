import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsLakeStore } from '../../ingest/fs-lake-store';
import { buildTestLake, type TestLake } from '../test-lake';
import { lakeRolledUpDays } from './lake-rolled-up-days';
import { writeRollups } from './rollup-lake.test-support';

const START = Date.parse('2026-07-01T00:00:00Z');
const DAY = 86_400_000;
let lake: TestLake;

beforeAll(async () => {
  lake = buildTestLake({ messages: 200, start: new Date(START), spanHours: 72, seed: 3 });
  await writeRollups(lake.dir, ['2026-07-01', '2026-07-02']);
});

afterAll(() => {
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

describe("the Athena engine's rolled-up days, from the lake's listing", () => {
  it('gives the rolled-up fresh days of a period, a day whose raw files changed once the cache expires', async () => {
    let now = 0;
    const days = lakeRolledUpDays(new FsLakeStore(lake.dir), { cacheMs: 1_000, now: () => now });
    expect([...(await days(START - DAY, START + 4 * DAY))].sort()).toEqual(['2026-07-01', '2026-07-02']);
    expect([...(await days(START + DAY, START + 2 * DAY))]).toEqual(['2026-07-02']);
    // A late file in 07-02: stale, once the cached answer has expired.
    const hour = join(lake.dir, 'events', 'dt=2026-07-02', 'hour=03');
    copyFileSync(join(hour, readdirSync(hour)[0]!), join(hour, 'late-firehose-object.parquet'));
    expect([...(await days(START, START + 3 * DAY))].sort()).toEqual(['2026-07-01', '2026-07-02']);
    now = 1_000;
    expect([...(await days(START, START + 3 * DAY))]).toEqual(['2026-07-01']);
  });
});
