import { isUtf8 } from 'node:buffer';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LakeDedupIndex } from './dedup-index';
import { FsLakeStore } from './fs-lake-store';
import { CHECKED_WRITERS } from './lake-schema';
import { LakeWriter, partitionPrefix } from './lake-writer';
import type { NormalisedEvent, NormaliseOptions } from './normalise';
import { FsSpillFile } from './spill-file';
import {
  MAX_RECORD_BYTES,
  makeErrorRecord,
  type TransformResult,
  transformRecord,
  transformValidText,
} from './transform';

/** What one ingest did. `records = ok + failed` always; `rows` were written new, `duplicates` were already there. */
export interface IngestSummary {
  records: number;
  ok: number;
  failed: number;
  rows: number;
  duplicates: number;
}

export interface IngestOptions {
  lakeDir: string;
  /** Names the input in error records (`<source>:<line>`). */
  sourceName: string;
  normalise?: NormaliseOptions;
  /** File-name prefix of the lake objects written. */
  stream?: string;
  /**
   * Rows buffered in memory across partitions (default 30,000: about 20 MB of column buffers). Past it, the partitions
   * buffered longest are encoded as row groups into a spill file beside the lake (`<lake>/.spill-<uuid>`, removed at
   * the end), and each partition is written once, as one file, at the end or when it holds `maxFileRows`
   * (ingest/lake-writer.ts): whatever the order of the input, a partition gets one file per ingest.
   */
  maxRows?: number;
  /** Rows of one partition that make it a file at once (default 100,000: about 50 MB to assemble). */
  maxFileRows?: number;
  /**
   * A partition is written this long after its first buffered row (default 15 minutes, Firehose's longest buffering),
   * so rows of a never-ending input (`sesflow ingest -` fed by a pipe) reach the lake.
   */
  maxAgeMs?: number;
  /**
   * Event ids held in memory for deduplication before partitions are evicted (default 2,000,000: about 40 MB a
   * million). Ids of a partition whose rows are buffered or spilled stay: input in random time order keeps every
   * partition it spans in hand, so past this budget such partitions are written early and their ids reloaded.
   */
  maxIds?: number;
  /** Called now and then with the input bytes consumed so far (as counted by the caller) and the records read. */
  onProgress?: (records: number) => void;
}

const NEWLINE = 0x0a;

/** Rows buffered in memory before the oldest partitions are spilled (see `IngestOptions.maxRows`). */
export const DEFAULT_MAX_ROWS = 30_000;
/** Rows of a partition that make it a file at once (see `IngestOptions.maxFileRows`). */
export const DEFAULT_MAX_FILE_ROWS = 100_000;

/** Spill files a crashed ingest left (an hour untouched: a running ingest writes to its own all the time). */
function removeStaleSpills(lakeDir: string): void {
  if (!existsSync(lakeDir)) return;
  for (const name of readdirSync(lakeDir)) {
    if (!name.startsWith('.spill-')) continue;
    const path = join(lakeDir, name);
    if (Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { force: true });
  }
}

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/**
 * Reads NDJSON bytes (one SES record a line; blank lines are not records), runs every record through the shared
 * transform, and writes new rows and every error to the lake. Splits on bytes so invalid UTF-8 is caught by the
 * transform instead of being silently replaced. Streams with bounded memory.
 */
export async function ingestNdjson(
  input: AsyncIterable<Buffer> | Readable,
  options: IngestOptions,
): Promise<IngestSummary> {
  const summary: IngestSummary = { records: 0, ok: 0, failed: 0, rows: 0, duplicates: 0 };
  removeStaleSpills(options.lakeDir);
  let timedFailure: unknown;
  const spill = new FsSpillFile(options.lakeDir);
  const writer = new LakeWriter({
    store: new FsLakeStore(options.lakeDir, { sync: true }),
    reuseFileBuffers: true,
    stream: options.stream ?? CHECKED_WRITERS.ingest,
    maxRows: options.maxRows ?? DEFAULT_MAX_ROWS,
    maxPartitionRows: options.maxFileRows ?? DEFAULT_MAX_FILE_ROWS,
    maxAgeMs: options.maxAgeMs ?? 15 * 60_000,
    // A timed write that failed keeps its rows; the ingest stops at its next record with the reason.
    onFlushError: (err) => {
      timedFailure ??= err;
    },
    spill,
  });
  const index = new LakeDedupIndex(options.lakeDir, options.maxIds ?? 2_000_000);
  const normalise = options.normalise ?? {};
  let lineNo = 0;
  const fresh: NormalisedEvent[] = [];

  // The hot path is synchronous: a record costs a promise only when its partition's ids must be loaded from disk
  // or the writer must flush (returned, and awaited by the reader loop).
  const accept = (rows: readonly NormalisedEvent[]): Promise<void> | undefined => {
    if (timedFailure !== undefined) throw timedFailure;
    fresh.length = 0;
    for (const row of rows) {
      const ids = index.peek(partitionPrefix(row.event_time))!;
      if (!ids.add(row.event_id)) {
        summary.duplicates++;
        continue;
      }
      index.added();
      fresh.push(row);
    }
    if (fresh.length > 0) {
      writer.addRows(fresh);
      summary.rows += fresh.length;
    }
    if (writer.needsFlush || index.needsEviction) return flushAndEvict();
    return undefined;
  };
  const flushAndEvict = async () => {
    if (writer.needsFlush) await writer.flushDue();
    if (!index.needsEviction) return;
    index.evict((prefix) => writer.holds(prefix));
    // The partitions left to drop hold buffered rows: write those (the least recently used), then their ids can go.
    if (index.needsEviction) {
      await writer.flushPartitions(index.evictionOrder());
      index.evict();
    }
  };
  const loadThenAccept = async (rows: readonly NormalisedEvent[]) => {
    for (const row of rows) await index.load(partitionPrefix(row.event_time));
    await accept(rows);
  };

  /**
   * One line, `buf[start, end)`. `validUtf8`: its bytes are known to be valid UTF-8, so the text is decoded straight
   * from the chunk (no per-line view or check); the result is the same as `transformRecord` of the line's bytes.
   */
  const handle = (buf: Buffer, start: number, end: number, validUtf8: boolean): Promise<void> | undefined => {
    lineNo++;
    if (end === start || isBlank(buf, start, end)) return undefined;
    summary.records++;
    if (options.onProgress && (summary.records & 1023) === 0) options.onProgress(summary.records);
    const t: TransformResult =
      validUtf8 && end - start <= MAX_RECORD_BYTES
        ? transformValidText(buf.toString('utf8', start, end), normalise)
        : transformRecord(buf.subarray(start, end), normalise);
    if (!t.ok) {
      summary.failed++;
      writer.addError(makeErrorRecord(t, buf.subarray(start, end), `${options.sourceName}:${lineNo}`));
      return undefined;
    }
    summary.ok++;
    for (const row of t.rows) if (!index.peek(partitionPrefix(row.event_time))) return loadThenAccept(t.rows);
    return accept(t.rows);
  };

  try {
    let carry: Buffer | null = null;
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      // Newlines are ASCII, so when every byte before the last one is valid UTF-8, so is every line: one check.
      const last = buf.lastIndexOf(NEWLINE);
      const validUtf8 = last >= 0 && isUtf8(buf.subarray(0, last));
      let start = 0;
      let nl = buf.indexOf(NEWLINE, start);
      while (nl !== -1) {
        const pending = handle(buf, start, nl, validUtf8);
        if (pending) await pending;
        start = nl + 1;
        nl = buf.indexOf(NEWLINE, start);
      }
      // Copy the tail so the chunk it came from can be collected.
      carry = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
    }
    if (carry) await handle(carry, 0, carry.length, false);
    await writer.close();
  } finally {
    writer.stopTimer();
    index.close();
    spill.close();
  }
  options.onProgress?.(summary.records);
  return summary;
}
