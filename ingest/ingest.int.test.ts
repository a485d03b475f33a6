import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/commands/run-cli.test-support';
import { hasRealworld, realworldFile } from '../lib/shared-fixtures';
import { generateTraffic } from '../local/traffic-model';
import { openLake } from '../queries/duckdb-lake';
import { queryLake } from '../queries/test-lake';
import { compactLake, listPartitions } from './compact';
import { FsLakeStore } from './fs-lake-store';
import { ingestNdjson } from './ingest-stream';
import { LakeWriter } from './lake-writer';
import { testBounce, testEvent, testMail } from './test-events';
import { transformRecord } from './transform';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sesflow-ingest-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the CLI in process and captures what it prints. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, out, err } = await runCli(args);
  return { code, stdout: out, stderr: err };
}

function errorRecords(lake: string): { errorType: string; reason: string; source: string; rawData: string }[] {
  const root = join(lake, 'errors');
  if (!existsSync(root)) return [];
  const out: { errorType: string; reason: string; source: string; rawData: string }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else for (const line of readFileSync(join(d, e.name), 'utf8').split('\n')) if (line) out.push(JSON.parse(line));
    }
  };
  walk(root);
  return out;
}

const goodLine = JSON.stringify(testBounce('Permanent', 'General'));

describe('sesflow ingest: bad input goes to the error output with a one-line reason, nothing is lost', () => {
  const cases: [string, Buffer, string][] = [
    ['truncated JSON', Buffer.from(goodLine.slice(0, 120)), 'parse-failed'],
    ['a non-object line', Buffer.from('[1, 2, 3]'), 'not-an-object'],
    [
      'an unknown eventType',
      Buffer.from(JSON.stringify({ eventType: 'Teleport', mail: testMail() })),
      'unknown-event-type',
    ],
    [
      'a missing mail.messageId',
      Buffer.from(JSON.stringify(testEvent('Send', 'send', {}, testMail({ messageId: undefined })))),
      'schema-invalid',
    ],
    [
      'a 1.5 MB record',
      Buffer.from(JSON.stringify(testEvent('Send', 'send', {}, testMail({ padding: 'x'.repeat(1_500_000) })))),
      'too-large',
    ],
    [
      'invalid UTF-8',
      Buffer.concat([
        Buffer.from(goodLine.slice(0, 60)),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from(goodLine.slice(60)),
      ]),
      'invalid-utf8',
    ],
  ];

  for (const [what, bad, errorType] of cases) {
    it(`${what}: lands under errors/${errorType}/ with its reason and original bytes`, async () => {
      const dir = tempDir();
      const file = join(dir, 'in.ndjson');
      writeFileSync(file, Buffer.concat([Buffer.from(`${goodLine}\n`), bad, Buffer.from('\n')]));
      const lake = join(dir, 'lake');
      const r = await cli('ingest', file, '--lake', lake, '--format', 'json');
      expect(r.code).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary).toMatchObject({ records: 2, ok: 1, failed: 1, rows: 1, duplicates: 0 });
      expect(summary.records).toBe(summary.ok + summary.failed);
      const errors = errorRecords(lake);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.errorType).toBe(errorType);
      expect(errors[0]!.reason).toMatch(/\S/);
      expect(errors[0]!.reason).not.toContain('\n');
      expect(errors[0]!.source).toBe(`${file}:2`);
      expect(Buffer.from(errors[0]!.rawData, 'base64').equals(bad)).toBe(true);
      expect(readdirSync(join(lake, 'errors'))).toEqual([errorType]);
    });
  }

  it('an empty file: zero records, exit 0', async () => {
    const dir = tempDir();
    const file = join(dir, 'empty.ndjson');
    writeFileSync(file, '');
    const r = await cli('ingest', file, '--lake', join(dir, 'lake'), '--format', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ records: 0, ok: 0, failed: 0, rows: 0, duplicates: 0 });
  });

  it('blank lines are not records; CRLF line ends are accepted', async () => {
    const dir = tempDir();
    const file = join(dir, 'crlf.ndjson');
    writeFileSync(file, `\n${goodLine}\r\n   \r\n${goodLine}\r\n`);
    const r = await cli('ingest', file, '--lake', join(dir, 'lake'), '--format', 'json');
    expect(JSON.parse(r.stdout)).toEqual({ records: 2, ok: 2, failed: 0, rows: 1, duplicates: 1 });
  });

  it('exits non-zero with a one-line message only when it cannot run', async () => {
    const dir = tempDir();
    const missing = await cli('ingest', join(dir, 'nope.ndjson'), '--lake', join(dir, 'lake'));
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('no such file');
    const badFormat = await cli('ingest', join(dir, 'nope.ndjson'), '--format', 'xml');
    expect(badFormat.code).toBe(1);
    expect(badFormat.stderr).toContain('--format');
  });
});

/** A realistic seeded input: several tenants, every event type the traffic model produces. */
function trafficLines(messages: number, seed = 7): string[] {
  const lines: string[] = [];
  for (const rec of generateTraffic({
    seed,
    tenants: 4,
    messages,
    start: new Date('2026-06-01T00:00:00Z'),
    spanHours: 30,
  })) {
    lines.push(JSON.stringify(rec));
  }
  return lines;
}

/** What the input says, counted without the lake: sends and hard bounces per tenant. */
function expectedFromInput(lines: string[]): Map<string, { sent: number; hard: number; delivered: number }> {
  const seen = new Set<string>();
  const out = new Map<string, { sent: number; hard: number; delivered: number }>();
  for (const line of lines) {
    if (seen.has(line)) continue;
    seen.add(line);
    const rec = JSON.parse(line);
    const tenant = rec.mail.tags.tenant?.[0] ?? 'unknown';
    const t = out.get(tenant) ?? { sent: 0, hard: 0, delivered: 0 };
    if (rec.eventType === 'Send') t.sent += rec.mail.destination.length;
    if (rec.eventType === 'Delivery') t.delivered += rec.delivery.recipients.length;
    if (
      rec.eventType === 'Bounce' &&
      rec.bounce.bounceType === 'Permanent' &&
      !['OnAccountSuppressionList', 'OnTenantSuppressionList'].includes(rec.bounce.bounceSubType)
    ) {
      t.hard += rec.bounce.bouncedRecipients.length;
    }
    out.set(tenant, t);
  }
  return out;
}

const tenantSummary = (lake: string) => queryLake(lake, 'tenant-summary');

async function rawRowCount(lake: string): Promise<number> {
  const db = await openLake(lake);
  try {
    const [r] = await db.query<{ n: bigint }>('SELECT count(*) AS n FROM events_raw');
    return Number(r!.n);
  } finally {
    db.close();
  }
}

describe('exact counts whatever the delivery', () => {
  const lines = trafficLines(400);
  const text = `${lines.join('\n')}\n`;

  it('tenant-summary matches what the input says', async () => {
    const dir = tempDir();
    const file = join(dir, 'traffic.ndjson.gz');
    writeFileSync(file, gzipSync(text));
    const lake = join(dir, 'lake');
    const r = await cli('ingest', file, '--lake', lake, '--format', 'json');
    expect(JSON.parse(r.stdout)).toMatchObject({ records: lines.length, failed: 0 });
    const rows = await tenantSummary(lake);
    const expected = expectedFromInput(lines);
    expect(rows.map((x) => x.tenant_id).sort()).toEqual([...expected.keys()].sort());
    for (const row of rows) {
      const e = expected.get(String(row.tenant_id))!;
      expect([row.sent, row.delivered, row.hard_bounces]).toEqual([e.sent, e.delivered, e.hard]);
      expect(row.bounce_rate).toBeCloseTo(e.hard / e.sent, 10);
    }
  });

  it('ingesting the same file three times gives the same tenant-summary as once, and writes nothing twice', async () => {
    const dir = tempDir();
    const file = join(dir, 'traffic.ndjson');
    writeFileSync(file, text);
    const once = join(dir, 'once');
    const first = JSON.parse((await cli('ingest', file, '--lake', once, '--format', 'json')).stdout);
    const thrice = join(dir, 'thrice');
    const runs = [];
    for (let i = 0; i < 3; i++)
      runs.push(JSON.parse((await cli('ingest', file, '--lake', thrice, '--format', 'json')).stdout));
    expect(runs[0]).toEqual(first);
    expect(runs[1]).toMatchObject({ records: first.records, rows: 0, duplicates: first.rows + first.duplicates });
    expect(runs[2]).toEqual(runs[1]);
    expect(await tenantSummary(thrice)).toEqual(await tenantSummary(once));
    expect(await rawRowCount(thrice)).toBe(first.rows);
  });

  it('a shuffled, partly duplicated file gives the same tenant-summary', async () => {
    const dir = tempDir();
    const base = join(dir, 'base.ndjson');
    writeFileSync(base, text);
    await cli('ingest', base, '--lake', join(dir, 'base-lake'));
    // Deterministic shuffle with a third of the records repeated.
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const messy = [...lines, ...lines.filter((_, i) => i % 3 === 0)];
    for (let i = messy.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [messy[i], messy[j]] = [messy[j]!, messy[i]!];
    }
    const file = join(dir, 'messy.ndjson');
    writeFileSync(file, `${messy.join('\n')}\n`);
    const r = JSON.parse((await cli('ingest', file, '--lake', join(dir, 'messy-lake'), '--format', 'json')).stdout);
    expect(r.records).toBe(messy.length);
    expect(r.duplicates).toBeGreaterThan(0);
    expect(await tenantSummary(join(dir, 'messy-lake'))).toEqual(await tenantSummary(join(dir, 'base-lake')));
  });

  it('random time order through a small buffer: one file per partition, every row once, no spill file left', async () => {
    const dir = tempDir();
    const shuffledLines = [...lines];
    let seed = 7;
    for (let i = shuffledLines.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = Math.floor((seed / 2 ** 31) * (i + 1));
      [shuffledLines[i], shuffledLines[j]] = [shuffledLines[j]!, shuffledLines[i]!];
    }
    const lake = join(dir, 'lake');
    const s = await ingestNdjson(Readable.from([Buffer.from(`${shuffledLines.join('\n')}\n`)]), {
      lakeDir: lake,
      sourceName: 'in',
      maxRows: 100,
    });
    const partitions = listPartitions(lake);
    expect(partitions.length).toBeGreaterThan(10);
    const files = partitions.flatMap((p) => readdirSync(p).filter((f) => f.endsWith('.parquet')));
    // The buffer holds a few rows per partition at a time; the writer before wrote a file per partition per 100 rows.
    expect(files.length).toBeLessThanOrEqual(partitions.length + 2);
    expect(await rawRowCount(lake)).toBe(s.rows);
    expect(readdirSync(lake).filter((f) => f.startsWith('.spill-'))).toEqual([]);
    const timeOrder = join(dir, 'time-order');
    await ingestNdjson(Readable.from([Buffer.from(text)]), { lakeDir: timeOrder, sourceName: 'in' });
    expect(await tenantSummary(lake)).toEqual(await tenantSummary(timeOrder));
  });

  it('a crash mid-ingest, then a re-run, loses nothing and counts nothing twice', async () => {
    const dir = tempDir();
    const clean = join(dir, 'clean');
    const cleanSummary = await ingestNdjson(Readable.from([Buffer.from(text)]), { lakeDir: clean, sourceName: 'in' });
    const crashed = join(dir, 'crashed');
    // The input dies after about half its bytes, after several flushes have written files.
    const half = Buffer.from(text).subarray(0, Math.floor(text.length / 2));
    async function* dying() {
      for (let i = 0; i < half.length; i += 4096) yield half.subarray(i, i + 4096);
      throw new Error('simulated crash');
    }
    await expect(ingestNdjson(dying(), { lakeDir: crashed, sourceName: 'in', maxRows: 200 })).rejects.toThrow(
      'simulated crash',
    );
    const written = await rawRowCount(crashed);
    expect(written).toBeGreaterThan(0);
    const rerun = await ingestNdjson(Readable.from([Buffer.from(text)]), { lakeDir: crashed, sourceName: 'in' });
    expect(rerun.rows + written).toBe(cleanSummary.rows);
    expect(await rawRowCount(crashed)).toBe(cleanSummary.rows);
    expect(await tenantSummary(crashed)).toEqual(await tenantSummary(clean));
  });

  it('rows of an input that has not ended reach the lake once maxAgeMs old (a pipe that pauses)', async () => {
    const lake = join(tempDir(), 'lake');
    const cut = text.indexOf('\n', Math.floor(text.length / 2)) + 1;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    async function* paused() {
      yield Buffer.from(text.slice(0, cut));
      await gate;
      yield Buffer.from(text.slice(cut));
    }
    const run = ingestNdjson(paused(), { lakeDir: lake, sourceName: 'in', maxAgeMs: 100 });
    const parquetFiles = () =>
      listPartitions(lake).flatMap((p) => readdirSync(p).filter((f) => f.endsWith('.parquet'))).length;
    const deadline = Date.now() + 5000;
    while (parquetFiles() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const writtenWhilePaused = await rawRowCount(lake);
    release();
    const summary = await run;
    expect(writtenWhilePaused).toBeGreaterThan(0);
    expect(writtenWhilePaused).toBeLessThan(summary.rows);
    expect(await rawRowCount(lake)).toBe(summary.rows);
  });

  it('bounded memory: with a tiny id budget partitions are evicted and reloaded, and counts stay exact', async () => {
    const dir = tempDir();
    const s1 = await ingestNdjson(Readable.from([Buffer.from(text)]), { lakeDir: dir, sourceName: 'in', maxIds: 50 });
    const s2 = await ingestNdjson(Readable.from([Buffer.from(text)]), { lakeDir: dir, sourceName: 'in', maxIds: 50 });
    expect(s2.rows).toBe(0);
    expect(s2.duplicates).toBe(s1.rows + s1.duplicates);
    expect(await rawRowCount(dir)).toBe(s1.rows);
  });
});

describe('compaction', () => {
  it('merges small files, drops duplicate event ids written by an at-least-once writer, keeps every count', async () => {
    const lake = tempDir();
    const rows = trafficLines(150, 11).flatMap((l) => {
      const t = transformRecord(l);
      return t.ok ? t.rows : [];
    });
    // Write everything twice, as a Firehose retry would, in small files.
    for (let pass = 0; pass < 2; pass++) {
      const writer = new LakeWriter({ store: new FsLakeStore(lake), stream: `pass${pass}`, maxRows: 100 });
      for (let i = 0; i < rows.length; i += 50) {
        writer.addRows(rows.slice(i, i + 50));
        if (writer.needsFlush) await writer.flush();
      }
      await writer.close();
    }
    expect(await rawRowCount(lake)).toBe(rows.length * 2);
    const before = await tenantSummary(lake);
    const s = await compactLake(lake);
    expect(s.rowsBefore).toBe(rows.length * 2);
    expect(s.rowsAfter).toBe(rows.length);
    expect(s.duplicatesDropped).toBe(rows.length);
    expect(s.filesAfter).toBe(s.partitions);
    expect(await rawRowCount(lake)).toBe(rows.length);
    expect(await tenantSummary(lake)).toEqual(before);
    const again = await compactLake(lake);
    expect(again.duplicatesDropped).toBe(0);
  });

  it('a compaction that crashed before deleting its inputs leaves rows twice on disk and once in every count', async () => {
    const lake = tempDir();
    const lines = trafficLines(120, 5);
    const summary = await ingestNdjson(Readable.from([Buffer.from(`${lines.join('\n')}\n`)]), {
      lakeDir: lake,
      sourceName: 'in',
    });
    const before = await tenantSummary(lake);
    // Every partition: its (checked) ingest files are older than the compacted file made from them; keep copies of
    // them, compact, then put the copies back, as a crash between the rename and the deletes would leave them.
    const copies: [string, Buffer][] = [];
    for (const dir of listPartitions(lake)) {
      for (const f of readdirSync(dir)) copies.push([join(dir, f), readFileSync(join(dir, f))]);
    }
    await new Promise((r) => setTimeout(r, 1100)); // the compacted file's stamp is a later second
    await compactLake(lake);
    for (const [path, bytes] of copies) writeFileSync(path, bytes);
    expect(await rawRowCount(lake)).toBe(summary.rows * 2);
    expect(await tenantSummary(lake)).toEqual(before);
    const again = await compactLake(lake);
    expect(again.duplicatesDropped).toBe(summary.rows);
    expect(await rawRowCount(lake)).toBe(summary.rows);
  });
});

describe.skipIf(!hasRealworld)(
  'the real-world corpus through the CLI (skipped where ../shared/ses-events-realworld is absent)',
  () => {
    it('accounts for every record, each failure with its reason', async () => {
      const dir = tempDir();
      const r = await cli('ingest', realworldFile, '--lake', join(dir, 'lake'), '--format', 'json');
      const lines = readFileSync(realworldFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim());
      const summary = JSON.parse(r.stdout);
      expect(summary.records).toBe(lines.length);
      expect(summary.ok + summary.failed).toBe(lines.length);
      expect(errorRecords(join(dir, 'lake'))).toHaveLength(summary.failed);
    });
  },
);
