import { randomUUID } from 'node:crypto';
import { fileStamp, LAKE_PREFIX } from './lake-schema';
import type { LakeStore } from './lake-store';
import type { NormalisedEvent } from './normalise';
import { ColumnBatch, encodeBatches, encodeBatchesPooled } from './parquet-encoder';
import { type ErrorRecord, partitionOf } from './transform';

export interface LakeWriterOptions {
  store: LakeStore;
  /** Names the files, as a Firehose stream name does (`<stream>-<time>-<uuid>.parquet`). */
  stream: string;
  /** Flush when this many rows are buffered, across partitions (Firehose buffers by size). */
  maxRows?: number;
  /** Flush this long after the first buffered row (Firehose buffers by time); off when absent. */
  maxAgeMs?: number;
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

/**
 * Writes normalised rows to the lake the way Firehose delivers: buffered by size and time, one Parquet file per
 * partition (event hour) per flush, and every failed record under `errors/<type>/dt=<day received>/` with its reason.
 *
 * Each file is written atomically (the store's contract). A crash loses only what was still buffered, and that is
 * exactly what a re-run writes again: rows already in the lake are recognised by their event_id (see
 * `ingest/ingest-stream.ts`), and every query reads the deduplicating `events` view, so nothing counts twice.
 */
export class LakeWriter {
  readonly stats: LakeWriterStats = { rowsWritten: 0, errorsWritten: 0, eventFiles: 0, errorFiles: 0, flushes: 0 };
  /** Rows buffered by partition, as columns (no row object is kept); more than one batch only after a failed write. */
  private partitions = new Map<string, ColumnBatch[]>();
  private errors: ErrorRecord[] = [];
  private buffered = 0;
  /** The batch of the last row's partition (rows come in runs of one hour). */
  private lastKey: string | undefined;
  private lastBatch: ColumnBatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxRows: number;
  private readonly now: () => Date;

  constructor(private readonly options: LakeWriterOptions) {
    this.maxRows = options.maxRows ?? 50_000;
    this.now = options.now ?? (() => new Date());
  }

  /** Rows waiting to be written. */
  get bufferedRows(): number {
    return this.buffered;
  }

  /** True when the size threshold is reached: the caller should `await flush()` (backpressure). */
  get needsFlush(): boolean {
    return this.buffered >= this.maxRows;
  }

  addRows(rows: readonly NormalisedEvent[]): void {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const key = partitionPrefix(row.event_time);
      if (key !== this.lastKey || this.lastBatch === undefined) {
        let list = this.partitions.get(key);
        if (!list) {
          list = [new ColumnBatch()];
          this.partitions.set(key, list);
        }
        this.lastKey = key;
        this.lastBatch = list[list.length - 1]!;
      }
      this.lastBatch.add(row);
    }
    this.buffered += rows.length;
    this.armTimer();
  }

  addError(error: ErrorRecord): void {
    this.errors.push(error);
    this.armTimer();
  }

  private armTimer(): void {
    if (this.timer || this.options.maxAgeMs === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((err) => this.options.onFlushError?.(err));
    }, this.options.maxAgeMs);
    this.timer.unref();
  }

  /** Writes everything buffered. Concurrent calls are serialised. */
  flush(): Promise<void> {
    const next = this.flushing.then(() => this.writeBuffered());
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async writeBuffered(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const partitions = this.partitions;
    const errors = this.errors;
    this.partitions = new Map();
    this.lastKey = this.lastBatch = undefined;
    this.errors = [];
    this.buffered = 0;
    if (partitions.size === 0 && errors.length === 0) return;
    const at = this.now();
    const pending = [...partitions];
    try {
      while (pending.length > 0) {
        const [prefix, batches] = pending[0]!;
        const [dt, hour] = [prefix.slice(10, 20), prefix.slice(26, 28)];
        const key = eventFileKey(dt, hour, this.options.stream, at);
        if (this.options.reuseFileBuffers) {
          const file = encodeBatchesPooled(batches);
          try {
            await this.options.store.put(key, file.data);
          } finally {
            file.release();
          }
        } else await this.options.store.put(key, encodeBatches(batches));
        pending.shift();
        for (const b of batches) {
          this.stats.rowsWritten += b.rows;
          b.release();
        }
        this.stats.eventFiles++;
      }
      const byDir = new Map<string, ErrorRecord[]>();
      for (const e of errors) {
        const dir = `${LAKE_PREFIX.errors}${e.errorType}/dt=${e.receivedAt.slice(0, 10)}/`;
        const list = byDir.get(dir) ?? [];
        list.push(e);
        byDir.set(dir, list);
      }
      for (const [dir, list] of byDir) {
        const text = list.map((e) => `${JSON.stringify(e)}\n`).join('');
        await this.options.store.put(`${dir}${this.options.stream}-${fileStamp(at)}-${randomUUID()}.json`, text);
        this.stats.errorsWritten += list.length;
        this.stats.errorFiles++;
      }
      this.stats.flushes++;
    } catch (err) {
      // Keep what was not written: the next flush retries it (a partition written twice is harmless, see above).
      for (const [prefix, batches] of pending) {
        const list = this.partitions.get(prefix) ?? [];
        this.partitions.set(prefix, batches.concat(list.length > 0 ? list : [new ColumnBatch()]));
        for (const b of batches) this.buffered += b.rows;
      }
      this.lastKey = this.lastBatch = undefined;
      this.errors = errors.concat(this.errors);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
