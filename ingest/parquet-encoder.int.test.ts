import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRealworld, hasSharedFixtures, loadRealworldLines, loadSesEventFixtures } from '../lib/shared-fixtures';
import { LAKE_COLUMN_TYPES, LAKE_COLUMNS } from './lake-schema';
import type { NormalisedEvent } from './normalise';
import { ColumnBatch, encodeBatches, encodeBatchesPooled } from './parquet-encoder';
import { encodeParquet } from './parquet-writer';
import { testEvent, testMail } from './test-events';
import { transformRecord } from './transform';

let dir: string;
let db: DuckDBInstance;
let n = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sesflow-parquet-'));
  db = await DuckDBInstance.create(':memory:');
});
afterAll(() => {
  db.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    c.closeSync();
  }
}

function writeFile(bytes: Uint8Array): string {
  const file = join(dir, `f${n++}.parquet`);
  writeFileSync(file, bytes);
  return file;
}

/** Every row of a file as DuckDB reads it, times as epoch milliseconds, in file order. */
async function readBack(file: string): Promise<Record<string, unknown>[]> {
  const cols = LAKE_COLUMNS.map((c) => (LAKE_COLUMN_TYPES[c] === 'timestamp' ? `epoch_ms(${c}) AS ${c}` : c));
  const rows = await query(`SELECT ${cols.join(', ')} FROM read_parquet('${file}')`);
  return rows.map((r) => {
    const out: Record<string, unknown> = {};
    for (const c of LAKE_COLUMNS) out[c] = typeof r[c] === 'bigint' ? Number(r[c]) : r[c];
    return out;
  });
}

/** What a row should read back as (BIGINT columns hold whole numbers). */
function expected(row: NormalisedEvent): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row };
  if (row.processing_time_ms !== null) out.processing_time_ms = Math.trunc(row.processing_time_ms);
  return out;
}

function rowsOf(record: unknown): NormalisedEvent[] {
  const t = transformRecord(JSON.stringify(record));
  if (!t.ok) throw new Error(t.reason);
  return t.rows;
}

/** A row with every column set, from a real transform, then overridden. */
function row(i: number, overrides: Partial<NormalisedEvent> = {}): NormalisedEvent {
  const base = rowsOf(
    testEvent('Delivery', 'delivery', {
      timestamp: new Date(Date.UTC(2026, 4, 1, 10) + i * 1000).toISOString(),
      processingTimeMillis: 1200 + i,
      recipients: [`r${i}@inbox.test`],
      smtpResponse: `250 2.0.0 OK ${i}`,
    }),
  )[0]!;
  return { ...base, event_id: `${String(i).padStart(32, '0')}`, ...overrides };
}

describe('the lake Parquet encoder, read back by DuckDB', () => {
  it('writes the lake schema: column names, order and types', async () => {
    const file = writeFile(encodeParquet([row(1)]));
    const described = await query(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
    const duck = { string: 'VARCHAR', timestamp: 'TIMESTAMP', boolean: 'BOOLEAN', bigint: 'BIGINT' } as const;
    expect(described.map((d) => [d.column_name, d.column_type])).toEqual(
      LAKE_COLUMNS.map((c) => [c, duck[LAKE_COLUMN_TYPES[c]]]),
    );
  });

  it('round-trips every value: nulls in every column, non-ASCII and empty strings, odd numbers, both booleans', async () => {
    const rows: NormalisedEvent[] = [];
    for (let i = 0; i < 50; i++) rows.push(row(i));
    const nulled = { ...row(50) } as Record<string, unknown>;
    for (const c of LAKE_COLUMNS) if (c !== 'event_id' && LAKE_COLUMN_TYPES[c] !== 'boolean') nulled[c] = null;
    rows.push(nulled as unknown as NormalisedEvent);
    rows.push(
      row(51, {
        subject: 'Café — 日本語 😀 naïve',
        recipient: 'ünïcode@exämple.test',
        tags: '{"tenant":["ä"],"x":[""]}',
        diagnostic_code: '',
        campaign_id: '',
        processing_time_ms: -5,
        is_simulator: true,
        machine_open: true,
        counts_toward_bounce_rate: true,
        counts_toward_complaint_rate: true,
      }),
      row(52, { processing_time_ms: 2 ** 40 + 3, mail_time: Date.UTC(1999, 11, 31, 23, 59, 59, 999) }),
      row(53, { processing_time_ms: 12.7, event_time: Date.UTC(2099, 11, 31, 23, 59, 59, 999) }),
    );
    const back = await readBack(writeFile(encodeParquet(rows)));
    expect(back).toEqual(rows.map(expected));
  });

  it('switches a mostly distinct dictionary column to PLAIN, and packs wide dictionary indices', async () => {
    const rows: NormalisedEvent[] = [];
    for (let i = 0; i < 3000; i++) {
      rows.push(
        row(i, {
          subject: `subject ${i}`, // all distinct: goes PLAIN past the dictionary probe
          campaign_id: `c${i % 300}`, // 300 values: 9-bit dictionary indices
          tenant_id: (i % 7 === 0 ? null : `t${i % 3}`) as string, // nulls between values
          message_kind: 'same', // one value: an RLE run
          link: null, // all null
        }),
      );
    }
    const file = writeFile(encodeParquet(rows));
    expect(await readBack(file)).toEqual(rows.map(expected));
    const meta = await query(`SELECT path_in_schema, encodings FROM parquet_metadata('${file}')`);
    const enc = Object.fromEntries(meta.map((m) => [m.path_in_schema, String(m.encodings)]));
    expect(enc.subject).not.toContain('DICTIONARY');
    expect(enc.campaign_id).toContain('RLE_DICTIONARY');
    expect(enc.event_id).not.toContain('DICTIONARY');
  });

  it('writes one row group per batch, and chunk statistics readers can skip on (min and max compared as bytes)', async () => {
    const a = new ColumnBatch();
    const b = new ColumnBatch();
    const first = [row(1, { tenant_id: 'zeta' }), row(2, { tenant_id: 'Zed' })];
    const second = [
      row(3, { tenant_id: 'étoile' }),
      row(4, { tenant_id: 'alpha' }),
      row(5, { tenant_id: null as unknown as string }),
    ];
    a.addAll(first);
    b.addAll(second);
    const pooled = encodeBatchesPooled([a, new ColumnBatch(), b]);
    const file = writeFile(pooled.data);
    pooled.release();
    expect(await readBack(file)).toEqual([...first, ...second].map(expected));
    const stats = await query(
      `SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count
         FROM parquet_metadata('${file}') WHERE path_in_schema IN ('tenant_id', 'event_time') ORDER BY 1, 2`,
    );
    const ms = (v: unknown) => Date.parse(`${String(v).replace(' ', 'T')}Z`);
    expect(
      stats.map((s) =>
        s.path_in_schema === 'event_time'
          ? [s.row_group_id, s.path_in_schema, ms(s.stats_min_value), ms(s.stats_max_value)]
          : [s.row_group_id, s.path_in_schema, s.stats_min_value, s.stats_max_value],
      ),
    ).toEqual([
      [0n, 'event_time', first[0]!.event_time, first[1]!.event_time],
      [0n, 'tenant_id', 'Zed', 'zeta'],
      [1n, 'event_time', second[0]!.event_time, second[2]!.event_time],
      [1n, 'tenant_id', 'alpha', 'étoile'],
    ]);
    expect(stats.find((s) => s.row_group_id === 1n && s.path_in_schema === 'tenant_id')!.stats_null_count).toBe(1n);
    // DuckDB uses them: a filter outside every row group's range reads nothing.
    expect(await query(`SELECT count(*) AS n FROM read_parquet('${file}') WHERE tenant_id = 'zz'`)).toEqual([
      { n: 0n },
    ]);
  });

  it.skipIf(!hasSharedFixtures || !hasRealworld)(
    'round-trips the rows of every shared fixture and real-world record (skipped where ../shared is absent)',
    async () => {
      const rows: NormalisedEvent[] = [];
      if (hasSharedFixtures) for (const ev of Object.values(loadSesEventFixtures())) rows.push(...rowsOf(ev));
      for (const line of hasRealworld ? loadRealworldLines() : []) {
        const t = transformRecord(line);
        if (t.ok) rows.push(...t.rows);
      }
      expect(rows.length).toBeGreaterThan(50);
      const batch = new ColumnBatch();
      batch.addAll(rows);
      const back = await readBack(writeFile(encodeBatches([batch])));
      expect(back).toEqual(rows.map(expected));
    },
  );

  it('a one-row file', async () => {
    const one = rowsOf(testEvent('Send', 'send', {}, testMail({ destination: ['a@b.test'] })));
    expect(await readBack(writeFile(encodeParquet(one)))).toEqual(one.map(expected));
  });
});
