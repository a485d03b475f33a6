import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsLakeStore } from '../../ingest/fs-lake-store';
import { DuckDbLakeFileFinder } from '../../privacy/duckdb-lake-file-finder';
import { forgetRecipient } from '../../privacy/erase';
import { LakeEventsEraser } from '../../privacy/lake-events-eraser';
import { parseErasureRequest } from '../../privacy/request';
import { createDuckDbRollupReportEngine } from './duckdb-report-engine';
import { DuckDbReportsStore } from './duckdb-reports-store';
import { useOpenTestLake } from './open-test-lake.test-support';
import { writeRollups } from './rollup-lake.test-support';

const open = useOpenTestLake({ messages: 200, start: new Date('2026-05-01T00:00:00Z'), spanHours: 4 });

const FROM = Date.parse('2026-05-01T00:00:00Z');
const PERIOD = { from: FROM, to: FROM + 2 * 86_400_000, tenant: null, limit: 100_000 };

describe('reports engine and an erasure', () => {
  it('a lake file rewritten in place (same name) is read again: drill-down forgets the address, counts unchanged', async () => {
    await writeRollups(open.lake.dir, ['2026-05-01']);
    const store = await DuckDbReportsStore.open({ lakeDir: open.lake.dir, minIntervalMs: 0 });
    try {
      const engine = createDuckDbRollupReportEngine(store);
      const bouncedBefore = await engine.run('bounced-recipients', PERIOD);
      const address = String(bouncedBefore.rows.find((r) => r.recipient)!.recipient);
      const summaryBefore = await engine.run('tenant-summary', PERIOD);
      expect(summaryBefore.basis?.source).toBe('rollups+raw');
      const held = () =>
        store.withRawEvents([PERIOD], async () => {
          const r = await store.connection.runAndReadAll(
            'SELECT count(*) AS n FROM events WHERE lower(recipient) = lower(?)',
            [address] as never,
          );
          return Number(r.getRowObjectsJS()[0]!.n);
        });
      expect(await held()).toBeGreaterThan(0);
      const filesBefore = readdirSync(join(open.lake.dir, 'events'), { recursive: true }).sort();
      const report = await forgetRecipient(
        parseErasureRequest({ address, reason: 'test erasure', requestedBy: 'test' }),
        {
          key: 'a-test-erasure-key-of-at-least-32-chars',
          targets: [new LakeEventsEraser(new FsLakeStore(open.lake.dir), new DuckDbLakeFileFinder(open.lake.dir))],
        },
      );
      expect(report.stores[0]!.changed).toBeGreaterThan(0);
      expect(readdirSync(join(open.lake.dir, 'events'), { recursive: true }).sort()).toEqual(filesBefore);
      const bouncedAfter = await engine.run('bounced-recipients', PERIOD);
      expect(bouncedAfter.rows.some((r) => String(r.recipient).toLowerCase() === address.toLowerCase())).toBe(false);
      expect(bouncedAfter.rows.length).toBe(bouncedBefore.rows.length);
      expect(await held()).toBe(0);
      // The rewritten files are newer than the day's rollups: the day is read raw until rebuilt, counts unchanged.
      const summaryAfter = await engine.run('tenant-summary', PERIOD);
      expect(summaryAfter.basis?.source).toBe('raw');
      expect(summaryAfter.rows).toEqual(summaryBefore.rows);
    } finally {
      store.close();
    }
  });
});
