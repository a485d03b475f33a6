import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { sleep } from '../../lib/retry';
import type { EventDestination } from './state';

/** One SES event record on its way to a destination: the JSON line SES writes, and the tenant for partitioning. */
export interface PublishedRecord {
  /** The record as SES writes it to Firehose: JSON and a newline. */
  data: string;
  /** The tenant (tag `tenant`, else `ses:tenant-name`, else `unknown`): the Kinesis partition key. */
  partitionKey: string;
  eventType: string;
}

/** Where the simulator publishes event records. `put` resolves once the destination accepted every record. */
export interface EventSink {
  put(records: readonly PublishedRecord[]): Promise<void>;
}

/** Picks the sink of a configuration set's event destination, or none (the destination is then skipped). */
export type EventSinkResolver = (destination: EventDestination) => EventSink | undefined;

/** Firehose PutRecordBatch limits (aws-facts §4.8). */
const FIREHOSE_MAX_RECORDS = 500;
const FIREHOSE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Publishes to a Firehose delivery stream with PutRecordBatch, as SES does: batches within the 500-record / 4 MiB
 * limits, and failed entries (FailedPutCount > 0) resent with backoff.
 */
export class FirehoseEventSink implements EventSink {
  constructor(
    private readonly client: FirehoseClient,
    readonly streamName: string,
    private readonly maxAttempts = 5,
  ) {}

  async put(records: readonly PublishedRecord[]): Promise<void> {
    let batch: Uint8Array[] = [];
    let bytes = 0;
    for (const r of records) {
      const data = Buffer.from(r.data, 'utf8');
      if (batch.length === FIREHOSE_MAX_RECORDS || bytes + data.byteLength > FIREHOSE_MAX_BYTES) {
        await this.send(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(data);
      bytes += data.byteLength;
    }
    if (batch.length > 0) await this.send(batch);
  }

  private async send(batch: Uint8Array[]): Promise<void> {
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
      const res = await this.client.send(
        new PutRecordBatchCommand({ DeliveryStreamName: this.streamName, Records: pending.map((Data) => ({ Data })) }),
      );
      if (!res.FailedPutCount) return;
      const responses = res.RequestResponses ?? [];
      pending = pending.filter((_, i) => responses[i]?.ErrorCode);
      if (attempt >= this.maxAttempts) {
        throw new Error(`${pending.length} records still failed after ${attempt} PutRecordBatch attempts`);
      }
      await sleep(20 * 2 ** attempt);
    }
  }
}

/** Publishes to a Kinesis stream (the EventBridge → Kinesis leg, locally): partition key = tenant. */
export class KinesisEventSink implements EventSink {
  constructor(
    private readonly client: KinesisClient,
    readonly streamName: string,
  ) {}

  async put(records: readonly PublishedRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 500) {
      let pending = records.slice(i, i + 500);
      for (let attempt = 1; pending.length > 0; attempt++) {
        const res = await this.client.send(
          new PutRecordsCommand({
            StreamName: this.streamName,
            Records: pending.map((r) => ({ Data: Buffer.from(r.data, 'utf8'), PartitionKey: r.partitionKey })),
          }),
        );
        if (!res.FailedRecordCount) break;
        const out = res.Records ?? [];
        pending = pending.filter((_, j) => out[j]?.ErrorCode);
        if (attempt >= 5)
          throw new Error(`${pending.length} records still failed after ${attempt} PutRecords attempts`);
        await sleep(20 * 2 ** attempt);
      }
    }
  }
}

/** Keeps records in memory (tests, and `sesflow start` without a Firehose). */
export class MemoryEventSink implements EventSink {
  readonly records: PublishedRecord[] = [];
  async put(records: readonly PublishedRecord[]): Promise<void> {
    this.records.push(...records);
  }
}

/** The stream name of a Firehose delivery stream ARN (`arn:aws:firehose:<region>:<account>:deliverystream/<name>`). */
export function streamNameOfArn(arn: string): string {
  const i = arn.lastIndexOf('/');
  return i >= 0 ? arn.slice(i + 1) : arn;
}

/**
 * The usual resolver: Firehose destinations go to `firehose` (stream name from the ARN), EventBridge destinations to
 * `eventBridge` (locally a Kinesis stream), anything else nowhere.
 */
export function resolveSinks(opts: {
  firehose?: FirehoseClient;
  eventBridge?: EventSink;
  sns?: EventSink;
}): EventSinkResolver {
  const firehoseSinks = new Map<string, FirehoseEventSink>();
  return (dest) => {
    if (dest.KinesisFirehoseDestination && opts.firehose) {
      const name = streamNameOfArn(dest.KinesisFirehoseDestination.DeliveryStreamArn);
      let sink = firehoseSinks.get(name);
      if (!sink) {
        sink = new FirehoseEventSink(opts.firehose, name);
        firehoseSinks.set(name, sink);
      }
      return sink;
    }
    if (dest.EventBridgeDestination) return opts.eventBridge;
    if (dest.SnsDestination) return opts.sns;
    return undefined;
  };
}
