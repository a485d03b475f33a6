import { RECORD_SCHEMA_VERSION, ReportingRecordSchema } from '../../enrich/push/record';
import { ID_MAX, ISO_TIME, RECORD_ID, STATUSES, TEXT_FIELDS, TEXT_MAX, TIME_FIELDS, within } from './record-check';
import { ID_WORDS, idWordsOf, readIdWords } from './record-table';

/**
 * What a scan found in a body it could vouch for: every record's id, revision and (when asked for) tenant, in order.
 */
export interface ScannedBatch {
  count: number;
  /** Record `i`'s id as four words at `[4i, 4i + 4)` (see record-table.ts); overwritten by the next scan. */
  idWords: Uint32Array;
  revisions: number[];
  /** Null unless the scan was asked for tenants. */
  tenants: string[] | null;
}

/** How a field's value is checked. */
enum Kind {
  Version,
  RecordId,
  Revision,
  /** `message_id`, `tenant_id`: a string of 1 to {@link ID_MAX} code points. */
  Id,
  /** A string of at most {@link TEXT_MAX} code points, or null. */
  Text,
  Status,
  Time,
  NullableTime,
  Bounce,
  Complaint,
}

const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');

interface Fields {
  /** `"name"` as bytes, by field number. */
  keys: Uint8Array[];
  kinds: Kind[];
  /** Every field's bit set. */
  all: number;
}

function fields(entries: readonly (readonly [string, Kind])[]): Fields {
  if (entries.length > 31) throw new Error('too many fields for a bit set');
  return {
    keys: entries.map(([name]) => enc(`"${name}"`)),
    kinds: entries.map(([, kind]) => kind),
    all: 2 ** entries.length - 1,
  };
}

const SPECIAL: Readonly<Record<string, Kind>> = {
  schema_version: Kind.Version,
  record_id: Kind.RecordId,
  revision: Kind.Revision,
  message_id: Kind.Id,
  tenant_id: Kind.Id,
  status: Kind.Status,
  status_at: Kind.Time,
  last_event_at: Kind.Time,
  bounce: Kind.Bounce,
  complaint: Kind.Complaint,
};

function kindOf(name: string): Kind {
  const special = SPECIAL[name];
  if (special !== undefined) return special;
  if ((TEXT_FIELDS as readonly string[]).includes(name)) return Kind.Text;
  if ((TIME_FIELDS as readonly string[]).includes(name)) return Kind.NullableTime;
  throw new Error(`the record schema has a field the scanner does not know: ${name}`);
}

/** The record's fields in the schema's order (the order sesflow writes them in), each with how it is checked. */
export const RECORD_FIELDS: Fields = fields(Object.keys(ReportingRecordSchema.shape).map((n) => [n, kindOf(n)]));
const BOUNCE_FIELDS = fields([
  ['type', Kind.Text],
  ['subtype', Kind.Text],
  ['smtp_status', Kind.Text],
  ['diagnostic_code', Kind.Text],
  ['at', Kind.Time],
]);
const COMPLAINT_FIELDS = fields([
  ['feedback_type', Kind.Text],
  ['subtype', Kind.Text],
  ['at', Kind.Time],
]);
/** The bounce and complaint keys above must be the schema's, or the scan would not be held to it. */
for (const [name, fs] of [
  ['bounce', BOUNCE_FIELDS],
  ['complaint', COMPLAINT_FIELDS],
] as const) {
  const keys = Object.keys(ReportingRecordSchema.shape[name].unwrap().shape).map((k) => `"${k}"`);
  const known = fs.keys.map((k) => Buffer.from(k).toString('latin1'));
  if (keys.length !== known.length || keys.some((k) => !known.includes(k))) {
    throw new Error(`the record schema's ${name} has fields the scanner does not know: ${keys.join(', ')}`);
  }
}
const TENANT_FIELD = RECORD_FIELDS.keys.findIndex((k) => Buffer.from(k).toString('latin1') === '"tenant_id"');
/** The envelope's keys: `schema_version` (field 0) and `records`. */
const ENVELOPE_FIELDS = fields([
  ['schema_version', Kind.Version],
  ['records', Kind.Version],
]);
const STATUS_BYTES = [...STATUSES].map((s) => enc(`"${s}"`));
const NULL = enc('null');

/** Bytes that end a plain run inside a string: the quote, the backslash, control characters and non-ASCII. */
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 256; c++) STRING_STOP[c] = c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80 ? 1 : 0;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Thrown at a token the scan will not vouch for: the body goes to the full parse and the schema, which decide. */
const UNSURE: unique symbol = Symbol('unsure');

/**
 * Whether `b[p, p + 24)` is an ISO time as the contract's pattern accepts it: `YYYY-MM-DDTHH:MM:SS.mmmZ`, a real
 * calendar date (a 29 February only in a leap year), hours 00-23, minutes and seconds 00-59 (a test holds it to the
 * pattern itself).
 */
export function isIsoTimeAt(b: Uint8Array, p: number): boolean {
  if (b[p + 4] !== 0x2d || b[p + 7] !== 0x2d || b[p + 10] !== 0x54 || b[p + 13] !== COLON || b[p + 16] !== COLON) {
    return false;
  }
  if (b[p + 19] !== 0x2e || b[p + 23] !== 0x5a) return false;
  // Each digit as 0-9; anything else as -100000, which takes the number it is in below zero.
  const year = digit(b[p]) * 1000 + digit(b[p + 1]) * 100 + digit(b[p + 2]) * 10 + digit(b[p + 3]);
  const month = digit(b[p + 5]) * 10 + digit(b[p + 6]);
  const day = digit(b[p + 8]) * 10 + digit(b[p + 9]);
  const hour = digit(b[p + 11]) * 10 + digit(b[p + 12]);
  const minute = digit(b[p + 14]) * 10 + digit(b[p + 15]);
  const second = digit(b[p + 17]) * 10 + digit(b[p + 18]);
  const ms = digit(b[p + 20]) * 100 + digit(b[p + 21]) * 10 + digit(b[p + 22]);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return false;
  if (minute < 0 || minute > 59 || second < 0 || second > 59 || ms < 0) return false;
  let days = 31;
  if (month === 2) days = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  else if (month === 4 || month === 6 || month === 9 || month === 11) days = 30;
  return day <= days;
}

function digit(c: number | undefined): number {
  return c !== undefined && c >= 0x30 && c <= 0x39 ? c - 0x30 : -100_000;
}

/**
 * Checks a request body against the contract straight from its bytes, without building an object per record, for
 * the bodies a client normally sends: any key order, any JSON whitespace, strings with or without escapes and
 * non-ASCII text. It vouches only for what it is sure of: a body it returns is one that `JSON.parse` of its UTF-8
 * text reads and {@link RecordBatchBodySchema} accepts, with the ids, revisions and tenants that parse would give.
 * Anything it does not vouch for (an invalid record, but also a duplicate key, a number written as `1.0` or `1e0`, a
 * key spelt with escapes) gives null, and the caller parses the body and runs the schema, which decide acceptance
 * and the reason of a refusal. Strings with escapes or non-ASCII bytes are decoded one by one (a token starts and
 * ends with an ASCII quote, so it decodes alone as it does within the whole text) and checked as the parsed values
 * are. The id words it hands back are overwritten by the next scan: use them first.
 */
export function scanRecordBatch(bytes: Buffer, wantTenants = false): ScannedBatch | null {
  try {
    return new Scan(bytes, wantTenants).body();
  } catch {
    // UNSURE, or anything else: the full parse and the schema decide.
    return null;
  }
}

/** The id words of the last scan, reused by the next (a fresh typed array per body is memory the OS must map). */
let sharedIdWords = new Uint32Array(ID_WORDS * 512);

class Scan {
  p = 0;
  /** The last string token read, decoded (only for tokens with escapes or non-ASCII bytes). */
  decoded = '';
  count = 0;
  idWords = sharedIdWords;
  readonly revisions: number[] = [];
  readonly tenants: string[] | null;

  constructor(
    private readonly b: Buffer,
    wantTenants: boolean,
  ) {
    this.tenants = wantTenants ? [] : null;
  }

  body(): ScannedBatch {
    this.ws();
    this.expect(0x7b);
    this.ws();
    let seen = 0;
    do {
      const f = this.member(ENVELOPE_FIELDS, 0, seen);
      seen |= 1 << f;
      if (f === 0) this.version();
      else this.records();
    } while (this.more(0x7d));
    if (seen !== ENVELOPE_FIELDS.all) throw UNSURE;
    this.ws();
    if (this.p !== this.b.length) throw UNSURE;
    return { count: this.count, idWords: this.idWords, revisions: this.revisions, tenants: this.tenants };
  }

  private records(): void {
    this.expect(0x5b);
    this.ws();
    do this.record();
    while (this.more(0x5d));
  }

  private record(): void {
    const { kinds } = RECORD_FIELDS;
    this.expect(0x7b);
    this.ws();
    let seen = 0;
    let next = 0;
    let revision = 0;
    let tenant = '';
    do {
      const f = this.member(RECORD_FIELDS, next, seen);
      seen |= 1 << f;
      next = f + 1;
      switch (kinds[f]!) {
        case Kind.Version:
          this.version();
          break;
        case Kind.RecordId:
          this.recordId();
          break;
        case Kind.Revision:
          revision = this.revision();
          break;
        case Kind.Id:
          if (f === TENANT_FIELD && this.tenants) tenant = this.idText(true);
          else this.idText(false);
          break;
        case Kind.Text:
          this.text();
          break;
        case Kind.Status:
          this.status();
          break;
        case Kind.Time:
          this.time();
          break;
        case Kind.NullableTime:
          if (!this.null()) this.time();
          break;
        case Kind.Bounce:
          if (!this.null()) this.object(BOUNCE_FIELDS);
          break;
        case Kind.Complaint:
          if (!this.null()) this.object(COMPLAINT_FIELDS);
          break;
      }
    } while (this.more(0x7d));
    if (seen !== RECORD_FIELDS.all) throw UNSURE;
    this.count++;
    this.revisions.push(revision);
    if (this.tenants) this.tenants.push(tenant);
  }

  /** A bounce or a complaint: a strict object of nullable texts and one time. */
  private object(fs: Fields): void {
    this.expect(0x7b);
    this.ws();
    let seen = 0;
    let next = 0;
    do {
      const f = this.member(fs, next, seen);
      seen |= 1 << f;
      next = f + 1;
      if (fs.kinds[f] === Kind.Time) this.time();
      else this.text();
    } while (this.more(0x7d));
    if (seen !== fs.all) throw UNSURE;
  }

  /**
   * An object member's key and colon, up to its value: the field's index in `fs` (`expected` is tried first). A key
   * already in `seen` (a duplicate, which JSON.parse resolves by the last) makes the scan unsure.
   */
  private member(fs: Fields, expected: number, seen: number): number {
    const f = this.key(fs, expected);
    if (seen & (1 << f)) throw UNSURE;
    this.ws();
    this.expect(COLON);
    this.ws();
    return f;
  }

  /** After a value: true at a comma (and the whitespace after it), false at the `close` bracket, which it consumes. */
  private more(close: number): boolean {
    this.ws();
    if (this.b[this.p] === COMMA) {
      this.p++;
      this.ws();
      return true;
    }
    this.expect(close);
    return false;
  }

  /** JSON whitespace: space, tab, line feed, carriage return. */
  private ws(): void {
    const b = this.b;
    let p = this.p;
    for (;;) {
      const c = b[p];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.p = p;
  }

  private expect(c: number): void {
    if (this.b[this.p] !== c) throw UNSURE;
    this.p++;
  }

  /** Whether `token` is at the current position (not consumed). */
  private at(token: Uint8Array): boolean {
    const b = this.b;
    const p = this.p;
    if (p + token.length > b.length) return false;
    for (let i = 0; i < token.length; i++) if (b[p + i] !== token[i]) return false;
    return true;
  }

  /** `null` (consumed, true) or something else (false). */
  private null(): boolean {
    if (this.b[this.p] !== 0x6e) return false;
    if (!this.at(NULL)) throw UNSURE;
    this.p += 4;
    return true;
  }

  /** A key of `fs`: the field number. `expected` is tried first (the next in writing order). */
  private key(fs: Fields, expected: number): number {
    const k = fs.keys[expected];
    if (k && this.at(k)) {
      this.p += k.length;
      return expected;
    }
    for (let f = 0; f < fs.keys.length; f++) {
      if (this.at(fs.keys[f]!)) {
        this.p += fs.keys[f]!.length;
        return f;
      }
    }
    // An unknown key, or a known one spelt with escapes: the full parse decides.
    throw UNSURE;
  }

  /**
   * A string token at the current position, consumed: its length in bytes between the quotes when it is plain ASCII
   * without escapes, else -1 with the decoded value in {@link decoded}. Throws for what is not a JSON string.
   */
  private string(): number {
    const b = this.b;
    const start = this.p;
    if (b[start] !== QUOTE) throw UNSURE;
    let p = start + 1;
    let plain = true;
    const n = b.length;
    for (;;) {
      while (p < n && STRING_STOP[b[p]!] === 0) p++;
      const c = b[p];
      if (c === undefined || c < 0x20) throw UNSURE;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        plain = false;
        const e = b[p + 1];
        if (e === 0x75) {
          for (let i = 2; i < 6; i++) {
            const h = b[p + i];
            const hex =
              h !== undefined && ((h >= 0x30 && h <= 0x39) || (h >= 0x61 && h <= 0x66) || (h >= 0x41 && h <= 0x46));
            if (!hex) throw UNSURE;
          }
          p += 6;
          continue;
        }
        if (
          e !== QUOTE &&
          e !== BACKSLASH &&
          e !== 0x2f &&
          e !== 0x62 &&
          e !== 0x66 &&
          e !== 0x6e &&
          e !== 0x72 &&
          e !== 0x74
        ) {
          throw UNSURE;
        }
        p += 2;
        continue;
      }
      if (c >= 0x80) plain = false;
      p++;
    }
    this.p = p + 1;
    if (plain) return p - start - 1;
    this.decoded = JSON.parse(b.toString('utf8', start, p + 1));
    return -1;
  }

  /** The literal 1 (the schema version), written plainly. */
  private version(): void {
    const b = this.b;
    if (b[this.p] !== 0x30 + RECORD_SCHEMA_VERSION) throw UNSURE;
    this.p++;
    const c = b[this.p];
    if (c !== undefined && ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45)) throw UNSURE;
  }

  /** A positive safe integer written plainly (no fraction, no exponent). */
  private revision(): number {
    const b = this.b;
    let p = this.p;
    let c = b[p]!;
    if (!(c >= 0x31 && c <= 0x39)) throw UNSURE;
    let n = 0;
    while (c >= 0x30 && c <= 0x39) {
      n = n * 10 + (c - 0x30);
      c = b[++p]!;
    }
    // Up to 2^53 every step above is exact; past it the sum stays past it, and is refused here.
    if (p - this.p > 16 || !Number.isSafeInteger(n) || c === 0x2e || c === 0x65 || c === 0x45) throw UNSURE;
    this.p = p;
    return n;
  }

  /** The record id, into {@link idWords} at this record's place. */
  private recordId(): void {
    const o = this.count * ID_WORDS;
    if (o + ID_WORDS > this.idWords.length) {
      const more = new Uint32Array(this.idWords.length * 2);
      more.set(this.idWords);
      this.idWords = more;
      sharedIdWords = more;
    }
    const start = this.p + 1;
    const n = this.string();
    if (n < 0) {
      if (!RECORD_ID.test(this.decoded)) throw UNSURE;
      idWordsOf(this.decoded, this.idWords, o);
      return;
    }
    if (n !== 32 || !readIdWords(this.b, start, this.idWords, o)) throw UNSURE;
  }

  private idText(keep: boolean): string {
    const start = this.p + 1;
    const n = this.string();
    if (n < 0) {
      if (this.decoded.length < 1 || !within(this.decoded, ID_MAX)) throw UNSURE;
      return this.decoded;
    }
    if (n < 1 || n > ID_MAX) throw UNSURE;
    return keep ? this.b.toString('latin1', start, start + n) : '';
  }

  private text(): void {
    if (this.null()) return;
    const n = this.string();
    if (n < 0 ? !within(this.decoded, TEXT_MAX) : n > TEXT_MAX) throw UNSURE;
  }

  private status(): void {
    for (let i = 0; i < STATUS_BYTES.length; i++) {
      const s = STATUS_BYTES[i]!;
      if (this.at(s)) {
        this.p += s.length;
        return;
      }
    }
    if (this.string() >= 0 || !STATUSES.has(this.decoded)) throw UNSURE;
  }

  private time(): void {
    const start = this.p + 1;
    const n = this.string();
    if (n < 0 ? !ISO_TIME.test(this.decoded) : n !== 24 || !isIsoTimeAt(this.b, start)) throw UNSURE;
  }
}
