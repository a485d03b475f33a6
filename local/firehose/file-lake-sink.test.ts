import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeErrorRecord, transformRecord } from '../../ingest/transform';
import { openLake } from '../../queries/duckdb-lake';
import { generateTraffic } from '../traffic-model';
import { FileLakeRowSink } from './file-lake-sink';

const dir = mkdtempSync(join(tmpdir(), 'sesflow-lake-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FileLakeRowSink', () => {
  it('writes rows by event hour in the lake layout, readable by the DuckDB lake view, and errors by type', async () => {
    const sink = new FileLakeRowSink(dir, 'sesflow-events');
    let rows = 0;
    const records = generateTraffic({
      seed: 3,
      tenants: 3,
      messages: 200,
      start: new Date('2026-05-01T10:30:00Z'),
      spanHours: 2,
    });
    for (const r of records) {
      const t = transformRecord(JSON.stringify(r));
      if (!t.ok) throw new Error(t.reason);
      sink.addRows(t.rows);
      sink.addRows(t.rows); // delivered twice, as Firehose may: the lake view counts it once
      rows += t.rows.length;
    }
    sink.addError(makeErrorRecord({ errorType: 'parse-failed', reason: 'invalid JSON' }, '{"x"', 'test:1'));
    await sink.flush();

    const hours = readdirSync(join(dir, 'events', 'dt=2026-05-01')).sort();
    expect(hours.slice(0, 3)).toEqual(['hour=10', 'hour=11', 'hour=12']);
    expect(readdirSync(join(dir, 'events', 'dt=2026-05-01', 'hour=10'))[0]).toMatch(
      /^sesflow-events-\d{14}-[0-9a-f-]{36}\.parquet$/,
    );
    const errDir = join(dir, 'errors', 'parse-failed');
    const [dt] = readdirSync(errDir);
    const [file] = readdirSync(join(errDir, dt!));
    expect(JSON.parse(readFileSync(join(errDir, dt!, file!), 'utf8')).reason).toBe('invalid JSON');

    const lake = await openLake(dir);
    try {
      const [count] = await lake.query<{ n: bigint }>('SELECT count(*) AS n FROM events');
      expect(Number(count!.n)).toBe(rows);
      // Every row sits in the folder of its own event hour (partition by event time, not arrival).
      const glob = join(dir, 'events', '**', '*.parquet').replaceAll("'", "''");
      const [misplaced] = await lake.query<{ n: bigint }>(
        `SELECT count(*) AS n FROM read_parquet('${glob}', filename = true, hive_partitioning = false)
         WHERE filename NOT LIKE '%dt=' || strftime(event_time, '%Y-%m-%d') || '/hour=' || strftime(event_time, '%H') || '/%'`,
      );
      expect(Number(misplaced!.n)).toBe(0);
    } finally {
      lake.close();
    }
  });
});
