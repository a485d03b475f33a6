import { randomUUID } from 'node:crypto';
import { fileStamp, LAKE_PREFIX } from './lake-schema';
import type { LakeStore } from './lake-store';
import type { NormalisedEvent } from './normalise';
import {
  ColumnBatch,
  type EncodedRowGroup,
  encodeBatches,
  encodeBatchesPooled,
  encodeRowGroup,
  encodeWithRowGroups,
  RowStage,
} from './parquet-encoder';
import type { SpillSpace } from './spill-file';
import { type ErrorRecord, partitionOf } from './transform';

export interface LakeWriterOptions {
  store: LakeStore;
  /** Names the files, as a Firehose stream name does (`<stream>-<time>-<uuid>.parquet`). */
  stream: string;
  /**
   * Rows buffered across partitions before the oldest partitions are written (`needsFlush`, `flushDue`): the memory
   * bound. Default 50,000.
   */
  maxRows?: number;
  /** A partition holding this many rows is written at the next `flushDue` (the file size bound). Default `maxRows`. */
  maxPartitionRows?: number;
  /** A partition is written this long after its first buffered row (Firehose buffers by time); off when absent. */
  maxAgeMs?: number;
  /** Error records buffered before `flushDue` writes them. Default 10,000. */
  maxErrors?: number;
  /**
   * Where a partition's rows go, encoded as a row group, when the buffer is over `maxRows` and the partition is not
   * full: its file is then written once, from its spilled row groups and what is buffered, when it is full, aged,
   * named by `flushPartitions`, or at `flush`. Without it, such a partition is written as a file at once.
   */
  spill?: SpillSpace;
  /**
   * The store keeps no reference to a file's bytes once `put` has resolved (FsLakeStore): the writer then reuses the
   * file buffers. Off by default.
   */
  reuseFileBuffers?: boolean;
  /** Told about a failed timed flush (the rows stay buffered and the next flush retries them). */
  onFlushError?: (err: unknown) => void;
  now?: () => Date;
}

export interface LakeWriterStats {
  rowsWritten: number;
  errorsWritten: number;
  eventFiles: number;
  errorFiles: number;
  flushes: number;
  /** Row groups spilled, and their rows. */
  spills: number;
  spilledRows: number;
}

/** The key of an events file: `events/dt=YYYY-MM-DD/hour=HH/<stream>-<time>-<uuid>.parquet`. */
export function eventFileKey(dt: string, hour: string, stream: string, at: Date): string {
  return `${LAKE_PREFIX.events}dt=${dt}/hour=${hour}/${stream}-${fileStamp(at)}-${randomUUID()}.parquet`;
}

/** The partition folder of an event time: `events/dt=YYYY-MM-DD/hour=HH/`. */
export function partitionPrefix(eventTimeMs: number): string {
  const hour = Math.floor(eventTimeMs / 3_600_000);
  let prefix = prefixByHour.get(hour);
  if (prefix === undefined) {
    const p = partitionOf(eventTimeMs);
    prefix = `${LAKE_PREFIX.events}dt=${p.dt}/hour=${p.hour}/`;
    if (prefixByHour.size >= 100_000) prefixByHour.clear();
    prefixByHour.set(hour, prefix);
  }
  return prefix;
}

/** Prefixes by epoch hour: every row asks, and formatting a date costs more than the rest of the lookup. */
const prefixByHour = new Map<number, string>();

/** Rows of one partition in a row after which the next rows are appended at once, not staged. */
const STAGED_RUN = 16;

/** The rows buffered for one partition, and when its first row came. */
interface PartitionBuffer {
  /** More than one batch only after a failed write. */
  batches: ColumnBatch[];
  /** Rows in `batches`. */
  rows: number;
  /** Row groups in the spill space, in order, and their rows. */
  spilled: { group: EncodedRowGroup; offset: number }[];
  spilledRows: number;
  /** Wall-clock milliseconds of its first buffered row (for `maxAgeMs`). */
  since: number;
  /** The writer's row count when it got its first and its last row. */
  firstAdded: number;
  lastAdded: number;
}

/**
 * Writes normalised rows to the lake: one Parquet file per partition (event hour) written, and every failed record
 * under `errors/<type>/dt=<day received>/` with its reason.
 *
 * Rows are buffered per partition, and a partition is written whole, when it is due: it holds `maxPartitionRows`, or
 * its first row is `maxAgeMs` old, or the rows buffered across partitions exceed `maxRows`, in which case the partitions
 * buffered longest are written first (passing over sparse ones) until the buffer is back under 90 % of `maxRows`.
 * Whatever the order of the input (an hour at a time, or a backfill in random time order over hundreds of hours), a
 * file then holds at least half the mean rows per buffered partition (`maxRows / partitions / 2`; about twice the mean
 * when partitions fill evenly), instead of one file per partition per global flush. `flush()` writes
 * everything (the Firehose sink's contract: what was handed over is durable).
 *
 * Each file is written atomically (the store's contract). A crash loses only what was still buffered, and that is
 * exactly what a re-run writes again: rows already in the lake are recognised by their event_id (see
 * `ingest/ingest-stream.ts`), and every query reads the deduplicating `events` view, so nothing counts twice.
 */
export class LakeWriter {
  readonly stats: LakeWriterStats = {
    rowsWritten: 0,
    errorsWritten: 0,
    eventFiles: 0,
    errorFiles: 0,
    flushes: 0,
    spills: 0,
    spilledRows: 0,
  };
  /** Buffered partitions in the order of their first buffered row: the oldest first. */
  private partitions = new Map<string, PartitionBuffer>();
  private errors: ErrorRecord[] = [];
  private errorsSince = 0;
  private buffered = 0;
  /** The batch of the last row's partition (rows often come in runs of one hour). */
  private lastKey: string | undefined;
  private last: PartitionBuffer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxRows: number;
  private readonly maxPartitionRows: number;
  private readonly maxErrors: number;
  private readonly now: () => Date;
  private stopped = false;
  /** Rows added so far. */
  private added = 0;
  /** Some partition reached `maxPartitionRows`. */
  private partitionFull = false;
  /**
   * Rows on their way to their partitions' batches (`RowStage`): drained before anything reads a batch (spill, write),
   * so every decision and every file is the same as if each row had been appended at once.
   */
  private readonly stage = new RowStage();
  /** Rows of `last`'s partition in a row. */
  private run = 0;

  constructor(private readonly options: LakeWriterOptions) {
    this.maxRows = options.maxRows ?? 50_000;
    this.maxPartitionRows = options.maxPartitionRows ?? this.maxRows;
    this.maxErrors = options.maxErrors ?? 10_000;
    this.now = options.now ?? (() => new Date());
  }

  /** Rows waiting to be written, in memory (spilled rows are not counted). */
  get bufferedRows(): number {
    return this.buffered;
  }

  /** Partitions with rows waiting to be written. */
  get bufferedPartitions(): number {
    return this.partitions.size;
  }

  /** True when the partition (`events/dt=…/hour=…/`) has rows waiting to be written (in memory or spilled). */
  holds(prefix: string): boolean {
    return this.partitions.has(prefix);
  }

  /** True when a size threshold is reached: the caller should `await flushDue()` (backpressure). */
  get needsFlush(): boolean {
    return this.buffered >= this.maxRows || this.partitionFull || this.errors.length >= this.maxErrors;
  }

  addRows(rows: readonly NormalisedEvent[]): void {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const key = partitionPrefix(row.event_time);
      let part = this.last;
      if (key !== this.lastKey || part === undefined) {
        part = this.partitions.get(key);
        if (!part) {
          part = {
            batches: [new ColumnBatch()],
            rows: 0,
            spilled: [],
            spilledRows: 0,
            since: this.now().getTime(),
            firstAdded: this.added,
            lastAdded: this.added,
          };
          this.partitions.set(key, part);
        }
        this.lastKey = key;
        this.last = part;
        this.run = 0;
      }
      // A run of rows of one partition (input in time order) is appended at once; the first rows of a run, and rows
      // that change partition every time (random order), go through the stage.
      if (++this.run > STAGED_RUN) {
        if (this.stage.rows > 0) this.stage.drain();
        part.batches[part.batches.length - 1]!.add(row);
      } else this.stage.add(row, part.batches[part.batches.length - 1]!);
      part.lastAdded = ++this.added;
      if (++part.rows + part.spilledRows >= this.maxPartitionRows) this.partitionFull = true;
    }
    this.buffered += rows.length;
    if (rows.length > 0) this.armTimer();
  }

  addError(error: ErrorRecord): void {
    if (this.errors.length === 0) this.errorsSince = this.now().getTime();
    this.errors.push(error);
    this.armTimer();
  }

  private armTimer(): void {
    if (this.timer || this.stopped || this.options.maxAgeMs === undefined) return;
    const oldest = this.partitions.values().next().value?.since;
    const first = Math.min(
      oldest ?? Number.POSITIVE_INFINITY,
      this.errors.length > 0 ? this.errorsSince : Number.POSITIVE_INFINITY,
    );
    if (first === Number.POSITIVE_INFINITY) return;
    const wait = Math.max(0, first + this.options.maxAgeMs - this.now().getTime());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.serialise(() => this.writeDue())
        .catch((err) => this.options.onFlushError?.(err))
        .finally(() => this.armTimer());
    }, wait);
    this.timer.unref();
  }

  /** Writes everything buffered. Concurrent calls are serialised. */
  flush(): Promise<void> {
    return this.serialise(() => this.writeAll());
  }

  /**
   * Writes what is due: full partitions, the oldest partitions while the buffer is over `maxRows`, errors past
   * `maxErrors`, and with `maxAgeMs` whatever is that old. Serialised with `flush`.
   */
  flushDue(): Promise<void> {
    return this.serialise(() => this.writeDue());
  }

  /** Writes the named partitions (`events/dt=…/hour=…/`) that hold rows, one file each. Serialised with `flush`. */
  flushPartitions(prefixes: readonly string[]): Promise<void> {
    return this.serialise(() => this.writePartitions(prefixes, this.now()));
  }

  private serialise(write: () => Promise<void>): Promise<void> {
    const next = this.flushing.then(write);
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async writeAll(): Promise<void> {
    this.clearTimer();
    this.stage.drain();
    const at = this.now();
    await this.writePartitions([...this.partitions.keys()], at);
    await this.writeErrors(at);
    this.stats.flushes++;
  }

  private async writeDue(): Promise<void> {
    this.stage.drain();
    const at = this.now();
    const maxAge = this.options.maxAgeMs;
    const aged = (since: number) => maxAge !== undefined && at.getTime() - since >= maxAge;
    // Over the bound, the oldest partitions go until the buffer is under 90 % of it, passing over those holding less
    // than half the mean (a sparse hour would otherwise be written again and again in files of a few rows; together
    // they hold under half the buffer, so the others always suffice). Besides, every full or aged partition goes.
    const over = this.buffered >= this.maxRows;
    const low = this.maxRows - Math.max(1, Math.floor(this.maxRows / 10));
    const sparse = this.buffered / this.partitions.size / 2;
    const due: string[] = [];
    const spill: string[] = [];
    let left = this.buffered;
    for (const [key, part] of this.partitions) {
      if (part.rows + part.spilledRows >= this.maxPartitionRows || aged(part.since)) due.push(key);
      // A partition that had no row while two buffers' worth came in, and eight times its own mean gap between rows,
      // is done with (input in time order): its file is written now, not spilled or kept to the end. In random order
      // a partition's gaps are about its mean, so it stays.
      else if (over && this.idle(part)) due.push(key);
      else if (over && left > low && part.rows >= sparse) (this.options.spill ? spill : due).push(key);
      else continue;
      left -= part.rows;
    }
    for (const key of spill) this.spillPartition(key);
    if (due.length > 0) await this.writePartitions(due, at);
    this.partitionFull = false;
    if (this.errors.length >= this.maxErrors || (this.errors.length > 0 && aged(this.errorsSince))) {
      await this.writeErrors(at);
    }
    if (due.length > 0) this.stats.flushes++;
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private idle(part: PartitionBuffer): boolean {
    const quiet = this.added - part.lastAdded;
    const received = part.rows + part.spilledRows;
    return quiet >= 2 * this.maxRows && quiet * received >= 8 * (this.added - part.firstAdded);
  }

  /** Encodes a partition's buffered rows as a row group into the spill space; it moves to the back of the line. */
  private spillPartition(key: string): void {
    const part = this.partitions.get(key)!;
    const space = this.options.spill!;
    for (const batch of part.batches) {
      if (batch.rows === 0) continue;
      let offset = -1;
      const group = encodeRowGroup(batch, (bytes) => {
        offset = space.append(bytes);
      });
      part.spilled.push({ group, offset });
      part.spilledRows += group.rows;
      this.stats.spills++;
      this.stats.spilledRows += group.rows;
    }
    this.buffered -= part.rows;
    part.rows = 0;
    // The last batch is emptied and kept (its buffers fit this partition's rows); any earlier one is let go.
    for (const b of part.batches.slice(0, -1)) b.release();
    const last = part.batches[part.batches.length - 1]!;
    last.reset();
    part.batches = [last];
    this.partitions.delete(key);
    this.partitions.set(key, part);
    this.lastKey = this.last = undefined;
  }

  /** Writes the given partitions whole, one file each. A failure keeps the ones not written buffered, first in line. */
  private async writePartitions(keys: readonly string[], at: Date): Promise<void> {
    this.stage.drain();
    const pending: [string, PartitionBuffer][] = [];
    for (const key of keys) {
      const part = this.partitions.get(key);
      if (!part) continue;
      this.partitions.delete(key);
      this.buffered -= part.rows;
      pending.push([key, part]);
    }
    this.lastKey = this.last = undefined;
    try {
      while (pending.length > 0) {
        const [prefix, part] = pending[0]!;
        const [dt, hour] = [prefix.slice(10, 20), prefix.slice(26, 28)];
        const key = eventFileKey(dt, hour, this.options.stream, at);
        if (part.spilled.length > 0) {
          const space = this.options.spill!;
          const file = encodeWithRowGroups(
            part.spilled.map((s) => s.group),
            (_g, i, into) => space.read(part.spilled[i]!.offset, into),
            part.batches,
          );
          try {
            await this.options.store.put(key, this.options.reuseFileBuffers ? file.data : Buffer.from(file.data));
          } finally {
            file.release();
          }
        } else if (this.options.reuseFileBuffers) {
          const file = encodeBatchesPooled(part.batches);
          try {
            await this.options.store.put(key, file.data);
          } finally {
            file.release();
          }
        } else await this.options.store.put(key, encodeBatches(part.batches));
        pending.shift();
        for (const b of part.batches) b.release();
        this.stats.rowsWritten += part.rows + part.spilledRows;
        this.stats.eventFiles++;
      }
    } catch (err) {
      // Keep what was not written, ahead of what came since: the next flush retries it (a partition written twice is
      // harmless, see above).
      const rest = this.partitions;
      this.partitions = new Map();
      for (const [prefix, part] of pending) {
        const newer = rest.get(prefix);
        if (newer) {
          rest.delete(prefix);
          part.batches.push(...newer.batches);
          part.rows += newer.rows;
          part.spilled.push(...newer.spilled);
          part.spilledRows += newer.spilledRows;
          this.buffered -= newer.rows;
        } else part.batches.push(new ColumnBatch());
        this.partitions.set(prefix, part);
        this.buffered += part.rows;
      }
      for (const [prefix, part] of rest) this.partitions.set(prefix, part);
      this.lastKey = this.last = undefined;
      throw err;
    }
  }

  private async writeErrors(at: Date): Promise<void> {
    const errors = this.errors;
    this.errors = [];
    const byDir = new Map<string, ErrorRecord[]>();
    for (const e of errors) {
      const dir = `${LAKE_PREFIX.errors}${e.errorType}/dt=${e.receivedAt.slice(0, 10)}/`;
      const list = byDir.get(dir) ?? [];
      list.push(e);
      byDir.set(dir, list);
    }
    const pending = [...byDir];
    try {
      while (pending.length > 0) {
        const [dir, list] = pending[0]!;
        const text = list.map((e) => `${JSON.stringify(e)}\n`).join('');
        await this.options.store.put(`${dir}${this.options.stream}-${fileStamp(at)}-${randomUUID()}.json`, text);
        pending.shift();
        this.stats.errorsWritten += list.length;
        this.stats.errorFiles++;
      }
    } catch (err) {
      this.errors = pending.flatMap(([, list]) => list).concat(this.errors);
      throw err;
    }
  }

  /** No more timed writes (what is buffered stays buffered): for a caller giving up after a failure. */
  stopTimer(): void {
    this.stopped = true;
    this.clearTimer();
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
