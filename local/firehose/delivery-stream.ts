import { randomUUID } from 'node:crypto';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { transformFirehoseBatch } from '../../ingest/firehose-transform';
import type { NormalisedEvent, NormaliseOptions } from '../../ingest/normalise';
import type { ErrorRecord, ErrorType } from '../../ingest/transform';
import type { EventSink, PublishedRecord } from '../ses-simulator/event-sinks';
import type { RowSink } from './row-sink';

/** How a local delivery stream buffers before it runs the transform and hands rows to the sink. */
export interface DeliveryStreamOptions {
  name: string;
  arn: string;
  region: string;
  sink: RowSink;
  /** Flush when this many bytes are buffered (Firehose's processor hint defaults to 1 MB, aws-facts §4.1). */
  bufferBytes?: number;
  /** Flush this long after the first buffered record (Firehose: 0–900 s; locally small by default). */
  bufferIntervalMs?: number;
  /** Every raw record the transform accepted, also to this sink (Kinesis; partition key = tenant). */
  fanOut?: EventSink;
  normaliseOptions?: NormaliseOptions;
  /** A delivery problem (the sink or fan-out failed; the batch is kept and retried). One line, no record data. */
  onProblem?: (message: string) => void;
}

interface Buffered {
  recordId: string;
  data: Buffer;
  arrival: number;
}

/** Per-invocation budget: the Lambda request limit is 6 MB of JSON, so batches stay under 3 MiB of raw data. */
const INVOCATION_BYTES = 3 * 1024 * 1024;

export interface DeliveryStreamStats {
  recordsIn: number;
  recordsOk: number;
  recordsFailed: number;
  rows: number;
  flushes: number;
  fannedOut: number;
}

/**
 * One local delivery stream: buffers records by size and time like Firehose, runs the very transform the Lambda
 * runs (`transformFirehoseBatch`), and delivers rows and error records to the row sink. A failed delivery keeps the
 * batch and retries it at the next flush (Firehose retries for up to 24 h): nothing is dropped.
 */
export class DeliveryStream {
  readonly createdAt = Date.now();
  readonly stats: DeliveryStreamStats = {
    recordsIn: 0,
    recordsOk: 0,
    recordsFailed: 0,
    rows: 0,
    flushes: 0,
    fannedOut: 0,
  };
  private buffer: Buffered[] = [];
  private bufferedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private seq = 0;
  /** The sink holds rows it failed to write: flush it before anything else. */
  private sinkUnflushed = false;
  private readonly bufferBytes: number;
  private readonly bufferIntervalMs: number;

  constructor(private readonly opts: DeliveryStreamOptions) {
    this.bufferBytes = opts.bufferBytes ?? 1024 * 1024;
    this.bufferIntervalMs = opts.bufferIntervalMs ?? 1000;
  }

  get name(): string {
    return this.opts.name;
  }
  get arn(): string {
    return this.opts.arn;
  }
  get pendingRecords(): number {
    return this.buffer.length;
  }

  /** Accepts records (already validated against the API limits) and returns their record ids. */
  put(records: readonly Buffer[]): string[] {
    const now = Date.now();
    const ids: string[] = [];
    for (const data of records) {
      // Unique within the stream: arrival time and a sequence number, digits only like Firehose's own ids.
      const recordId = `${now.toString().padStart(16, '0')}${(this.seq++).toString().padStart(20, '0')}`;
      this.buffer.push({ recordId, data, arrival: now });
      this.bufferedBytes += data.byteLength;
      ids.push(recordId);
    }
    this.stats.recordsIn += records.length;
    if (this.bufferedBytes >= this.bufferBytes) void this.flush();
    else if (!this.timer && this.buffer.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, this.bufferIntervalMs);
      this.timer.unref();
    }
    return ids;
  }

  /** Delivers everything buffered so far; resolves when the sink has it (or the attempt failed and was kept). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.chain = this.chain.then(() => this.deliver());
    return this.chain;
  }

  private async deliver(): Promise<void> {
    if (this.sinkUnflushed) {
      try {
        await this.opts.sink.flush();
        this.sinkUnflushed = false;
      } catch (err) {
        this.retryLater(`the row sink still fails: ${describe(err)}`);
        return;
      }
    }
    while (this.buffer.length > 0) {
      let bytes = 0;
      let n = 0;
      while (n < this.buffer.length && (n === 0 || bytes + this.buffer[n]!.data.byteLength <= INVOCATION_BYTES)) {
        bytes += this.buffer[n]!.data.byteLength;
        n++;
      }
      const batch = this.buffer.slice(0, n);
      let handedOver = false;
      try {
        await this.deliverBatch(batch, () => {
          handedOver = true;
        });
      } catch (err) {
        if (!handedOver) {
          this.retryLater(`${batch.length} records kept for retry: ${describe(err)}`);
          return;
        }
        // The sink has the rows and keeps what it could not write (RowSink contract): retry its flush only.
        this.sinkUnflushed = true;
        this.buffer.splice(0, n);
        this.bufferedBytes -= bytes;
        this.retryLater(`the row sink failed to write; it keeps the rows and is retried: ${describe(err)}`);
        return;
      }
      this.buffer.splice(0, n);
      this.bufferedBytes -= bytes;
    }
  }

  private retryLater(problem: string): void {
    this.opts.onProblem?.(`delivery stream ${this.opts.name}: ${problem}`);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, this.bufferIntervalMs);
      this.timer.unref();
    }
  }

  private async deliverBatch(batch: readonly Buffered[], handedOver: () => void): Promise<void> {
    const event: FirehoseTransformationEvent = {
      invocationId: randomUUID(),
      deliveryStreamArn: this.opts.arn,
      region: this.opts.region,
      records: batch.map((b) => ({
        recordId: b.recordId,
        approximateArrivalTimestamp: b.arrival,
        data: b.data.toString('base64'),
      })),
    };
    const { result } = transformFirehoseBatch(event, this.opts.normaliseOptions);
    const rows: NormalisedEvent[] = [];
    const errors: ErrorRecord[] = [];
    const fan: PublishedRecord[] = [];
    const receivedAt = new Date().toISOString();
    for (let i = 0; i < result.records.length; i++) {
      const out = result.records[i]!;
      const input = batch[i]!;
      const text = Buffer.from(out.data ?? '', 'base64').toString('utf8');
      if (out.result === 'Ok') {
        const recordRows = text
          .split('\n')
          .filter((l) => l !== '')
          .map(rowFromJsonLine);
        for (const r of recordRows) rows.push(r);
        if (this.opts.fanOut) {
          const first = recordRows[0];
          fan.push({
            data: input.data.toString('utf8'),
            partitionKey: first?.tenant_id ?? 'unknown',
            eventType: first?.event_type ?? 'unknown',
          });
        }
      } else {
        errors.push(errorFromEnvelope(text, `firehose:${this.opts.name}/${out.recordId}`, receivedAt));
      }
    }
    if (rows.length > 0) await this.opts.sink.addRows(rows);
    for (const e of errors) await this.opts.sink.addError(e);
    handedOver();
    this.stats.rows += rows.length;
    this.stats.recordsOk += batch.length - errors.length;
    this.stats.recordsFailed += errors.length;
    await this.opts.sink.flush();
    this.stats.flushes++;
    if (fan.length > 0 && this.opts.fanOut) {
      try {
        await this.opts.fanOut.put(fan);
        this.stats.fannedOut += fan.length;
      } catch (err) {
        // The lake already has these rows; the fan-out is best effort, like an EventBridge target (logged, not retried).
        this.opts.onProblem?.(
          `delivery stream ${this.opts.name}: fan-out of ${fan.length} records failed: ${describe(err)}`,
        );
      }
    }
  }

  /** Stops the timer; call `flush()` first to deliver what is buffered. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A row of the transform's JSON-line output back to a NormalisedEvent (times back to epoch ms). */
export function rowFromJsonLine(line: string): NormalisedEvent {
  const v = JSON.parse(line) as Record<string, unknown>;
  if (typeof v.event_id !== 'string' || typeof v.event_time !== 'string') {
    throw new Error('transform output is not a normalised row');
  }
  // The transform wrote this line from a NormalisedEvent (rowToJsonLine): only the two times changed form.
  return {
    ...(v as unknown as NormalisedEvent),
    event_time: Date.parse(v.event_time),
    mail_time: typeof v.mail_time === 'string' ? Date.parse(v.mail_time) : null,
  };
}

function errorFromEnvelope(text: string, source: string, receivedAt: string): ErrorRecord {
  let env: { errorType?: unknown; reason?: unknown; rawData?: unknown } = {};
  try {
    env = JSON.parse(text) as typeof env;
  } catch {
    // The envelope is ours; if it is unreadable, keep the text itself as the raw data.
  }
  return {
    errorType: (typeof env.errorType === 'string' ? env.errorType : 'parse-failed') as ErrorType,
    reason: typeof env.reason === 'string' ? env.reason : 'processing failed',
    source,
    receivedAt,
    rawData: typeof env.rawData === 'string' ? env.rawData : Buffer.from(text).toString('base64'),
  };
}
