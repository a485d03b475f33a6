import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { LakeDb } from '../../queries/duckdb-lake';
import { packRecords, type RecordBatch } from './batches';
import type { BatchLimits } from './config';
import {
  type DeliveryRecord,
  type DeliveryStatus,
  mergeEvent,
  RECORD_EVENT_COLUMNS,
  type RecordEvent,
  type ReportingRecord,
  toReportingRecord,
} from './record';

/**
 * What a backfill covers: the records of the messages sent in [from, to) (by the message's send time, `mail_time`),
 * optionally of one tenant. Each record is rebuilt from every event of its message in the lake, whenever the event
 * happened, so a backfilled record is complete and has the revision the live path gives it for the same events.
 */
export interface BackfillWindow {
  from: Date;
  to: Date;
  tenant: string | null;
}

const CheckpointSchema = z.object({
  version: z.literal(1),
  window: z.object({ from: z.string(), to: z.string(), tenant: z.string().nullable() }),
  /** Every record up to this (message id, recipient or '') is settled. */
  after: z.object({ messageId: z.string(), recipient: z.string() }).nullable(),
  records: z.number().int().min(0),
  batches: z.number().int().min(0),
  done: z.boolean(),
  updatedAt: z.string(),
});
export type BackfillCheckpoint = z.infer<typeof CheckpointSchema>;

const windowKey = (w: BackfillWindow) => ({ from: w.from.toISOString(), to: w.to.toISOString(), tenant: w.tenant });

/** The checkpoint file: written atomically after each settled stretch of batches. */
export class CheckpointFile {
  constructor(readonly path: string) {}

  /** The checkpoint of this window, or null (none, unreadable, or of another window). */
  load(window: BackfillWindow): BackfillCheckpoint | null {
    if (!existsSync(this.path)) return null;
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch {
      return null;
    }
    const parsed = CheckpointSchema.safeParse(value);
    if (!parsed.success) return null;
    const w = windowKey(window);
    const c = parsed.data;
    return c.window.from === w.from && c.window.to === w.to && c.window.tenant === w.tenant ? c : null;
  }

  save(c: BackfillCheckpoint): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(c, null, 2)}\n`);
    renameSync(tmp, this.path);
  }
}

export interface BackfillDeps {
  lake: LakeDb;
  limits: BatchLimits;
  /** Settles one batch (delivered or dead-lettered); throws to stop the backfill. Null: dry run, nothing is sent. */
  push: ((batch: RecordBatch) => Promise<void>) | null;
  /** Batches in flight (default 4). */
  concurrency?: number;
  checkpoint?: CheckpointFile | null;
  /** Start over even if the checkpoint says where the last run stopped. */
  restart?: boolean;
  onProgress?: (p: { records: number; batches: number; total: number }) => void;
}

export interface BackfillSummary {
  /** Records pushed (dry run: that would be) in this run. */
  records: number;
  batches: number;
  /** Records of the window in all (this run plus what an earlier run settled). */
  total: number;
  /** Records settled by an earlier run (resumed after them). */
  resumedAfter: number;
  byStatus: Partial<Record<DeliveryStatus, number>>;
  /** The window was already complete (nothing to do). */
  alreadyComplete: boolean;
}

const ts = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

function whereClause(w: BackfillWindow, after: BackfillCheckpoint['after']): { sql: string; params: unknown[] } {
  const params: unknown[] = [ts(w.from), ts(w.to)];
  let sql = `coalesce(mail_time, event_time) >= ?::TIMESTAMP AND coalesce(mail_time, event_time) < ?::TIMESTAMP
    AND event_type <> 'subscription'`;
  if (w.tenant !== null) {
    sql += ' AND tenant_id = ?';
    params.push(w.tenant);
  }
  if (after) {
    sql += ` AND (message_id > ? OR (message_id = ? AND coalesce(recipient, '') > ?))`;
    params.push(after.messageId, after.messageId, after.recipient);
  }
  return { sql, params };
}

/** How many records the window holds (distinct message and recipient), after a resume point if given. */
export async function countBackfillRecords(
  lake: LakeDb,
  w: BackfillWindow,
  after: BackfillCheckpoint['after'] = null,
): Promise<number> {
  const where = whereClause(w, after);
  const rows = await lake.query<{ n: bigint | number }>(
    `SELECT count(*) AS n FROM (SELECT DISTINCT message_id, coalesce(recipient, '') FROM events WHERE ${where.sql})`,
    where.params,
  );
  return Number(rows[0]?.n ?? 0);
}

const COLUMNS = RECORD_EVENT_COLUMNS.map((c) => (c === 'event_time' ? 'epoch_ms(event_time) AS event_time' : c)).join(
  ', ',
);

/** The window's records in (message id, recipient) order, each rebuilt from its events, streamed. */
async function* lakeRecords(lake: LakeDb, w: BackfillWindow, after: BackfillCheckpoint['after']) {
  const where = whereClause(w, after);
  const result = await lake.connection.stream(
    `SELECT ${COLUMNS} FROM events WHERE ${where.sql} ORDER BY message_id, coalesce(recipient, ''), event_id`,
    where.params as never,
  );
  let current: DeliveryRecord | null = null;
  for await (const rows of result.yieldRowObjectJs()) {
    for (const row of rows) {
      const e = { ...row, event_time: Number(row.event_time) } as unknown as RecordEvent;
      if (current && (current.message_id !== e.message_id || current.recipient !== e.recipient)) {
        yield current;
        current = null;
      }
      current = mergeEvent(current, e);
    }
  }
  if (current) yield current;
}

/**
 * Rebuilds the window's records from the lake and pushes them in batches, `concurrency` batches in flight. The
 * checkpoint advances only past records whose batches (and every batch before them) are settled, so a run stopped
 * anywhere (Ctrl-C, a crash, a batch that could not be delivered) resumes after the last settled stretch; batches
 * pushed twice across runs carry the same keys and are recognised by the receiver.
 */
export async function runBackfill(deps: BackfillDeps, w: BackfillWindow): Promise<BackfillSummary> {
  const file = deps.push ? (deps.checkpoint ?? null) : null;
  const previous = file && !deps.restart ? file.load(w) : null;
  const byStatus: Partial<Record<DeliveryStatus, number>> = {};
  if (previous?.done) {
    return {
      records: 0,
      batches: 0,
      total: previous.records,
      resumedAfter: previous.records,
      byStatus,
      alreadyComplete: true,
    };
  }
  const after = previous?.after ?? null;
  const resumedAfter = previous?.records ?? 0;
  const total = resumedAfter + (await countBackfillRecords(deps.lake, w, after));
  const checkpoint: BackfillCheckpoint = {
    version: 1,
    window: windowKey(w),
    after,
    records: resumedAfter,
    batches: previous?.batches ?? 0,
    done: false,
    updatedAt: new Date().toISOString(),
  };
  let records = 0;
  let batches = 0;
  const concurrency = Math.max(1, deps.concurrency ?? 4);
  const inFlight: {
    settled: Promise<void>;
    last: { messageId: string; recipient: string };
    count: number;
    batches: number;
  }[] = [];
  let failure: unknown = null;
  /** Waits for the oldest stretch in flight; advances the checkpoint past it if it settled. */
  const settleOldest = async (): Promise<boolean> => {
    const oldest = inFlight.shift()!;
    try {
      await oldest.settled;
    } catch (err) {
      failure ??= err;
      return false;
    }
    checkpoint.after = oldest.last;
    checkpoint.records += oldest.count;
    checkpoint.batches += oldest.batches;
    checkpoint.updatedAt = new Date().toISOString();
    file?.save(checkpoint);
    return true;
  };
  let chunk: ReportingRecord[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    const last = chunk[chunk.length - 1]!;
    const packed = packRecords(chunk, deps.limits);
    const count = chunk.length;
    chunk = [];
    records += count;
    batches += packed.length;
    if (!deps.push) {
      deps.onProgress?.({ records: resumedAfter + records, batches, total });
      return;
    }
    const push = deps.push;
    const settled = Promise.all(packed.map((b) => push(b))).then(() => {
      deps.onProgress?.({ records: resumedAfter + records, batches, total });
    });
    // Seen early so that no more is read; every batch in flight still settles before the run ends.
    settled.catch((err) => {
      failure ??= err;
    });
    inFlight.push({
      settled,
      last: { messageId: last.message_id, recipient: last.recipient ?? '' },
      count,
      batches: packed.length,
    });
    while (inFlight.length >= concurrency && failure === null) await settleOldest();
  };
  try {
    for await (const r of lakeRecords(deps.lake, w, after)) {
      if (failure !== null) break;
      const wire = toReportingRecord(r);
      byStatus[wire.status] = (byStatus[wire.status] ?? 0) + 1;
      chunk.push(wire);
      if (chunk.length >= deps.limits.maxRecords) await flush();
    }
    if (failure === null) await flush();
  } finally {
    // The checkpoint advances over every stretch that settled, up to the first that did not.
    while (inFlight.length > 0) if (!(await settleOldest())) break;
    await Promise.allSettled(inFlight.map((f) => f.settled));
  }
  if (failure !== null) throw failure;
  if (file) {
    checkpoint.done = true;
    checkpoint.updatedAt = new Date().toISOString();
    file.save(checkpoint);
  }
  return { records, batches, total, resumedAfter, byStatus, alreadyComplete: false };
}
