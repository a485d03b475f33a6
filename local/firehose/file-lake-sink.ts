import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LAKE_PREFIX } from '../../ingest/lake-schema';
import type { NormalisedEvent } from '../../ingest/normalise';
import { encodeParquet } from '../../ingest/parquet-writer';
import { type ErrorRecord, partitionOf } from '../../ingest/transform';
import type { RowSink } from './row-sink';

/**
 * A row sink that writes the lake layout to a directory: `events/dt=YYYY-MM-DD/hour=HH/<stream>-<ts>-<uuid>.parquet`
 * (one file per partition per flush, rows partitioned by event time) and `errors/<type>/dt=YYYY-MM-DD/…json`
 * (NDJSON error records). It stands in for the lake writer (`ingest/lake-writer.ts`) until that is wired in, and
 * uses the same Parquet encoder.
 */
export class FileLakeRowSink implements RowSink {
  private rows: NormalisedEvent[] = [];
  private errors: ErrorRecord[] = [];
  filesWritten = 0;

  constructor(
    private readonly lakeDir: string,
    private readonly stream: string,
  ) {}

  addRows(rows: readonly NormalisedEvent[]): void {
    for (const r of rows) this.rows.push(r);
  }

  addError(error: ErrorRecord): void {
    this.errors.push(error);
  }

  /**
   * Writes what was added since the last flush. On a failure everything of this flush is kept for the next one, so a
   * partition already written may be written twice: the lake view deduplicates on event_id (Firehose is at-least-once).
   */
  async flush(): Promise<void> {
    const rows = this.rows;
    const errors = this.errors;
    this.rows = [];
    this.errors = [];
    try {
      await this.write(rows, errors);
    } catch (err) {
      this.rows = rows.concat(this.rows);
      this.errors = errors.concat(this.errors);
      throw err;
    }
  }

  private async write(rows: NormalisedEvent[], errors: ErrorRecord[]): Promise<void> {
    const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
    const byPartition = new Map<string, NormalisedEvent[]>();
    for (const r of rows) {
      const p = partitionOf(r.event_time);
      const key = `dt=${p.dt}/hour=${p.hour}`;
      let list = byPartition.get(key);
      if (!list) {
        list = [];
        byPartition.set(key, list);
      }
      list.push(r);
    }
    for (const [key, list] of byPartition) {
      const dir = join(this.lakeDir, LAKE_PREFIX.events, key);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, `${this.stream}-${stamp}-${randomUUID()}.parquet`), encodeParquet(list));
      this.filesWritten++;
    }
    const errorsByDir = new Map<string, ErrorRecord[]>();
    for (const e of errors) {
      const key = join(LAKE_PREFIX.errors, e.errorType, `dt=${e.receivedAt.slice(0, 10)}`);
      errorsByDir.set(key, [...(errorsByDir.get(key) ?? []), e]);
    }
    for (const [key, list] of errorsByDir) {
      const dir = join(this.lakeDir, key);
      await mkdir(dir, { recursive: true });
      const text = list.map((e) => `${JSON.stringify(e)}\n`).join('');
      await writeFile(join(dir, `${this.stream}-${stamp}-${randomUUID()}.json`), text);
      this.filesWritten++;
    }
  }
}
