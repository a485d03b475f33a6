import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsLakeStore } from '../ingest/fs-lake-store';
import { applyRetention, dayOfKey, expiredKeys } from './retention';

const now = new Date('2026-12-07T17:00:00Z');
const policy = { rawDays: 400, errorDays: 30, rollupDays: 1825 };
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('retention', () => {
  it('reads the day of events, error and rollup keys, and none of other keys', () => {
    expect(dayOfKey('events/dt=2025-11-02/hour=03/x.parquet')).toBe(Date.parse('2025-11-02T00:00:00Z'));
    expect(dayOfKey('errors/schema/dt=2026-01-01/x.json')).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(dayOfKey('events/x.parquet')).toBeNull();
  });

  it('expires a day once it is more than N days old, keeping the boundary day', () => {
    // 2026-12-07 minus 400 days is 2025-11-02: that day is kept, the day before is not.
    const keys = [
      'events/dt=2025-11-01/hour=23/a.parquet',
      'events/dt=2025-11-02/hour=00/b.parquet',
      'errors/schema/dt=2026-11-06/c.json',
      'errors/schema/dt=2026-11-07/d.json',
      'rollups/daily/dt=2021-12-07/e.parquet',
      'rollups/daily/dt=2021-12-08/f.parquet',
      'events/README',
    ];
    expect(expiredKeys(keys, policy, now)).toEqual({
      events: ['events/dt=2025-11-01/hour=23/a.parquet'],
      errors: ['errors/schema/dt=2026-11-06/c.json'],
      rollups: ['rollups/daily/dt=2021-12-07/e.parquet'],
    });
  });

  it('deletes what is past retention from a lake, and a dry run deletes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sesflow-retention-'));
    dirs.push(dir);
    const store = new FsLakeStore(dir);
    await store.put('events/dt=2024-01-01/hour=00/old.parquet', 'x');
    await store.put('events/dt=2026-12-01/hour=00/new.parquet', 'x');
    await store.put('errors/schema/dt=2026-01-01/old.json', 'x');
    const dry = await applyRetention(store, policy, { now, dryRun: true });
    expect(dry.eventFilesDeleted).toBe(1);
    expect((await store.list('')).length).toBe(3);
    const done = await applyRetention(store, policy, { now });
    expect(done).toEqual({
      eventFilesDeleted: 1,
      errorFilesDeleted: 1,
      rollupFilesDeleted: 0,
      keptFrom: { events: '2025-11-02', errors: '2026-11-07', rollups: '2021-12-08' },
    });
    expect(await store.list('')).toEqual(['events/dt=2026-12-01/hour=00/new.parquet']);
  });
});
