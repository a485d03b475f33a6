import { describe, expect, it } from 'vitest';
import { LAKE_COLUMN_TYPES, LAKE_COLUMNS } from '../../ingest/lake-schema';
import type { LakeStore } from '../../ingest/lake-store';
import { LakeWriter } from '../../ingest/lake-writer';
import { ROLLUP_TABLES } from '../../ingest/rollups';
import { rollupKey } from '../../ingest/rollups-writer';
import { testEvent, testMail } from '../../ingest/test-events';
import { ERROR_TYPES, makeErrorRecord, transformRecord } from '../../ingest/transform';
import {
  type AthenaLakeConfig,
  athenaDdl,
  ERROR_FOLDERS,
  errorsTableDdl,
  eventsTableDdl,
  eventsViewDdl,
  ROLLUP_HIVE_TYPES,
  rollupTableDdl,
} from './ddl';

const CFG: AthenaLakeConfig = {
  database: 'sesflow_prod',
  bucket: 'acme-ses-lake',
  prefix: 'lake/',
  firstDay: '2026-01-01',
};

/** The `'key' = 'value'` pairs of a TBLPROPERTIES clause. */
function tblProperties(ddl: string): Map<string, string> {
  const body = /TBLPROPERTIES \(([\s\S]*)\)\s*$/.exec(ddl)?.[1] ?? '';
  return new Map([...body.matchAll(/'([^']+)'\s*=\s*'([^']*)'/g)].map((m) => [m[1]!, m[2]!]));
}

const partitionColumns = (ddl: string) =>
  [.../PARTITIONED BY \(([^)]*)\)/.exec(ddl)![1]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!);

/** Fills a storage.location.template with partition values. */
const fill = (template: string, values: Record<string, string>) =>
  template.replace(/\$\{(\w+)\}/g, (_, k: string) => values[k] ?? `<missing ${k}>`);

/** The keys the real lake writer writes for a few records (a 23:xx and a 00:xx event, and a failed record). */
async function lakeWriterKeys(): Promise<string[]> {
  const keys: string[] = [];
  const store: LakeStore = {
    location: 'memory',
    put: async (key) => {
      keys.push(key);
    },
    get: async () => new Uint8Array(),
    list: async () => [],
    delete: async () => {},
  };
  const writer = new LakeWriter({ store, stream: 'events', now: () => new Date('2026-03-10T00:05:00Z') });
  for (const at of ['2026-03-09T23:59:59.999Z', '2026-03-10T00:00:00.000Z']) {
    const out = transformRecord(JSON.stringify(testEvent('Send', 'send', {}, testMail({ timestamp: at }))));
    if (!out.ok) throw new Error(out.reason);
    writer.addRows(out.rows);
  }
  writer.addError(
    makeErrorRecord({ errorType: 'parse-failed', reason: 'x' }, '{', 'test', new Date('2026-03-10T00:04:00Z')),
  );
  await writer.flush();
  return keys;
}

describe('Athena DDL for the lake (aws-facts §5)', () => {
  const table = eventsTableDdl(CFG);
  const props = tblProperties(table);

  it('is an external Parquet table at the lake prefix with every lake column, in order and typed', () => {
    expect(table).toMatch(/^CREATE EXTERNAL TABLE IF NOT EXISTS `sesflow_prod`\.`events_raw` \(/);
    expect(table).toContain('STORED AS PARQUET');
    expect(table).toContain("LOCATION 's3://acme-ses-lake/lake/events/'");
    const cols = [...table.split('PARTITIONED BY')[0]!.matchAll(/^ {2}`(\w+)` (\w+),?$/gm)].map((m) => [m[1], m[2]]);
    expect(cols).toEqual(LAKE_COLUMNS.map((c) => [c, LAKE_COLUMN_TYPES[c]]));
  });

  it('projects dt (date, yyyy-MM-dd, by day up to NOW) and hour (00 to 23) and registers no partition', () => {
    expect(partitionColumns(table)).toEqual(['dt', 'hour']);
    expect(props.get('projection.enabled')).toBe('true');
    expect(props.get('projection.dt.type')).toBe('date');
    expect(props.get('projection.dt.format')).toBe('yyyy-MM-dd');
    expect(props.get('projection.dt.range')).toBe('2026-01-01,NOW');
    expect([props.get('projection.dt.interval'), props.get('projection.dt.interval.unit')]).toEqual(['1', 'DAYS']);
    expect(props.get('projection.hour.type')).toBe('integer');
    expect(props.get('projection.hour.range')).toBe('0,23');
    expect(props.get('projection.hour.digits')).toBe('2');
    // Every partition column is projected: nothing depends on partitions registered in Glue (ignored with projection).
    for (const col of partitionColumns(table)) expect(props.has(`projection.${col}.type`), col).toBe(true);
  });

  it('avoids the injected-projection trap: no projection in any table is injected', () => {
    for (const ddl of athenaDdl(CFG)) {
      for (const [key, value] of tblProperties(ddl)) {
        if (key.endsWith('.type')) expect(value.toLowerCase(), key).not.toBe('injected');
      }
      expect(ddl.toLowerCase()).not.toContain('injected');
    }
  });

  it('storage.location.template is exactly the layout the lake writer writes (events/dt=YYYY-MM-DD/hour=HH/)', async () => {
    const template = props.get('storage.location.template')!;
    expect(template).toBe(`s3://acme-ses-lake/lake/events/dt=\${dt}/hour=\${hour}/`);
    const eventKeys = (await lakeWriterKeys()).filter((k) => k.startsWith('events/'));
    expect(eventKeys).toHaveLength(2);
    for (const [day, hour] of [
      ['2026-03-09', '23'],
      ['2026-03-10', '00'],
    ]) {
      const folder = fill(template, { dt: day!, hour: hour! });
      const folders = eventKeys.map((k) => `s3://acme-ses-lake/lake/${k.slice(0, k.lastIndexOf('/') + 1)}`);
      expect(folders, folder).toContain(folder);
    }
  });

  it('the error table projects error type (every folder the transform and Firehose write) and day received', async () => {
    const ddl = errorsTableDdl(CFG);
    const p = tblProperties(ddl);
    expect(ddl).toContain("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'");
    expect(ddl).toContain("'ignore.malformed.json' = 'true'");
    expect(partitionColumns(ddl)).toEqual(['error_type', 'dt']);
    expect(p.get('projection.error_type.type')).toBe('enum');
    const folders = p.get('projection.error_type.values')!.split(',');
    expect(folders).toEqual([...ERROR_FOLDERS]);
    for (const t of ERROR_TYPES) expect(folders).toContain(t);
    expect(folders).toContain('processing-failed');
    expect(p.get('storage.location.template')).toBe(`s3://acme-ses-lake/lake/errors/\${error_type}/dt=\${dt}/`);
    const errorKey = (await lakeWriterKeys()).find((k) => k.startsWith('errors/'))!;
    const folder = fill(p.get('storage.location.template')!, { error_type: 'parse-failed', dt: '2026-03-10' });
    expect(`s3://acme-ses-lake/lake/${errorKey.slice(0, errorKey.lastIndexOf('/') + 1)}`).toBe(folder);
    // The record's keys, lower-cased (OpenX is case-insensitive), are the table's first columns.
    const record = makeErrorRecord({ errorType: 'parse-failed', reason: 'x' }, '{', 'test');
    const cols = [...ddl.split('PARTITIONED BY')[0]!.matchAll(/`(\w+)` \w+/g)].map((m) => m[1]);
    expect(cols.slice(0, 5)).toEqual(Object.keys(record).map((k) => k.toLowerCase()));
  });

  it('the events view keeps one row per event_id, partitioned by dt, hour and tenant_id so a dt or tenant filter reaches the scan', () => {
    const view = eventsViewDdl(CFG);
    expect(view).toMatch(/^CREATE OR REPLACE VIEW "sesflow_prod"\."events" AS/);
    expect(view).toContain('row_number() OVER (PARTITION BY "dt", "hour", "tenant_id", "event_id" ORDER BY "$path")');
    expect(view).toContain('FROM "sesflow_prod"."events_raw"');
    expect(view).toMatch(/WHERE "copy_rank" = 1$/);
  });

  it('declares each rollup table over rollups/<table>/dt=YYYY-MM-DD/, its columns in file order, dt projected', () => {
    expect(ROLLUP_TABLES.map((t) => t.name).sort()).toEqual(['bounces', 'complaints', 'daily', 'hourly', 'pairs']);
    for (const t of ROLLUP_TABLES) {
      const ddl = rollupTableDdl(CFG, t);
      expect(athenaDdl(CFG)).toContain(ddl);
      expect(ddl).toMatch(
        new RegExp(`^CREATE EXTERNAL TABLE IF NOT EXISTS \`sesflow_prod\`\\.\`rollup_${t.name}\` \\(`),
      );
      expect(ddl).toContain('STORED AS PARQUET');
      expect(ddl).toContain(`LOCATION 's3://acme-ses-lake/lake/rollups/${t.name}/'`);
      const cols = [...ddl.split('PARTITIONED BY')[0]!.matchAll(/^ {2}`(\w+)` (\w+),?$/gm)].map((m) => [m[1], m[2]]);
      expect(cols, t.name).toEqual(t.columns.map(([n, ty]) => [n, ROLLUP_HIVE_TYPES[ty]]));
      expect(partitionColumns(ddl)).toEqual(['dt']);
      const p = tblProperties(ddl);
      expect(p.get('projection.enabled')).toBe('true');
      expect([p.get('projection.dt.type'), p.get('projection.dt.format')]).toEqual(['date', 'yyyy-MM-dd']);
      expect(p.get('projection.dt.range')).toBe('2026-01-01,NOW');
      // The folder the template names is the folder the writer writes the day's file in.
      const key = rollupKey(t.name, '2026-03-10', 'build.parquet');
      expect(`s3://acme-ses-lake/lake/${key.slice(0, key.lastIndexOf('/') + 1)}`).toBe(
        fill(p.get('storage.location.template')!, { dt: '2026-03-10' }),
      );
    }
  });

  it('refuses names that would break out of the DDL', () => {
    expect(() => eventsTableDdl({ ...CFG, database: 'x`; DROP' })).toThrow(/database/);
    expect(() => eventsTableDdl({ ...CFG, bucket: "b'--" })).toThrow(/bucket/);
    expect(() => eventsTableDdl({ ...CFG, prefix: "lake'/" })).toThrow(/prefix/);
    expect(() => eventsTableDdl({ ...CFG, prefix: 'lake' })).toThrow(/prefix/);
    expect(() => eventsTableDdl({ ...CFG, firstDay: '2026-1-1' })).toThrow(/firstDay/);
  });
});
