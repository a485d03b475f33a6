import { createHash, timingSafeEqual } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, renameSync, type WriteStream, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import type { ReportingRecord } from '../../enrich/push/record';
import { SeededRandom } from '../seeded-random';
import { gunzipLimited, InflatedTooLarge } from './inflate';
import { checkRecordBatchBody, parseBody, RECORD_ID, refusalReason } from './record-check';
import { scanRecordBatch } from './record-scan';
import { ID_WORDS, idWordsOf, RecordTable } from './record-table';

/** The contract's path (docs/reporting-api.openapi.yaml). */
export const RECORDS_PATH = '/v1/delivery-records';
/** The contract's path of deletion requests (docs/reporting-api.openapi.yaml). */
export const ERASURE_NOTICES_PATH = '/v1/erasure-notices';

/** A deletion request: the records to delete, by id (never an address). */
const ErasureNoticeSchema = z.object({
  record_ids: z.array(z.string().regex(RECORD_ID, 'not a record id')).min(1).max(500),
});

/** The record id of an NDJSON line of the receiver (empty when the line is not one). */
function recordIdOfLine(line: string): string {
  try {
    const v = JSON.parse(line) as { record?: { record_id?: unknown } };
    return typeof v.record?.record_id === 'string' ? v.record.record_id : '';
  } catch {
    return '';
  }
}
/** At most this many records per request (the pusher's default batch). */
export const MAX_RECORDS_PER_REQUEST = 500;
/** At most this many body bytes per request: 1 MiB (the pusher's default batch stays under 1,000,000 bytes). */
export const MAX_BODY_BYTES = 1024 * 1024;

export const FAULT_KINDS = ['500', '429', 'slow', 'drop'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * The fault mode: a share of requests fails, each failure drawn from `kinds`: `500` (nothing stored), `429` with
 * `Retry-After` (nothing stored), `slow` (stored, answered after `slowMs`, so a client with a shorter timeout retries
 * a batch that did arrive), `drop` (the connection is destroyed, half the time before storing, half after).
 */
export interface ReceiverFaults {
  /** Share of requests that fail, 0 to 1 (0: no faults). */
  rate: number;
  kinds: readonly FaultKind[];
  /** `Retry-After` of a 429, in whole seconds (the header's unit). */
  retryAfterSeconds: number;
  slowMs: number;
  seed: number;
}

export const NO_FAULTS: ReceiverFaults = { rate: 0, kinds: FAULT_KINDS, retryAfterSeconds: 1, slowMs: 3000, seed: 1 };

export interface ReportingReceiverOptions {
  /** 0 = a free port. */
  port?: number;
  host?: string;
  /** Accepted `x-api-key` values. */
  apiKeys: readonly string[];
  /** Also append every accepted record to this NDJSON file (one `{received_at, idempotency_key, record}` a line). */
  ndjsonFile?: string;
  faults?: Partial<ReceiverFaults>;
  /** Tenants whose records are refused with 422 (a permanent rejection, for tests of the DLQ). */
  rejectTenants?: readonly string[];
  maxRecords?: number;
  maxBodyBytes?: number;
}

/**
 * An accepted request body, kept as the bytes that came (gzip-compressed if it came so; one buffer per batch, inflated
 * and parsed again only when a record is read): a million parsed records would be tens of millions of small objects
 * for the collector to trace on every major collection, re-serialising each record on arrival would cost as much as
 * parsing it, and keeping the inflated text would be ten times the fresh memory (page faults) per batch.
 */
class HeldBatch {
  /** The SHA-256 of the text as it came, once records were erased from the batch (the bytes no longer are it). */
  private original: Buffer | null = null;

  constructor(
    private sent: Buffer,
    private gzip: boolean,
  ) {}

  /** The JSON text of the batch. */
  get bytes(): Buffer {
    return this.gzip ? gunzipSync(this.sent) : this.sent;
  }

  /** Whether another request's body (as sent, and as text) is this batch. */
  sameAs(body: RequestBody): boolean {
    if (this.original) return createHash('sha256').update(body.text).digest().equals(this.original);
    if (body.gzip === this.gzip && body.sent.equals(this.sent)) return true;
    return body.text.equals(this.bytes);
  }

  /**
   * Replaces the erased records of the batch by `{record_id, erased: true}` (positions kept, so the record table's
   * indexes still hold); a retry of the batch as it came is still recognised (by its digest). True if any was.
   */
  redact(erased: ReadonlySet<string>): boolean {
    const text = this.bytes;
    const body = parseBody(text) as { records: ReportingRecord[] };
    if (!body.records.some((r) => erased.has(r.record_id))) return false;
    this.original ??= createHash('sha256').update(text).digest();
    const records = body.records.map((r) => (erased.has(r.record_id) ? { record_id: r.record_id, erased: true } : r));
    this.sent = Buffer.from(JSON.stringify({ ...body, records }));
    this.gzip = false;
    if (lastRead?.batch === this) lastRead = null;
    return true;
  }
}

/** A request body as it was sent (`gzip`: compressed). */
interface SentBody {
  sent: Buffer;
  gzip: boolean;
}

/**
 * A request body as it was sent, and its JSON text (for a gzip body, a view of the receiver's inflate buffer: used
 * before anything is awaited).
 */
interface RequestBody extends SentBody {
  text: Buffer;
}

/** The batch last parsed for reading: records are mostly read in the order they were stored, batch after batch. */
let lastRead: { batch: HeldBatch; records: ReportingRecord[] } | null = null;

/** A record held by the receiver as {@link ReportingReceiver.records} shows it: read from its batch when asked for. */
class HeldRecord implements StoredRecord {
  constructor(
    private readonly batch: HeldBatch,
    private readonly index: number,
    readonly deliveries: number,
    readonly stale: number,
  ) {}

  get record(): ReportingRecord {
    if (lastRead?.batch !== this.batch) {
      lastRead = {
        batch: this.batch,
        records: (parseBody(this.batch.bytes) as { records: ReportingRecord[] }).records,
      };
    }
    return structuredClone(lastRead.records[this.index]!);
  }

  toJSON(): StoredRecord {
    return { record: this.record, deliveries: this.deliveries, stale: this.stale };
  }
}

/**
 * The records held, by record id, as a read-only map: each entry is made when read, from the record table (where
 * the highest revision is, in which accepted batch, and the counts at that moment).
 */
class HeldRecords implements ReadonlyMap<string, StoredRecord> {
  private readonly scratch = new Uint32Array(ID_WORDS);

  constructor(
    private readonly table: RecordTable,
    private readonly batches: readonly HeldBatch[],
    /** Held ids whose records were erased (an erasure notice): not shown until the record is sent again. */
    private readonly erased: ReadonlySet<string>,
  ) {}

  get size(): number {
    return this.table.size - this.erased.size;
  }

  private shown(r: number): boolean {
    return this.erased.size === 0 || !this.erased.has(this.table.idOf(r));
  }

  private numberOf(id: string): number {
    if (typeof id !== 'string' || !RECORD_ID.test(id) || this.erased.has(id)) return -1;
    idWordsOf(id, this.scratch, 0);
    return this.table.find(this.scratch, 0);
  }

  private entry(r: number): StoredRecord {
    const t = this.table;
    return new HeldRecord(this.batches[t.batch[r]!]!, t.index[r]!, t.deliveries[r]!, t.stale[r]!);
  }

  get(id: string): StoredRecord | undefined {
    const r = this.numberOf(id);
    return r < 0 ? undefined : this.entry(r);
  }

  has(id: string): boolean {
    return this.numberOf(id) >= 0;
  }

  *entries(): MapIterator<[string, StoredRecord]> {
    for (let r = 0; r < this.table.size; r++) if (this.shown(r)) yield [this.table.idOf(r), this.entry(r)];
  }

  *keys(): MapIterator<string> {
    for (let r = 0; r < this.table.size; r++) if (this.shown(r)) yield this.table.idOf(r);
  }

  *values(): MapIterator<StoredRecord> {
    for (let r = 0; r < this.table.size; r++) if (this.shown(r)) yield this.entry(r);
  }

  [Symbol.iterator](): MapIterator<[string, StoredRecord]> {
    return this.entries();
  }

  forEach(fn: (value: StoredRecord, key: string, map: ReadonlyMap<string, StoredRecord>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

export interface StoredRecord {
  record: ReportingRecord;
  /** Accepted requests (distinct idempotency keys) that carried this record, any revision. */
  deliveries: number;
  /** Copies refused as older than the revision held. */
  stale: number;
}

export interface ReceiverStats {
  requests: number;
  /** Requests whose key was new and whose records were stored. */
  acceptedBatches: number;
  /** Requests answered from the idempotency store (a retry of a batch already stored). */
  replays: number;
  recordsStored: number;
  /** Deliveries of a record beyond its first (a record accepted under two keys): 0 when each arrived once. */
  repeatedDeliveries: number;
  unauthorized: number;
  invalid: number;
  rejected: number;
  conflicts: number;
  faults: Record<FaultKind, number>;
}

export interface ReportingReceiver {
  url: string;
  port: number;
  /** Records held, by record id (the highest revision received). */
  records(): ReadonlyMap<string, StoredRecord>;
  /** Requests seen per idempotency key that reached the store (first acceptance plus replays). */
  keyCounts(): ReadonlyMap<string, number>;
  stats(): ReceiverStats;
  setFaults(faults: Partial<ReceiverFaults>): void;
  setRejectTenants(tenants: readonly string[]): void;
  close(): Promise<void>;
}

const IdempotencyKeySchema = z.string().regex(/^[A-Za-z0-9._:-]{16,128}$/);

/** A body the request could not be read into: the status and one line to answer. */
class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function keyMatches(given: string, keys: readonly Buffer[]): boolean {
  const g = Buffer.from(given);
  let ok = false;
  for (const k of keys) if (k.length === g.length && timingSafeEqual(k, g)) ok = true;
  return ok;
}

/**
 * The External Reporting platform's HTTP contract on one machine (docs/reporting-api.openapi.yaml), for
 * `sesflow start`, the tests and the benchmark: `POST /v1/delivery-records` with `x-api-key` and `Idempotency-Key`.
 * A key whose request succeeded is remembered with its body: the same key again is answered from memory
 * (`Idempotent-Replayed: true`) and stores nothing; the same key with another body is refused (422). Refused requests
 * are not remembered, so the same batch can be sent again once the cause is fixed. Records are kept by `record_id` at
 * the highest `revision` received. Local inspection: `GET /_local/stats`, `GET /_local/records/<record_id>`.
 */
export async function startReportingReceiver(opts: ReportingReceiverOptions): Promise<ReportingReceiver> {
  if (opts.apiKeys.length === 0) throw new TypeError('the receiver needs at least one API key');
  const keys = opts.apiKeys.map((k) => Buffer.from(k));
  const maxRecords = opts.maxRecords ?? MAX_RECORDS_PER_REQUEST;
  const maxBodyBytes = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  let faults: ReceiverFaults = { ...NO_FAULTS, ...opts.faults };
  let random = new SeededRandom(faults.seed);
  let rejectTenants = new Set(opts.rejectTenants ?? []);
  const table = new RecordTable();
  /** Accepted batches, by the batch number the record table keeps. */
  const batches: HeldBatch[] = [];
  /** Held record ids erased by a notice (until sent again). */
  const erased = new Set<string>();
  const records = new HeldRecords(table, batches, erased);
  /** Idempotency key -> the body that was accepted (the batch its records are held in), and the response it got. */
  const completed = new Map<string, { batch: HeldBatch; response: string }>();
  const keyCounts = new Map<string, number>();
  const inFlight = new Set<string>();
  const stats: ReceiverStats = {
    requests: 0,
    acceptedBatches: 0,
    replays: 0,
    recordsStored: 0,
    repeatedDeliveries: 0,
    unauthorized: 0,
    invalid: 0,
    rejected: 0,
    conflicts: 0,
    faults: { '500': 0, '429': 0, slow: 0, drop: 0 },
  };
  let file: WriteStream | null = null;
  if (opts.ndjsonFile) {
    mkdirSync(dirname(opts.ndjsonFile), { recursive: true });
    file = createWriteStream(opts.ndjsonFile, { flags: 'a' });
  }
  /** Lines accepted while the NDJSON file is being rewritten (an erasure notice), appended once it is. */
  let heldLines: string[] | null = null;
  const appendLines = (lines: string) => {
    if (heldLines) heldLines.push(lines);
    else file?.write(lines);
  };

  /**
   * Takes the records out of the NDJSON file (every copy of every revision): the file is closed, written again
   * without them under a temporary name and renamed into place; lines accepted meanwhile are appended after.
   */
  const eraseFromFile = async (ids: ReadonlySet<string>) => {
    if (!file || !opts.ndjsonFile) return;
    const path = opts.ndjsonFile;
    heldLines = [];
    const open = file;
    await new Promise<void>((resolve) => open.end(() => resolve()));
    try {
      const kept = readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => line !== '' && !ids.has(recordIdOfLine(line)));
      const tmp = `${path}.tmp-${process.pid}`;
      writeFileSync(tmp, kept.map((l) => `${l}\n`).join(''));
      renameSync(tmp, path);
    } finally {
      file = createWriteStream(path, { flags: 'a' });
      const pending = heldLines;
      heldLines = null;
      for (const lines of pending) file.write(lines);
    }
  };

  /**
   * `POST /v1/erasure-notices`: the records named are deleted (docs/reporting-api.openapi.yaml). They are no longer
   * shown, every accepted batch that carried any revision of them is rewritten without them, and so is the NDJSON
   * file. Idempotent: a record not held (or erased already) is counted as `not_held`.
   */
  const handleErasure = async (req: IncomingMessage, res: ServerResponse) => {
    const apiKey = req.headers['x-api-key'];
    if (typeof apiKey !== 'string' || !keyMatches(apiKey, keys)) {
      stats.unauthorized++;
      req.resume();
      return fail(res, 401, 'missing or invalid x-api-key');
    }
    let notice: { record_ids: string[] };
    try {
      const body = textOf(await readBody(req));
      const parsed = ErasureNoticeSchema.safeParse(parseBody(body.text));
      if (!parsed.success)
        return fail(
          res,
          400,
          `${parsed.error.issues[0]!.path.join('.') || 'body'}: ${parsed.error.issues[0]!.message}`,
        );
      notice = parsed.data;
    } catch (err) {
      if (err instanceof BodyError) return fail(res, err.status, err.message);
      return fail(res, 400, 'body is not JSON');
    }
    const requested = new Set(notice.record_ids);
    const newly = new Set<string>();
    const scratch = new Uint32Array(ID_WORDS);
    for (const id of requested) {
      idWordsOf(id, scratch, 0);
      if (table.find(scratch, 0) >= 0 && !erased.has(id)) newly.add(id);
    }
    for (const id of newly) erased.add(id);
    if (newly.size > 0) for (const b of batches) b.redact(newly);
    await eraseFromFile(requested);
    return send(res, 200, { erased: newly.size, not_held: requested.size - newly.size });
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };
  const fail = (res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) =>
    send(res, status, { error: message }, headers);

  const drawFault = (): FaultKind | null => {
    if (faults.rate <= 0 || faults.kinds.length === 0) return null;
    return random.next() < faults.rate ? random.pick(faults.kinds) : null;
  };

  /**
   * Reads the body as sent. Throws {@link BodyError}: 413 over the limit (the connection is then closed after the
   * answer), 415 for another encoding than gzip or identity.
   */
  const readBody = async (req: IncomingMessage): Promise<SentBody> => {
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip') {
      req.resume();
      throw new BodyError(415, `Content-Encoding ${encoding.slice(0, 40)} is not supported (gzip or identity)`);
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    const raw = await new Promise<Buffer | null>((resolve, reject) => {
      if (declared > maxBodyBytes) {
        req.resume();
        resolve(null);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBodyBytes) over = true;
        else chunks.push(c);
      });
      req.on('end', () => resolve(over ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
      req.on('error', reject);
    });
    if (raw === null) throw new BodyError(413, `body over ${maxBodyBytes} bytes`);
    // A copy of its own size: the body is kept, and a socket read's buffer is larger than what it holds.
    const sent = raw.byteLength < raw.buffer.byteLength ? Buffer.from(raw) : raw;
    return { sent, gzip: encoding === 'gzip' };
  };

  /**
   * The body's JSON text: a gzip body inflated on the event loop (a batch takes well under a millisecond, less than
   * a hop to the thread pool).
   * The limit applies to the compressed bytes and to the text alike. Throws {@link BodyError}: 413 over the limit
   * once inflated, 400 for a body that is not gzip.
   */
  const textOf = (body: SentBody): RequestBody => {
    if (!body.gzip) return { ...body, text: body.sent };
    try {
      return { ...body, text: gunzipLimited(body.sent, maxBodyBytes) };
    } catch (err) {
      if (err instanceof InflatedTooLarge)
        throw new BodyError(413, `body over ${maxBodyBytes} bytes once decompressed`);
      throw new BodyError(400, 'body is not valid gzip');
    }
  };

  /**
   * Stores a validated batch (its records' id words and revisions, in order; `parsed`: its records as parsed, for
   * the NDJSON file): each record kept at its highest revision. Returns how many were older than held.
   */
  const store = (
    key: string,
    held: HeldBatch,
    batch: { count: number; idWords: Uint32Array; revisions: readonly number[]; parsed: ReportingRecord[] | null },
  ): number => {
    const b = batches.push(held) - 1;
    let stale = 0;
    const { idWords, revisions } = batch;
    for (let i = 0; i < batch.count; i++) {
      const revision = revisions[i]!;
      let r = table.find(idWords, i * ID_WORDS);
      // A record sent again after its erasure is new data: held as sent, whatever revision it had before.
      if (r >= 0 && erased.size > 0 && erased.delete(table.idOf(r))) {
        table.batch[r] = b;
        table.index[r] = i;
        table.revision[r] = revision;
        table.deliveries[r] = 1;
        table.stale[r] = 0;
        continue;
      }
      if (r < 0) {
        r = table.add(idWords, i * ID_WORDS);
        table.batch[r] = b;
        table.index[r] = i;
        table.revision[r] = revision;
        table.deliveries[r] = 1;
        stats.recordsStored++;
      } else {
        table.deliveries[r]!++;
        stats.repeatedDeliveries++;
        if (revision >= table.revision[r]!) {
          table.batch[r] = b;
          table.index[r] = i;
          table.revision[r] = revision;
        } else {
          table.stale[r]!++;
          stale++;
        }
      }
    }
    if (file) {
      const receivedAt = new Date().toISOString();
      const parsed = batch.parsed ?? (parseBody(held.bytes) as { records: ReportingRecord[] }).records;
      let lines = '';
      for (const r of parsed)
        lines += `${JSON.stringify({ received_at: receivedAt, idempotency_key: key, record: r })}\n`;
      if (lines) appendLines(lines);
    }
    return stale;
  };

  const handlePost = async (req: IncomingMessage, res: ServerResponse) => {
    const apiKey = req.headers['x-api-key'];
    if (typeof apiKey !== 'string' || apiKey === '') {
      stats.unauthorized++;
      req.resume();
      return fail(res, 401, 'missing x-api-key header');
    }
    if (!keyMatches(apiKey, keys)) {
      stats.unauthorized++;
      req.resume();
      return fail(res, 401, 'invalid x-api-key');
    }
    const parsedKey = IdempotencyKeySchema.safeParse(req.headers['idempotency-key']);
    if (!parsedKey.success) {
      stats.invalid++;
      req.resume();
      return fail(res, 400, 'Idempotency-Key header missing or malformed (16-128 characters of A-Z a-z 0-9 . _ : -)');
    }
    const key = parsedKey.data;
    const fault = drawFault();
    if (fault) stats.faults[fault]++;
    if (fault === '500') {
      req.resume();
      return fail(res, 500, 'internal error (injected fault)');
    }
    if (fault === '429') {
      req.resume();
      return fail(res, 429, 'too many requests (injected fault)', { 'retry-after': String(faults.retryAfterSeconds) });
    }
    const dropAfter = fault === 'drop' && random.chance(0.5);
    if (fault === 'drop' && !dropAfter) {
      req.socket.destroy();
      return;
    }
    if (inFlight.has(key)) {
      stats.conflicts++;
      req.resume();
      return fail(res, 409, 'a request with this Idempotency-Key is in progress', { 'retry-after': '1' });
    }
    inFlight.add(key);
    let status: number;
    let answer: unknown;
    const headers: Record<string, string> = {};
    try {
      let body: RequestBody;
      try {
        // Nothing is awaited from here to the answer: the text of a gzip body lives in the shared inflate buffer.
        body = textOf(await readBody(req));
      } catch (err) {
        if (!(err instanceof BodyError)) throw err;
        stats.invalid++;
        if (err.status === 413) res.setHeader('connection', 'close');
        return fail(res, err.status, err.message);
      }
      const done = completed.get(key);
      if (done) {
        if (!done.batch.sameAs(body)) {
          stats.conflicts++;
          return fail(res, 422, 'Idempotency-Key was already used with a different body');
        }
        stats.replays++;
        keyCounts.set(key, (keyCounts.get(key) ?? 0) + 1);
        status = 200;
        answer = JSON.parse(done.response);
        headers['idempotent-replayed'] = 'true';
      } else {
        // Checked from the bytes (no object per record); a body the scan does not vouch for is parsed and checked
        // whole, which decides and gives the reason of a refusal.
        let batch: {
          count: number;
          idWords: Uint32Array;
          revisions: number[];
          tenants: string[] | null;
          parsed: ReportingRecord[] | null;
        };
        const scanned = scanRecordBatch(body.text, rejectTenants.size > 0);
        if (scanned) batch = { ...scanned, parsed: null };
        else {
          let value: unknown;
          try {
            value = parseBody(body.text);
          } catch {
            stats.invalid++;
            return fail(res, 400, 'body is not JSON');
          }
          const check = checkRecordBatchBody(value);
          if (!check.ok) {
            stats.invalid++;
            return fail(res, 400, refusalReason(value, check));
          }
          const parsed = check.records as ReportingRecord[];
          const idWords = new Uint32Array(parsed.length * ID_WORDS);
          for (let i = 0; i < parsed.length; i++) idWordsOf(parsed[i]!.record_id, idWords, i * ID_WORDS);
          batch = {
            count: parsed.length,
            idWords,
            revisions: parsed.map((r) => r.revision),
            tenants: parsed.map((r) => r.tenant_id),
            parsed,
          };
        }
        const count = batch.count;
        if (count > maxRecords) {
          stats.invalid++;
          return fail(res, 413, `${count} records, over ${maxRecords} per request`);
        }
        const refused = rejectTenants.size > 0 ? batch.tenants!.findIndex((t) => rejectTenants.has(t)) : -1;
        if (refused >= 0) {
          stats.rejected++;
          return fail(
            res,
            422,
            `records[${refused}]: tenant ${batch.tenants![refused]} is not enabled for External Reporting`,
          );
        }
        const held = new HeldBatch(body.sent, body.gzip);
        const stale = store(key, held, batch);
        stats.acceptedBatches++;
        keyCounts.set(key, (keyCounts.get(key) ?? 0) + 1);
        answer = { accepted: count, stale, idempotency_key: key };
        completed.set(key, { batch: held, response: JSON.stringify(answer) });
        status = 200;
      }
    } finally {
      inFlight.delete(key);
    }
    if (dropAfter) {
      req.socket.destroy();
      return;
    }
    if (fault === 'slow') await new Promise((r) => setTimeout(r, faults.slowMs));
    if (!res.destroyed) send(res, status, answer, headers);
  };

  const handleLocal = (req: IncomingMessage, res: ServerResponse, path: string) => {
    const apiKey = req.headers['x-api-key'];
    if (typeof apiKey !== 'string' || !keyMatches(apiKey, keys)) return fail(res, 401, 'missing or invalid x-api-key');
    if (path === '/_local/stats') {
      const cpu = process.cpuUsage();
      return send(res, 200, { ...stats, keys: completed.size, cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
    }
    const id = path.slice('/_local/records/'.length);
    const held = records.get(id);
    if (!held) return fail(res, 404, 'no such record');
    return send(res, 200, held);
  };

  const server = createServer((req, res) => {
    stats.requests++;
    const path = (req.url ?? '/').split('?')[0]!;
    const run = async () => {
      if (path === '/v1/health' && req.method === 'GET') return send(res, 200, { ok: true });
      if (path === ERASURE_NOTICES_PATH) {
        if (req.method !== 'POST') return fail(res, 405, 'use POST', { allow: 'POST' });
        return handleErasure(req, res);
      }
      if (path === RECORDS_PATH) {
        if (req.method !== 'POST') return fail(res, 405, 'use POST', { allow: 'POST' });
        return handlePost(req, res);
      }
      if (req.method === 'GET' && (path === '/_local/stats' || path.startsWith('/_local/records/'))) {
        return handleLocal(req, res, path);
      }
      req.resume();
      return fail(res, 404, 'not found');
    };
    run().catch(() => {
      if (!res.headersSent && !res.destroyed) fail(res, 500, 'internal error');
      else res.destroy();
    });
    // The contract test checks the receiver's answers against the External Reporting document.
    Object.defineProperty(server, Symbol.for('sesflow.openapi-document'), { value: 'reporting-api.openapi.yaml' });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    records: () => records,
    keyCounts: () => keyCounts,
    stats: () => structuredClone(stats),
    setFaults(next) {
      faults = { ...faults, ...next };
      if (next.seed !== undefined) random = new SeededRandom(next.seed);
    },
    setRejectTenants(tenants) {
      rejectTenants = new Set(tenants);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (file) await new Promise<void>((resolve) => file!.end(() => resolve()));
    },
  };
}
