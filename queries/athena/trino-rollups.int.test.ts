import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAKE_COLUMNS } from '../../ingest/lake-schema';
import { type LakeDb, openLake } from '../duckdb-lake';
import { NAMED_QUERIES } from '../named-queries';
import type { WholeDays } from '../rollup-split';
import { ROLLUP_TABLES, textKeySql } from '../rollups';
import { getNamedQuery, type QueryRow, runNamedQuery, toPlain, validateParams } from '../run-named-query';
import { buildRollupTestLake, forRandomCases, type RollupTestLake } from '../test-rollups';
import { eventsViewDdl } from './ddl';
import { trinoSql } from './statement';

/**
 * The rollup renderings on Athena: no Athena runs here, so DuckDB plays it as in trino-rendering.int.test.ts. Tables
 * laid out as the Glue tables: `events_raw` (lake columns, `dt`, `hour`, `"$path"`) under the view created by its DDL
 * text unchanged, and `rollup_<table>` over EVERY Parquet file of each day's folder under `rollups/<table>/`, as
 * Athena reads a partition (a leftover of an older build included, which is why a split may use only days holding
 * one build). Each query's Trino rendering runs with its parameters bound in order, with ONE textual substitution:
 * the Trino key expression `textKeySql('trino', x)` (md5 of to_utf8, reverse, from_big_endian_64, bitwise_and: Trino
 * functions DuckDB lacks) is replaced with `textKeySql('duckdb', x)`, the same 63-bit key by the contract of
 * queries/rollups.ts (rollup-keys.test.ts checks that both read the same bytes of the same MD5).
 */
let lake: RollupTestLake;
let local: LakeDb;
let instance: DuckDBInstance;
let athena: DuckDBConnection;

const AGGREGATE = [...NAMED_QUERIES.values()].filter((q) => q.rollup).map((q) => q.name);

beforeAll(async () => {
  lake = await buildRollupTestLake(11);
  local = await openLake(lake.dir);
  await local.connection.run('CREATE TEMP TABLE events AS SELECT * FROM main.events');
  instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  athena = await instance.connect();
  const glob = (dir: string) => join(lake.dir, dir, '**', '*.parquet').replaceAll("'", "''");
  await athena.run('CREATE SCHEMA sesflow');
  await athena.run(
    `CREATE TABLE sesflow.events_raw AS SELECT ${LAKE_COLUMNS.join(', ')}, dt, hour, filename AS "$path"
     FROM read_parquet('${glob('events')}', hive_partitioning = true, hive_types = {'dt': VARCHAR, 'hour': VARCHAR}, filename = true)`,
  );
  await athena.run(eventsViewDdl({ database: 'sesflow', bucket: 'lake-bucket', firstDay: '2026-01-01' }));
  for (const t of ROLLUP_TABLES) {
    await athena.run(
      `CREATE TABLE sesflow.rollup_${t.name} AS SELECT ${t.columns.map(([c]) => c).join(', ')}, dt
       FROM read_parquet('${glob(`rollups/${t.name}`)}', hive_partitioning = true, hive_types = {'dt': VARCHAR})`,
    );
  }
  await athena.run("SET schema = 'sesflow'");
}, 60_000);

afterAll(() => {
  athena?.closeSync();
  instance?.closeSync();
  local?.close();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

const TRINO_KEY_START = 'bitwise_and(from_big_endian_64(reverse(substr(md5(to_utf8(';

/** Replaces each Trino key expression with the DuckDB one over the same text (the one substitution allowed). */
function withDuckdbKeys(sql: string): { sql: string; replaced: number } {
  let out = '';
  let i = 0;
  let replaced = 0;
  for (;;) {
    const at = sql.indexOf(TRINO_KEY_START, i);
    if (at < 0) return { sql: out + sql.slice(i), replaced };
    // The text hashed: up to the parenthesis closing to_utf8( (the key texts hold no parenthesis inside quotes).
    let depth = 1;
    let j = at + TRINO_KEY_START.length;
    for (; depth > 0; j++) {
      if (sql[j] === '(') depth++;
      if (sql[j] === ')') depth--;
    }
    const text = sql.slice(at + TRINO_KEY_START.length, j - 1);
    const whole = textKeySql('trino', text);
    if (!sql.startsWith(whole, at)) throw new Error(`not a key expression at ${at}: ${sql.slice(at, at + 200)}`);
    out += sql.slice(i, at) + textKeySql('duckdb', text);
    i = at + whole.length;
    replaced++;
  }
}

async function runTrinoRollup(
  name: string,
  raw: Record<string, string>,
  tenant: string | null,
  wholeDays: WholeDays | null,
): Promise<QueryRow[]> {
  const q = getNamedQuery(name).rollup!;
  const values = validateParams(q, raw, { tenant, wholeDays });
  const { sql, names } = trinoSql(q, values);
  const reader = await athena.runAndReadAll(withDuckdbKeys(sql).sql, names.map((n) => values[n]) as never);
  return reader.getRowObjectsJS().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toPlain(v)])));
}

describe("every aggregate query's Trino rollup rendering gives the raw answer exactly (DuckDB playing Athena)", () => {
  it('substitutes only key expressions: one per edge pair or recipient key, nothing else', () => {
    const metric = trinoSql(getNamedQuery('tenant-summary').rollup!, {}).sql;
    expect(withDuckdbKeys(metric).replaced).toBe(1);
    expect(withDuckdbKeys(trinoSql(getNamedQuery('bounce-breakdown').rollup!, {}).sql).replaced).toBe(1);
    expect(withDuckdbKeys(trinoSql(getNamedQuery('unsubscribes').rollup!, {}).sql).replaced).toBe(0);
    expect(withDuckdbKeys(metric).sql).not.toContain('from_big_endian_64');
  });

  it('a day holding a leftover of an older build is read twice by the Glue table: a split may not use it', async () => {
    const day = lake.leftover;
    const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    expect(lake.fresh.has(day)).toBe(false);
    const raw = await runNamedQuery(local, 'tenant-summary', {});
    expect(await runTrinoRollup('tenant-summary', {}, null, { from: day, to: next })).not.toEqual(raw);
  });

  for (const name of AGGREGATE) {
    it(`${name}: rollups + edges on the Trino rendering == raw == oracle over random periods and splits`, async () => {
      const seen = await forRandomCases(lake, name, 48, name.length * 104729, async (c, label) => {
        expect(await runNamedQuery(local, name, c.raw, { tenant: c.tenant }), label).toEqual(c.want);
        expect(await runTrinoRollup(name, c.raw, c.tenant, c.split), label).toEqual(c.want);
      });
      expect(seen.withWholeDays, 'cases read from rollups').toBeGreaterThanOrEqual(10);
      expect(seen.nonEmpty, 'cases with rows').toBeGreaterThanOrEqual(15);
    });
  }
});
