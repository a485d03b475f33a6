import type { NormalisedEvent } from '../../ingest/normalise';
import type { ErrorRecord } from '../../ingest/transform';

/**
 * Where the local Firehose delivers what the transform produced: normalised rows, and error records (every record
 * that failed, with its reason and original bytes). The lake writer (`ingest/lake-writer.ts`) fits it as it is.
 * `flush` makes everything handed over so far durable; when it fails, the sink keeps what it could not write and
 * writes it at the next `flush` (the delivery stream then retries `flush`, not the records).
 */
export interface RowSink {
  addRows(rows: readonly NormalisedEvent[]): void | Promise<void>;
  addError(error: ErrorRecord): void | Promise<void>;
  flush(): Promise<void>;
  close?(): Promise<void>;
}

/** Keeps rows and errors in memory (tests, and a pipeline without a lake). */
export class MemoryRowSink implements RowSink {
  readonly rows: NormalisedEvent[] = [];
  readonly errors: ErrorRecord[] = [];
  flushes = 0;
  addRows(rows: readonly NormalisedEvent[]): void {
    for (const r of rows) this.rows.push(r);
  }
  addError(error: ErrorRecord): void {
    this.errors.push(error);
  }
  async flush(): Promise<void> {
    this.flushes++;
  }
}
