import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeParquet } from '../../ingest/parquet-writer';
import { testEvent, testMail } from '../../ingest/test-events';
import { buildQueryTestLake, EDGE_TENANT, type QueryTestLake, rowsByPartition } from '../../queries/test-lake';
import { runCli } from './run-cli.test-support';

let lake: QueryTestLake;

beforeAll(async () => {
  // 2026-05-01 to 2026-05-04, rolled up by `sesflow compact` (every day is closed by now).
  lake = buildQueryTestLake({ messages: 150, spanHours: 72 });
  const compact = await runCli(['compact', '--lake', lake.dir]);
  expect(compact.code, compact.err).toBe(0);
}, 240_000);

afterAll(() => {
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

const query = (...args: string[]) => runCli(['query', ...args, '--lake', lake.dir, '--format', 'json']);

describe('sesflow query on a lake with rollups', () => {
  it('reads whole days from rollups, says so on stderr, and prints the same rows as --raw', {
    timeout: 180_000,
  }, async () => {
    const range = ['--from', '2026-05-01T06:00:00Z', '--to', '2026-05-04T12:00:00Z'];
    for (const name of ['tenant-summary', 'daily-timeseries', 'bounce-breakdown', 'unsubscribes']) {
      const rolled = await query(name, ...range);
      const raw = await query(name, ...range, '--raw');
      expect(rolled.code, rolled.err).toBe(0);
      expect(JSON.parse(rolled.out), name).toEqual(JSON.parse(raw.out));
      expect(rolled.err, name).toBe(
        'rollups: 2026-05-02 to 2026-05-03 (2 whole days) from rollups, the rest of the period from raw events\n',
      );
      expect(raw.err).toBe('rollups: not used (--raw): every day from raw events\n');
    }
    const all = await query('campaign-report', '--tenant', EDGE_TENANT);
    expect(all.err).toMatch(/^rollups: 2026-05-01 to 2026-05-04 \(4 whole days\) from rollups/);
    expect(JSON.parse(all.out)).toEqual(
      JSON.parse((await query('campaign-report', '--tenant', EDGE_TENANT, '--raw')).out),
    );
  });

  it('a period within one day reads raw events; a drill-down query prints no note', async () => {
    const within = await query('tenant-summary', '--from', '2026-05-02T01:00:00Z', '--to', '2026-05-02T23:00:00Z');
    expect(within.err).toBe('rollups: no rolled-up day lies wholly inside the period: every day from raw events\n');
    const drill = await runCli(['query', 'bounced-recipients', '--lake', lake.dir, '--format', 'json']);
    expect(drill.code).toBe(0);
    expect(drill.err).toBe('');
  });

  it('a late event makes its day stale: read raw (named in the note) until the next compaction, rows still exact', {
    timeout: 240_000,
  }, async () => {
    const mail = testMail({
      messageId: '010001a0late0001-00000000-0000-0000-0000-000000000001-000000',
      timestamp: '2026-05-02T15:20:00.000Z',
    });
    const preLate = JSON.parse((await query('tenant-summary', '--raw')).out);
    for (const [key, rows] of rowsByPartition([testEvent('Send', 'send', {}, mail)])) {
      mkdirSync(join(lake.dir, 'events', key), { recursive: true });
      writeFileSync(join(lake.dir, 'events', key, 'events-1-2026-12-01-00-00-00-late.parquet'), encodeParquet(rows));
    }
    const rolled = await query('tenant-summary');
    expect(rolled.err).toBe(
      'rollups: 2026-05-03 to 2026-05-04 (2 whole days) from rollups, the rest of the period from raw events; ' +
        'stale, read raw until the next compaction: 2026-05-02\n',
    );
    const raw = JSON.parse((await query('tenant-summary', '--raw')).out);
    expect(JSON.parse(rolled.out)).toEqual(raw);
    // The late send is counted (a split reading the stale day's rollup would have missed it).
    expect(raw).not.toEqual(preLate);

    expect((await runCli(['compact', '--lake', lake.dir])).code).toBe(0);
    const rebuilt = await query('tenant-summary');
    expect(rebuilt.err).toMatch(/^rollups: 2026-05-01 to 2026-05-04 \(4 whole days\) from rollups/);
    expect(JSON.parse(rebuilt.out)).toEqual(raw);
  });
});
