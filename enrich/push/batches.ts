import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzip } from 'node:zlib';
import { z } from 'zod';
import type { BatchLimits } from './config';
import { MalformedBatchError } from './errors';
import { RECORD_SCHEMA_VERSION, type ReportingRecord } from './record';

/**
 * One request's worth of records: the exact body sent, and its `Idempotency-Key`. The same records at the same
 * revisions always give the same body and key, so a retry, a redelivered queue message or a redriven dead letter is
 * recognised by the receiver as the batch it already has.
 */
export interface RecordBatch {
  idempotencyKey: string;
  body: string;
  recordIds: string[];
  /** Tenants of the batch's records (for logs). */
  tenants: string[];
  /** How many records it holds. */
  size: number;
  /**
   * The body gzip-compressed, when the batch came so from the queue: it is sent as is (`Content-Encoding: gzip`), and
   * `body`, `recordIds` and `tenants` are only decoded if they are read (a refusal to isolate, a dead letter).
   */
  gzip?: Uint8Array;
}

/** A record ready to batch: its id, revision, tenant and JSON text. */
interface PackItem {
  id: string;
  revision: number;
  tenant: string;
  json: string;
}

const PREFIX = `{"schema_version":${RECORD_SCHEMA_VERSION},"records":[`;
const SUFFIX = ']}';
const ENVELOPE_BYTES = Buffer.byteLength(PREFIX) + Buffer.byteLength(SUFFIX);

/**
 * The batch's `Idempotency-Key`: a digest of its record keys (id and revision, sorted) and of the body. Deterministic,
 * 48 characters of `A-Za-z0-9_-` behind a version prefix.
 */
export function idempotencyKeyOf(entries: readonly { id: string; revision: number }[], body: string): string {
  const h = createHash('sha256');
  for (const k of entries.map((e) => `${e.id}:${e.revision}`).sort()) h.update(k).update('\n');
  h.update(createHash('sha256').update(body).digest());
  return `sfr1-${h.digest('base64url')}`;
}

function makeBatch(items: readonly PackItem[]): RecordBatch {
  const body = `${PREFIX}${items.map((i) => i.json).join(',')}${SUFFIX}`;
  return {
    idempotencyKey: idempotencyKeyOf(items, body),
    body,
    recordIds: items.map((i) => i.id),
    tenants: [...new Set(items.map((i) => i.tenant))].sort(),
    size: items.length,
  };
}

/** Packs items (already in their final order) into batches within the limits; one oversized item gets its own. */
function pack(items: readonly PackItem[], limits: BatchLimits): RecordBatch[] {
  const out: RecordBatch[] = [];
  let current: PackItem[] = [];
  let bytes = ENVELOPE_BYTES;
  for (const item of items) {
    const size = Buffer.byteLength(item.json) + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && (current.length >= limits.maxRecords || bytes + size > limits.maxBytes)) {
      out.push(makeBatch(current));
      current = [];
      bytes = ENVELOPE_BYTES;
    }
    bytes += Buffer.byteLength(item.json) + (current.length > 0 ? 1 : 0);
    current.push(item);
  }
  if (current.length > 0) out.push(makeBatch(current));
  return out;
}

/**
 * Packs records into request batches: one copy per record (its highest revision), sorted by record id so that the
 * same records always make the same bodies, at most `maxRecords` records and `maxBytes` bytes of body each.
 */
export function packRecords(records: Iterable<ReportingRecord>, limits: BatchLimits): RecordBatch[] {
  const latest = new Map<string, ReportingRecord>();
  for (const r of records) {
    const held = latest.get(r.record_id);
    if (!held || r.revision > held.revision) latest.set(r.record_id, r);
  }
  const items = [...latest.values()]
    .sort((a, b) => (a.record_id < b.record_id ? -1 : a.record_id > b.record_id ? 1 : 0))
    .map((r) => ({ id: r.record_id, revision: r.revision, tenant: r.tenant_id, json: JSON.stringify(r) }));
  return pack(items, limits);
}

/**
 * What the pusher checks of a queued batch (the receiver validates every field; the pusher must only not drop or
 * mangle any): the envelope with zod, then each record's id, revision and tenant in one plain pass.
 */
const QueuedBatchSchema = z.object({
  schema_version: z.literal(RECORD_SCHEMA_VERSION),
  records: z.array(z.unknown()).min(1),
});

interface QueuedRecord {
  record_id: string;
  revision: number;
  tenant_id: string;
}

function checkQueuedRecord(r: unknown, i: number): QueuedRecord {
  const o = r as Partial<QueuedRecord> | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.record_id !== 'string' ||
    o.record_id === '' ||
    typeof o.tenant_id !== 'string' ||
    !Number.isInteger(o.revision) ||
    (o.revision as number) < 1
  ) {
    throw new MalformedBatchError(
      `queue message is not a record batch (records.${i}: no record_id, revision or tenant_id)`,
    );
  }
  return o as QueuedRecord;
}

/**
 * Reads a queued body (a batch as the producer or the backfill wrote it) back into request batches under `limits`:
 * the body itself when it fits (sent byte for byte, so its key never changes), else split in order. Throws
 * {@link MalformedBatchError} for a body that is not a record batch.
 */
export function batchesOfBody(body: string, limits: BatchLimits): RecordBatch[] {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new MalformedBatchError('queue message is not JSON');
  }
  const parsed = QueuedBatchSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MalformedBatchError(
      `queue message is not a record batch (${issue?.path.join('.') || 'body'}: ${issue?.message})`,
    );
  }
  const records = parsed.data.records.map(checkQueuedRecord);
  const fits = records.length <= limits.maxRecords && Buffer.byteLength(body) <= limits.maxBytes;
  if (fits && body.startsWith(PREFIX)) {
    return [
      {
        idempotencyKey: idempotencyKeyOf(
          records.map((r) => ({ id: r.record_id, revision: r.revision })),
          body,
        ),
        body,
        recordIds: records.map((r) => r.record_id),
        tenants: [...new Set(records.map((r) => r.tenant_id))].sort(),
        size: records.length,
      },
    ];
  }
  return pack(
    records.map((r) => ({ id: r.record_id, revision: r.revision, tenant: r.tenant_id, json: JSON.stringify(r) })),
    limits,
  );
}

/**
 * Splits a refused batch to isolate what the receiver refuses: by tenant first when it holds several (a refusal is
 * most often about a tenant), else in two halves. Each part has its own deterministic key; null for one record.
 */
export function splitBatch(batch: RecordBatch): RecordBatch[] | null {
  if (batch.size < 2) return null;
  const parsed = JSON.parse(batch.body) as { records: Record<string, unknown>[] };
  const items = parsed.records.map((r) => ({
    id: String(r.record_id),
    revision: Number(r.revision),
    tenant: String(r.tenant_id),
    json: JSON.stringify(r),
  }));
  const unlimited = { maxRecords: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER };
  if (batch.tenants.length > 1) {
    return batch.tenants.flatMap((t) =>
      pack(
        items.filter((i) => i.tenant === t),
        unlimited,
      ),
    );
  }
  return pack(items, { maxRecords: Math.ceil(items.length / 2), maxBytes: Number.MAX_SAFE_INTEGER });
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * A batch as a queue message (what the producer and the backfill enqueue): `sfb1:<Idempotency-Key>:<records>:<body
 * bytes>:<base64 of the gzip body>`. The pusher sends the compressed body as it is with its key, without inflating
 * or parsing 500 records per message: the receiver checks every record anyway. Record batches compress about 10x, so
 * a 500-record batch is one or two 64 KiB SQS billing chunks instead of seven. Compression runs on the libuv pool.
 */
export const QUEUED_BATCH_PREFIX = 'sfb1:';
const QUEUED_HEADER = /^sfb1:([A-Za-z0-9._-]{16,128}):([1-9]\d{0,8}):([1-9]\d{0,9}):/;

export async function encodeQueuedBatch(batch: RecordBatch): Promise<string> {
  const zipped = await gzipAsync(batch.body);
  return `${QUEUED_BATCH_PREFIX}${batch.idempotencyKey}:${batch.size}:${Buffer.byteLength(batch.body)}:${zipped.toString('base64')}`;
}

/** A body as a dead letter or an older queue message keeps it: gzip, then base64 (SQS bodies must be text). */
export async function encodeQueueBody(json: string): Promise<string> {
  return (await gzipAsync(json)).toString('base64');
}

/**
 * The batch body of a queue message: plain JSON as is (a hand-written message), a queued batch or base64 gzip
 * inflated.
 */
export async function decodeQueueBody(body: string): Promise<string> {
  if (body.startsWith('{')) return body;
  const header = QUEUED_HEADER.exec(body);
  try {
    return (await gunzipAsync(Buffer.from(header ? body.slice(header[0].length) : body, 'base64'))).toString('utf8');
  } catch {
    throw new MalformedBatchError('queue message is neither JSON nor a base64 gzip batch');
  }
}

/** A queued batch sent as it came: its key and size from the message, the rest decoded only when read. */
class CompressedBatch implements RecordBatch {
  private decoded: RecordBatch | null = null;

  constructor(
    readonly idempotencyKey: string,
    readonly size: number,
    readonly gzip: Uint8Array,
  ) {}

  /** The batch behind the compressed body, checked to be the one the message's header names. */
  private full(): RecordBatch {
    if (this.decoded) return this.decoded;
    let text: string;
    try {
      text = gunzipSync(this.gzip).toString('utf8');
    } catch {
      throw new MalformedBatchError('queue message is not a base64 gzip batch');
    }
    const batches = batchesOfBody(text, { maxRecords: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER });
    const b = batches[0]!;
    if (batches.length !== 1 || b.idempotencyKey !== this.idempotencyKey || b.size !== this.size) {
      throw new MalformedBatchError('queue message header does not match its batch (key or record count)');
    }
    this.decoded = b;
    return b;
  }

  get body(): string {
    return this.full().body;
  }

  get recordIds(): string[] {
    return this.full().recordIds;
  }

  get tenants(): string[] {
    return this.full().tenants;
  }
}

/**
 * The request batches of a queue message under `limits`. A queued batch (`sfb1:`) within the limits is sent as it
 * came, compressed and unparsed; anything else (a plain JSON batch, an older base64 gzip message, a batch over
 * the limits) is inflated, checked and repacked by {@link batchesOfBody}. Throws {@link MalformedBatchError}.
 */
export async function queuedBatches(body: string, limits: BatchLimits): Promise<RecordBatch[]> {
  const header = QUEUED_HEADER.exec(body);
  if (header) {
    const size = Number(header[2]);
    const bytes = Number(header[3]);
    if (size <= limits.maxRecords && bytes <= limits.maxBytes) {
      const gz = Buffer.from(body.slice(header[0].length), 'base64');
      if (gz.length < 18 || gz[0] !== 0x1f || gz[1] !== 0x8b) {
        throw new MalformedBatchError('queue message is not a base64 gzip batch');
      }
      return [new CompressedBatch(header[1]!, size, gz)];
    }
  } else if (body.startsWith(QUEUED_BATCH_PREFIX)) {
    throw new MalformedBatchError('queue message has a malformed batch header');
  }
  return batchesOfBody(await decodeQueueBody(body), limits);
}
