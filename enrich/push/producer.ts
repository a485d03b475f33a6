import type { NormalisedEvent } from '../../ingest/normalise';
import { transformRecord } from '../../ingest/transform';
import { packRecords, type RecordBatch } from './batches';
import type { BatchLimits } from './config';
import type { RecordStateStore } from './dynamodb-record-state-store';
import { ProducerError } from './errors';
import type { LogFn } from './pusher';
import { type DeliveryRecord, isRecordEvent, mergeEvent, recordIdOf, revisionOf, toReportingRecord } from './record';

/** One stream record: its sequence number and raw SES event bytes (the shape the reputation consumer reads too). */
export interface ProducerStreamRecord {
  sequenceNumber: string;
  data: Uint8Array | string;
}

/** Where changed records go: the records queue (one message per batch). */
export interface RecordQueue {
  enqueue(batches: readonly RecordBatch[]): Promise<void>;
}

export interface ProducerDeps {
  state: RecordStateStore;
  queue: RecordQueue;
  limits: BatchLimits;
  log?: LogFn;
  /** Concurrent state writes (default 16). */
  writeConcurrency?: number;
}

export interface ProducerOutcome {
  /** Sequence numbers to report as batch item failures (all of them when the batch must be retried). */
  failed: string[];
  /** Records whose content changed and were enqueued. */
  changed: number;
  /** Stream records that could not be transformed (skipped: the Firehose path keeps them under errors/). */
  untransformable: number;
}

const CONFLICT_RETRIES = 5;

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The producer over one shard's batch: transforms each stream record, merges its rows into the delivery records
 * they belong to (state in DynamoDB), enqueues each record whose content changed, and then writes the new state with
 * a condition on the revision read. Changed records are enqueued before the state is written, so a failure between
 * the two re-enqueues the same revision on retry (harmless: the receiver keeps the highest revision, and the same
 * records make the same batch key) instead of losing it; an event seen before changes nothing and is not enqueued
 * again. Any failure fails the whole batch (every sequence number), which Lambda retries: the merge is idempotent.
 * A stream record that cannot be transformed is skipped with its reason logged: it can never succeed, the Firehose
 * path keeps it under `errors/` in the lake, and retrying it would stop the shard.
 */
export async function processProducerBatch(
  deps: ProducerDeps,
  batch: { records: readonly ProducerStreamRecord[] },
): Promise<ProducerOutcome> {
  const byRecord = new Map<string, { messageId: string; events: NormalisedEvent[] }>();
  let untransformable = 0;
  for (const r of batch.records) {
    const t = transformRecord(r.data);
    if (!t.ok) {
      untransformable++;
      deps.log?.('warn', 'stream record cannot be transformed, skipped', {
        sequenceNumber: r.sequenceNumber,
        errorType: t.errorType,
      });
      continue;
    }
    for (const row of t.rows) {
      if (!isRecordEvent(row)) continue;
      const id = recordIdOf(row.message_id, row.recipient);
      let entry = byRecord.get(id);
      if (!entry) {
        entry = { messageId: row.message_id, events: [] };
        byRecord.set(id, entry);
      }
      entry.events.push(row);
    }
  }
  if (byRecord.size === 0) return { failed: [], changed: 0, untransformable };
  try {
    let pending = [...byRecord.keys()];
    let changed = 0;
    for (let round = 0; pending.length > 0; round++) {
      if (round > CONFLICT_RETRIES) throw new ProducerError(`${pending.length} records kept changing under us`);
      const held = await deps.state.getMany(
        pending.map((recordId) => ({ recordId, messageId: byRecord.get(recordId)!.messageId })),
      );
      const updates: { record: DeliveryRecord; expected: number }[] = [];
      for (const id of pending) {
        const before = held.get(id) ?? null;
        let after = before;
        for (const e of byRecord.get(id)!.events) after = mergeEvent(after, e);
        if (after !== null && after !== before) {
          updates.push({ record: after, expected: before ? revisionOf(before) : 0 });
        }
      }
      if (updates.length > 0) {
        await deps.queue.enqueue(
          packRecords(
            updates.map((u) => toReportingRecord(u.record)),
            deps.limits,
          ),
        );
      }
      const conflicts: string[] = [];
      await inParallel(updates, deps.writeConcurrency ?? 16, async (u) => {
        if (await deps.state.put(u.record, u.expected)) changed++;
        else conflicts.push(u.record.record_id);
      });
      pending = conflicts;
    }
    return { failed: [], changed, untransformable };
  } catch (err) {
    deps.log?.('error', 'producer batch failed, retried', {
      records: batch.records.length,
      error: err instanceof Error ? err.message.split('\n')[0] : String(err),
    });
    return { failed: batch.records.map((r) => r.sequenceNumber), changed: 0, untransformable };
  }
}
