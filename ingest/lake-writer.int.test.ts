import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../local/seeded-random';
import { generateTraffic } from '../local/traffic-model';
import type { LakeStore } from './lake-store';
import { LakeWriter, type LakeWriterOptions, partitionPrefix } from './lake-writer';
import type { NormalisedEvent } from './normalise';
import { FsSpillFile } from './spill-file';
import { transformRecord } from './transform';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'sesflow-lake-writer-'));
  dirs.push(d);
  return d;
};

/** Rows of traffic over `hours` hours, in event-time order. */
function trafficRows(messages: number, hours: number): NormalisedEvent[] {
  const rows: NormalisedEvent[] = [];
  const start = new Date('2026-06-01T00:00:00Z');
  for (const rec of generateTraffic({ seed: 3, tenants: 3, messages, start, spanHours: hours })) {
    const t = transformRecord(JSON.stringify(rec));
    if (t.ok) rows.push(...t.rows);
  }
  return rows;
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const rng = new SeededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A store that keeps what was put, in order, and can be told to fail. */
class MemoryStore implements LakeStore {
  readonly location = 'memory';
  readonly files = new Map<string, Uint8Array>();
  failNext = 0;
  async put(key: string, body: Uint8Array | string): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('store down');
    }
    this.files.set(key, typeof body === 'string' ? Buffer.from(body) : Buffer.from(body));
  }
  async get(key: string): Promise<Uint8Array> {
    return this.files.get(key)!;
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.files.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async delete(key: string): Promise<void> {
    this.files.delete(key);
  }
  eventFiles(): string[] {
    return [...this.files.keys()].filter((k) => k.endsWith('.parquet'));
  }
}

/** Each event file's rows as read back by DuckDB: its event ids. */
async function readBack(store: MemoryStore): Promise<Map<string, string[]>> {
  const dir = tempDir();
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const out = new Map<string, string[]>();
  let i = 0;
  for (const key of store.eventFiles()) {
    const path = join(dir, `${i++}.parquet`);
    writeFileSync(path, store.files.get(key)!);
    const rows = (await c.runAndReadAll(`SELECT event_id FROM read_parquet('${path}')`)).getRows();
    out.set(
      key,
      rows.map((r) => String(r[0])),
    );
  }
  c.closeSync();
  db.closeSync();
  return out;
}

const VALUE_COLUMNS = [
  'event_id',
  'event_type',
  'tenant_id',
  'campaign_id',
  'recipient',
  'bounce_subtype',
  'smtp_status',
  'user_agent',
  'machine_open',
  'processing_time_ms',
] as const;

const valuesOf = (r: NormalisedEvent) =>
  JSON.stringify([r.event_time, ...VALUE_COLUMNS.map((c) => (r[c] === undefined ? null : r[c]))]);

/** Every row of every event file as `valuesOf` gives it. */
async function readValues(store: MemoryStore): Promise<Set<string>> {
  const dir = tempDir();
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const out = new Set<string>();
  for (const [i, key] of store.eventFiles().entries()) {
    const path = join(dir, `${i}.parquet`);
    writeFileSync(path, store.files.get(key)!);
    const reader = await c.runAndReadAll(
      `SELECT epoch_ms(event_time) AS t, ${VALUE_COLUMNS.join(', ')} FROM read_parquet('${path}')`,
    );
    for (const row of reader.getRows()) {
      out.add(JSON.stringify(row.map((v) => (typeof v === 'bigint' ? Number(v) : v))));
    }
  }
  c.closeSync();
  db.closeSync();
  return out;
}

async function writeAll(rows: readonly NormalisedEvent[], options: Omit<LakeWriterOptions, 'stream'>) {
  const writer = new LakeWriter({ stream: 'test', ...options });
  for (let i = 0; i < rows.length; i += 7) {
    writer.addRows(rows.slice(i, i + 7));
    if (writer.needsFlush) await writer.flushDue();
  }
  await writer.close();
  return writer;
}

const partitionOfKey = (key: string) => key.slice(0, key.lastIndexOf('/') + 1);

describe('lake writer: files whatever the order of the input', () => {
  const rows = trafficRows(4000, 120);
  const partitions = new Set(rows.map((r) => partitionPrefix(r.event_time)));

  it('random time order over 100+ hours with a spill space: one file per partition, every row once', async () => {
    expect(partitions.size).toBeGreaterThan(100);
    const store = new MemoryStore();
    const spill = new FsSpillFile(tempDir());
    const writer = await writeAll(shuffled(rows, 1), { store, maxRows: 500, spill });
    spill.close();
    expect(writer.stats.spills).toBeGreaterThan(partitions.size);
    const files = await readBack(store);
    // One file per partition, but for a few sparse hours that went two buffers' worth of rows without one.
    expect(files.size).toBeGreaterThanOrEqual(partitions.size);
    expect(files.size).toBeLessThan(partitions.size * 1.1);
    const ids = [...files.values()].flat();
    expect(ids.length).toBe(rows.length);
    expect(new Set(ids)).toEqual(new Set(rows.map((r) => r.event_id)));
    // Each file holds exactly its partition's rows.
    const byId = new Map(rows.map((r) => [r.event_id, partitionPrefix(r.event_time)]));
    for (const [key, fileIds] of files) for (const id of fileIds) expect(byId.get(id)).toBe(partitionOfKey(key));
    // Every value reads back as written, through row groups spilled from emptied and refilled column buffers.
    expect(await readValues(store)).toEqual(new Set(rows.map(valuesOf)));
  });

  it('without a spill space, random order still gives files of at least half the mean buffered partition', async () => {
    const store = new MemoryStore();
    const maxRows = 1000;
    const flushes: number[] = [];
    const writer = new LakeWriter({ stream: 'test', store, maxRows });
    const input = shuffled(rows, 2);
    for (let i = 0; i < input.length; i += 7) {
      writer.addRows(input.slice(i, i + 7));
      if (writer.needsFlush) {
        const before = store.eventFiles().length;
        const mean = writer.bufferedRows / writer.bufferedPartitions;
        await writer.flushDue();
        for (const key of store.eventFiles().slice(before)) flushes.push((await readBackOne(store, key)) / mean);
      }
    }
    await writer.close();
    expect(flushes.length).toBeGreaterThan(0);
    expect(Math.min(...flushes)).toBeGreaterThanOrEqual(0.5);
    // Fewer files than one per partition per flush of the whole buffer (the writer before; here 0.55 of it).
    let wholeBufferFiles = 0;
    for (let i = 0; i < input.length; i += maxRows) {
      wholeBufferFiles += new Set(input.slice(i, i + maxRows).map((r) => partitionPrefix(r.event_time))).size;
    }
    expect(store.eventFiles().length).toBeLessThan(wholeBufferFiles * 0.7);
    // Hundreds of thousands of rows through the real writer: 30-60 s on a loaded machine.
  }, 180_000);

  it('time order with a spill space: an hour no longer written to is written at once, not kept to the end', async () => {
    const store = new MemoryStore();
    const spill = new FsSpillFile(tempDir());
    const writer = new LakeWriter({ stream: 'test', store, maxRows: 300, spill });
    const sorted = [...rows].sort((a, b) => a.event_time - b.event_time);
    const firstHour = partitionPrefix(sorted[0]!.event_time);
    let writtenBeforeEnd = false;
    for (let i = 0; i < sorted.length; i += 7) {
      writer.addRows(sorted.slice(i, i + 7));
      if (writer.needsFlush) await writer.flushDue();
      if (i < sorted.length / 2 && store.eventFiles().some((k) => k.startsWith(firstHour))) writtenBeforeEnd = true;
    }
    await writer.close();
    spill.close();
    expect(writtenBeforeEnd).toBe(true);
    const files = await readBack(store);
    expect([...files.values()].flat().length).toBe(rows.length);
    expect(files.size).toBeLessThanOrEqual(partitions.size + 5);
  });

  it('a failed write keeps buffered and spilled rows, and the next flush writes each once', async () => {
    const store = new MemoryStore();
    const spill = new FsSpillFile(tempDir());
    const writer = new LakeWriter({ stream: 'test', store, maxRows: 400, spill });
    const input = shuffled(rows, 3);
    for (let i = 0; i < input.length; i += 7) {
      writer.addRows(input.slice(i, i + 7));
      if (writer.needsFlush) await writer.flushDue();
    }
    expect(writer.stats.spills).toBeGreaterThan(0);
    store.failNext = 1;
    await expect(writer.flush()).rejects.toThrow('store down');
    expect(writer.bufferedPartitions).toBeGreaterThan(0);
    await writer.flush();
    spill.close();
    const ids = [...(await readBack(store)).values()].flat();
    expect(ids.length).toBe(rows.length);
    expect(new Set(ids).size).toBe(rows.length);
  });

  it('a partition is written when its first row is maxAgeMs old, the others stay buffered', async () => {
    let now = Date.parse('2026-06-10T00:00:00Z');
    const store = new MemoryStore();
    const writer = new LakeWriter({
      stream: 'test',
      store,
      maxRows: 10_000,
      maxAgeMs: 60_000,
      now: () => new Date(now),
    });
    const sorted = [...rows].sort((a, b) => a.event_time - b.event_time);
    const first = sorted.filter((r) => partitionPrefix(r.event_time) === partitionPrefix(sorted[0]!.event_time));
    writer.addRows(first);
    now += 30_000;
    const later = sorted.slice(first.length, first.length + 50);
    writer.addRows(later);
    now += 31_000;
    await writer.flushDue();
    expect(store.eventFiles()).toHaveLength(1);
    expect(store.eventFiles()[0]!.startsWith(partitionPrefix(sorted[0]!.event_time))).toBe(true);
    expect(writer.bufferedRows).toBe(later.length);
    await writer.close();
  });
});

async function readBackOne(store: MemoryStore, key: string): Promise<number> {
  const one = new MemoryStore();
  one.files.set(key, store.files.get(key)!);
  return (await readBack(one)).get(key)!.length;
}
