import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';

/** One record as a stream consumer sees it (the shape `processStreamBatch` takes). */
export interface PolledRecord {
  sequenceNumber: string;
  data: Uint8Array;
  partitionKey: string;
  approximateArrivalTimestamp?: Date;
}

export interface PolledBatch {
  streamArn: string;
  shardId: string;
  records: PolledRecord[];
}

/** What a consumer answers for a batch: the sequence numbers it did not process (Lambda's batch item failures). */
export interface PollerHandlerResult {
  failed: readonly string[];
}

export interface KinesisPollerOptions {
  kinesis: KinesisClient;
  streamName: string;
  /** A name for logs and the checkpoint (several consumers may read one stream). */
  consumer: string;
  handler(batch: PolledBatch): Promise<PollerHandlerResult>;
  /** Where each shard's position is kept across restarts; without it, every start reads from the oldest record. */
  checkpointFile?: string;
  /** Records per GetRecords call (default 500). */
  batchSize?: number;
  /** Pause when a shard has nothing new (default 250 ms). */
  idleMs?: number;
  /** First retry delay after a failed batch, doubled up to `maxRetryMs` (defaults 250 ms, 5 s). */
  retryMs?: number;
  maxRetryMs?: number;
  onProblem?(line: string): void;
}

export interface ShardStats {
  shardId: string;
  /** The last sequence number handled (every record up to it is done). */
  position: string | null;
  /** MillisBehindLatest of the last GetRecords call. */
  millisBehindLatest: number | null;
  records: number;
  failedBatches: number;
}

export interface KinesisPoller {
  /** Resolves once every shard has caught up with the stream as it was when called (tests and benches). */
  drain(timeoutMs?: number): Promise<void>;
  stats(): ShardStats[];
  stop(): Promise<void>;
}

const seqLess = (a: string, b: string) => (a.length !== b.length ? a.length < b.length : a < b);

/**
 * A stand-in for Lambda's Kinesis event source mapping, used by `sesflow start`: one loop per shard reads batches
 * (GetRecords), hands them to the handler, and on partial failure does what Lambda does with
 * `ReportBatchItemFailures`: checkpoints up to the record before the lowest failed one and retries from there, with
 * backoff. Positions are kept in a small JSON file, so a restart resumes after the last handled record; the handler
 * must be idempotent anyway (a crash between handling and checkpointing redelivers the batch), as in AWS.
 */
export async function startKinesisPoller(opts: KinesisPollerOptions): Promise<KinesisPoller> {
  const batchSize = opts.batchSize ?? 500;
  const idleMs = opts.idleMs ?? 250;
  const retryMs = opts.retryMs ?? 250;
  const maxRetryMs = opts.maxRetryMs ?? 5000;
  const problem = opts.onProblem ?? (() => {});
  const positions: Record<string, string> = readPositions(opts.checkpointFile);
  const listed = await opts.kinesis.send(new ListShardsCommand({ StreamName: opts.streamName }));
  const shardIds = (listed.Shards ?? []).map((s) => s.ShardId!).filter(Boolean);
  const streamArn = `arn:aws:kinesis:us-east-1:000000000000:stream/${opts.streamName}`;
  const stats = new Map<string, ShardStats>(
    shardIds.map((shardId) => [
      shardId,
      { shardId, position: positions[shardId] ?? null, millisBehindLatest: null, records: 0, failedBatches: 0 },
    ]),
  );
  let stopped = false;
  const idleAt = new Map<string, number>();
  const sleepers = new Set<() => void>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      sleepers.add(done);
    });
  const save = () => {
    if (!opts.checkpointFile) return;
    mkdirSync(dirname(opts.checkpointFile), { recursive: true });
    const tmp = `${opts.checkpointFile}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(positions, null, 2)}\n`);
    renameSync(tmp, opts.checkpointFile);
  };
  const iteratorAt = async (shardId: string, type: ShardIteratorType, seq?: string) =>
    (
      await opts.kinesis.send(
        new GetShardIteratorCommand({
          StreamName: opts.streamName,
          ShardId: shardId,
          ShardIteratorType: type,
          StartingSequenceNumber: seq,
        }),
      )
    ).ShardIterator;
  const resume = (shardId: string) => {
    const p = positions[shardId];
    return p ? iteratorAt(shardId, 'AFTER_SEQUENCE_NUMBER', p) : iteratorAt(shardId, 'TRIM_HORIZON');
  };

  const loop = async (shardId: string) => {
    const s = stats.get(shardId)!;
    let iterator: string | undefined;
    let delay = retryMs;
    while (!stopped) {
      try {
        iterator ??= await resume(shardId);
        if (!iterator) return; // a closed shard
        const askedAt = performance.now();
        const out = await opts.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }));
        s.millisBehindLatest = out.MillisBehindLatest ?? null;
        const records = (out.Records ?? []).map((r) => ({
          sequenceNumber: r.SequenceNumber!,
          data: r.Data ?? new Uint8Array(),
          partitionKey: r.PartitionKey ?? '',
          approximateArrivalTimestamp: r.ApproximateArrivalTimestamp,
        }));
        if (records.length === 0) {
          idleAt.set(shardId, askedAt);
          iterator = out.NextShardIterator;
          await sleep(idleMs);
          continue;
        }
        let failed: readonly string[];
        try {
          failed = (await opts.handler({ streamArn, shardId, records })).failed;
        } catch (err) {
          problem(`${opts.consumer}: batch of ${records.length} on ${shardId} failed: ${oneLine(err)}`);
          failed = [records[0]!.sequenceNumber];
        }
        if (failed.length === 0) {
          positions[shardId] = records[records.length - 1]!.sequenceNumber;
          s.position = positions[shardId]!;
          s.records += records.length;
          save();
          iterator = out.NextShardIterator;
          delay = retryMs;
          continue;
        }
        // Checkpoint up to the record before the lowest failure, retry from the lowest failure after a backoff.
        const lowest = failed.reduce((a, b) => (seqLess(b, a) ? b : a));
        const index = records.findIndex((r) => r.sequenceNumber === lowest);
        if (index > 0) {
          positions[shardId] = records[index - 1]!.sequenceNumber;
          s.position = positions[shardId]!;
          s.records += index;
          save();
        }
        s.failedBatches++;
        problem(`${opts.consumer}: ${failed.length} records of ${shardId} failed; retrying in ${delay} ms`);
        await sleep(delay);
        delay = Math.min(maxRetryMs, delay * 2);
        iterator = await iteratorAt(shardId, 'AT_SEQUENCE_NUMBER', index >= 0 ? lowest : records[0]!.sequenceNumber);
      } catch (err) {
        if (stopped) return;
        if (!(err instanceof ExpiredIteratorException)) problem(`${opts.consumer}: ${shardId}: ${oneLine(err)}`);
        iterator = undefined;
        await sleep(delay);
        delay = Math.min(maxRetryMs, delay * 2);
      }
    }
  };
  const loops = shardIds.map((id) => loop(id));

  return {
    async drain(timeoutMs = 30_000) {
      // Caught up: every shard has asked for more and found nothing (an empty GetRecords) after this call.
      const since = performance.now();
      const deadline = since + timeoutMs;
      for (;;) {
        const behind = shardIds.filter((id) => (idleAt.get(id) ?? -1) <= since);
        if (behind.length === 0) return;
        if (performance.now() > deadline) {
          throw new Error(`${opts.consumer}: shards ${behind.join(', ')} not caught up in time`);
        }
        await sleep(20);
      }
    },
    stats: () => [...stats.values()].map((s) => ({ ...s })),
    async stop() {
      stopped = true;
      for (const wake of [...sleepers]) wake();
      await Promise.allSettled(loops);
    },
  };
}

function readPositions(file: string | undefined): Record<string, string> {
  if (!file || !existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return Object.fromEntries(
        Object.entries(parsed as Record<string, unknown>).filter(([, v]) => typeof v === 'string'),
      ) as Record<string, string>;
    }
  } catch {
    // An unreadable checkpoint: start over from the oldest record (the handler is idempotent).
  }
  return {};
}

const oneLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0];
