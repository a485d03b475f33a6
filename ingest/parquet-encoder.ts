import { LAKE_COLUMN_TYPES, LAKE_COLUMNS, type LakeColumnType } from './lake-schema';
import type { NormalisedEvent } from './normalise';

/**
 * The lake's Parquet encoder: normalised rows go straight into column buffers as they arrive (no row is kept), and a
 * flush writes those buffers as one Parquet file. It writes only what the lake needs (Parquet format 2 metadata,
 * data page v1, every column OPTIONAL; PLAIN and RLE_DICTIONARY encodings, RLE definition levels; uncompressed,
 * the buffers being mostly dictionary indices; compaction rewrites partitions with zstd). Files are readable by DuckDB,
 * Athena/Trino and Spark, with the same column names and types as before (ingest/lake-schema.ts): strings as
 * BYTE_ARRAY UTF8, times as INT64 TIMESTAMP(MILLIS, not adjusted to UTC), BIGINT as INT64, booleans as BOOLEAN.
 * Chunk statistics (null count; min and max except for the high-cardinality plain strings) let readers skip row groups.
 */

/**
 * Buffers of batches already written, by capacity (a power of two), for the next batches to fill: fresh memory costs
 * a page fault per page on first touch, more than the copying itself. Bounded; small buffers come from Node's pool.
 */
const freeBuffers = new Map<number, Buffer[]>();
let freeTotal = 0;
const FREE_MAX_BYTES = 64 * 1024 * 1024;
const POOLED_MIN_BYTES = 8 * 1024;

function takeBuffer(capacity: number): Buffer {
  if (capacity >= POOLED_MIN_BYTES) {
    const b = freeBuffers.get(capacity)?.pop();
    if (b) {
      freeTotal -= capacity;
      return b;
    }
  }
  return Buffer.allocUnsafe(capacity);
}

function giveBuffer(b: Buffer): void {
  const cap = b.length;
  if (cap < POOLED_MIN_BYTES || freeTotal + cap > FREE_MAX_BYTES || (cap & (cap - 1)) !== 0) return;
  let list = freeBuffers.get(cap);
  if (!list) {
    list = [];
    freeBuffers.set(cap, list);
  }
  list.push(b);
  freeTotal += cap;
}

const pow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(n, 16)));

/** Buffer's own UTF-8 writer, without `write`'s argument handling (which costs more than a short copy). */
type Utf8Writer = { utf8Write(s: string, offset: number, length: number): number };

const EMPTY = Buffer.alloc(0);

/** A growable byte buffer. */
class Bytes {
  buf: Buffer;
  len = 0;
  constructor(capacity = 256) {
    this.buf = takeBuffer(pow2(capacity));
  }
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = takeBuffer(cap);
    this.buf.copy(next, 0, 0, this.len);
    giveBuffer(this.buf);
    this.buf = next;
  }
  /** Hands the storage back for reuse; the buffer must not be used afterwards. */
  release(): void {
    giveBuffer(this.buf);
    this.buf = EMPTY;
    this.len = 0;
  }
  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }
  /** Unsigned LEB128 varint, exact up to 2^53. */
  varint(n: number): void {
    this.reserve(10);
    while (n >= 0x80) {
      this.buf[this.len++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.len++] = n;
  }
  u32(n: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(n, this.len);
    this.len += 4;
  }
  /** Little-endian two's complement int64 of an integer-valued double. */
  i64(v: number): void {
    this.reserve(8);
    const hi = Math.floor(v / 4294967296);
    this.buf.writeUInt32LE(v - hi * 4294967296, this.len);
    this.buf.writeInt32LE(hi, this.len + 4);
    this.len += 8;
  }
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.reserve(n);
    if (n < 16) {
      // Short copies by hand: a view for `set` would cost more than the copy.
      const buf = this.buf;
      const at = this.len;
      for (let i = 0; i < n; i++) buf[at + i] = src[start + i]!;
    } else this.buf.set(new Uint8Array(src.buffer, src.byteOffset + start, n), this.len);
    this.len += n;
  }
  /** A PLAIN BYTE_ARRAY value: 4-byte length, then the UTF-8 bytes. */
  plainString(s: string): void {
    this.reserve(4 + s.length * 3);
    const at = this.len + 4;
    const written = (this.buf as unknown as Utf8Writer).utf8Write(s, at, this.buf.length - at);
    this.buf.writeUInt32LE(written, this.len);
    this.len = at + written;
  }
  view(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

/** Growable per-row byte flags (definition levels: 1 = value present). */
function grow<T extends Uint8Array | Int32Array | Float64Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  let cap = a.length * 2;
  while (cap < need) cap *= 2;
  const next = new (a.constructor as new (n: number) => T)(cap);
  next.set(a);
  return next;
}

/**
 * One column's values (the definition levels, which rows have a value, are the batch's: see `ColumnBatch.defs`).
 */
interface Column {
  /** Values added (rows with a value). */
  readonly count: number;
  /** Adds a value (never null or undefined). */
  add(value: unknown): void;
  /** Empties the column, keeping its buffers for the next rows. */
  reset(): void;
}

/**
 * String column: values kept as dictionary indices, written as a dictionary page. A column whose values turn out to be
 * mostly distinct (ids, addresses, per-message tags) switches to PLAIN bytes and lets go of its dictionary: the
 * strings a dictionary holds live until the flush, which is what makes the collector work.
 */
class StringColumn implements Column {
  /** Dictionary index of each non-null value (dictionary mode). */
  keys = new Int32Array(64);
  count = 0;
  index: Map<string, number> | undefined = new Map<string, number>();
  /** Dictionary entries as PLAIN values (length-prefixed), with each entry's offset. */
  dict = new Bytes();
  dictOffsets = new Int32Array(16);
  /** PLAIN values, once the column has switched. */
  plain: Bytes | undefined;

  add(value: unknown): void {
    this.addKey(value as string);
  }

  /** Adds a value; returns its dictionary index, or -1 once the column is PLAIN. */
  private addKey(s: string): number {
    if (this.plain) {
      this.plain.plainString(s);
      this.count++;
      return -1;
    }
    const index = this.index!;
    let k = index.get(s);
    if (k === undefined) {
      k = index.size;
      if (k >= DICTIONARY_PROBE && k * 2 > this.count) {
        this.switchToPlain();
        this.plain!.plainString(s);
        this.count++;
        return -1;
      }
      index.set(s, k);
      if (k + 1 >= this.dictOffsets.length) this.dictOffsets = grow(this.dictOffsets, k + 2);
      this.dictOffsets[k] = this.dict.len;
      this.dict.plainString(s);
      this.dictOffsets[k + 1] = this.dict.len;
    }
    if (this.count >= this.keys.length) this.keys = grow(this.keys, this.count + 1);
    this.keys[this.count++] = k;
    return k;
  }

  /** This column's index of each of a stage's dictionary values (-1: not looked up yet), for the drain `memoDrain`. */
  private memoKeys = new Int32Array(0);
  private memoDrain = -1;

  /**
   * Adds value `id` of a stage's dictionary (`strings`, of `distinct` values) during its drain number `drain`: each
   * distinct value is looked up in this column's dictionary once per drain, then read from `memoKeys`.
   */
  addStaged(id: number, strings: readonly string[], distinct: number, drain: number): void {
    if (this.plain) {
      this.addKey(strings[id]!);
      return;
    }
    if (this.memoDrain !== drain) {
      if (this.memoKeys.length < distinct) this.memoKeys = new Int32Array(pow2(distinct));
      this.memoKeys.fill(-1, 0, distinct);
      this.memoDrain = drain;
    }
    const k = this.memoKeys[id]!;
    if (k < 0) {
      const added = this.addKey(strings[id]!);
      if (added >= 0) this.memoKeys[id] = added;
      return;
    }
    if (this.count >= this.keys.length) this.keys = grow(this.keys, this.count + 1);
    this.keys[this.count++] = k;
  }

  /** The values so far as PLAIN bytes; the dictionary is dropped. */
  private switchToPlain(): void {
    const plain = new Bytes(this.dict.len * 2);
    const dict = this.dict.buf;
    for (let i = 0; i < this.count; i++) {
      const k = this.keys[i]!;
      plain.bytes(dict, this.dictOffsets[k]!, this.dictOffsets[k + 1]!);
    }
    this.plain = plain;
    this.index = undefined;
    this.dict.release();
    this.dictOffsets = new Int32Array(0);
    this.keys = new Int32Array(0);
  }

  get entries(): number {
    return this.index?.size ?? 0;
  }

  reset(): void {
    this.count = 0;
    if (this.plain) {
      this.plain.release();
      this.plain = undefined;
      this.dict = new Bytes();
      this.dictOffsets = new Int32Array(16);
      this.keys = new Int32Array(64);
      this.index = new Map<string, number>();
    } else {
      this.dict.len = 0;
      this.index!.clear();
    }
  }
}

/** Distinct values a dictionary may reach before a column whose values are mostly distinct goes PLAIN. */
const DICTIONARY_PROBE = 512;

/** String column of values that are (almost) all distinct: PLAIN bytes, nothing kept but the bytes. */
class PlainStringColumn implements Column {
  count = 0;
  readonly values = new Bytes(1024);
  reset(): void {
    this.count = this.values.len = 0;
  }
  add(value: unknown): void {
    this.values.plainString(value as string);
    this.count++;
  }
}

/** INT64 column (epoch milliseconds or a count); values truncated to integers as before. */
class Int64Column implements Column {
  values = new Float64Array(64);
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  reset(): void {
    this.count = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }
  add(value: unknown): void {
    const v = Math.trunc(value as number);
    if (this.count >= this.values.length) this.values = grow(this.values, this.count + 1);
    this.values[this.count++] = v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
}

class BoolColumn implements Column {
  values = new Uint8Array(64);
  count = 0;
  seenTrue = false;
  seenFalse = false;
  reset(): void {
    this.count = 0;
    this.seenTrue = this.seenFalse = false;
  }
  add(value: unknown): void {
    if (this.count >= this.values.length) this.values = grow(this.values, this.count + 1);
    this.values[this.count++] = value ? 1 : 0;
    if (value) this.seenTrue = true;
    else this.seenFalse = true;
  }
}

/**
 * Columns whose values are (nearly) distinct within an hour: ids, addresses, per-message tags, SMTP responses that carry
 * queue ids. A dictionary would hold every value as a string until the flush, for nothing: the collector's work
 * grows with what is held, and it was the largest cost of ingest.
 */
const PLAIN_COLUMNS: ReadonlySet<string> = new Set([
  'event_id',
  'message_id',
  'recipient',
  'diagnostic_code',
  'feedback_id',
  'ip',
  'tags',
]);

function makeColumn(name: string, type: LakeColumnType): Column {
  switch (type) {
    case 'string':
      return PLAIN_COLUMNS.has(name) ? new PlainStringColumn() : new StringColumn();
    case 'timestamp':
    case 'bigint':
      return new Int64Column();
    case 'boolean':
      return new BoolColumn();
  }
}

const COLUMN_COUNT = LAKE_COLUMNS.length;

/**
 * Copies every lake column of a row into its column, in lake order, and its definition levels into `defs` at `at`.
 * Generated from LAKE_COLUMNS so that each property read is a plain monomorphic load (a loop over column names would
 * be a keyed lookup per value). A NULL touches only the row's own definition bytes, not its column: input in random
 * time order spreads consecutive rows over hundreds of partitions, whose column objects are then cold in the cache.
 */
const appendRow = new Function(
  'columns',
  'row',
  'defs',
  'at',
  `let v;\n${LAKE_COLUMNS.map(
    (name, i) =>
      `v = row.${name}; if (v === null || v === undefined) defs[at + ${i}] = 0; else { defs[at + ${i}] = 1; columns[${i}].add(v); }`,
  ).join('\n')}`,
) as (columns: readonly Column[], row: NormalisedEvent, defs: Uint8Array, at: number) => void;

/** Scratch space for one column's definition levels at a time (see `ColumnBatch.columnDefs`). */
let defScratch = new Uint8Array(1024);

/** A batch of rows held as columns: one Parquet row group. */
export class ColumnBatch {
  readonly columns: Column[] = LAKE_COLUMNS.map((name) => makeColumn(name, LAKE_COLUMN_TYPES[name]));
  rows = 0;
  /** Definition levels, row by row: a row's byte of column `c` (1: it has a value) is at `row * COLUMN_COUNT + c`. */
  private defs = new Uint8Array(64 * COLUMN_COUNT);

  add(row: NormalisedEvent): void {
    const at = this.rows * COLUMN_COUNT;
    if (at + COLUMN_COUNT > this.defs.length) this.defs = grow(this.defs, at + COLUMN_COUNT);
    appendRow(this.columns, row, this.defs, at);
    this.rows++;
  }

  /** Column `c`'s definition levels, one byte a row, in a scratch array valid until the next call. */
  columnDefs(c: number): Uint8Array {
    if (defScratch.length < this.rows) defScratch = new Uint8Array(pow2(this.rows));
    const defs = this.defs;
    for (let r = 0, at = c; r < this.rows; r++, at += COLUMN_COUNT) defScratch[r] = defs[at]!;
    return defScratch;
  }

  /** Appends a staged row's definition levels (`src[at, at + COLUMN_COUNT)`); its values follow column by column. */
  appendDefs(src: Uint8Array, at: number): void {
    const to = this.rows * COLUMN_COUNT;
    if (to + COLUMN_COUNT > this.defs.length) this.defs = grow(this.defs, to + COLUMN_COUNT);
    const defs = this.defs;
    for (let c = 0; c < COLUMN_COUNT; c++) defs[to + c] = src[at + c]!;
    this.rows++;
  }

  addAll(rows: readonly NormalisedEvent[]): void {
    for (let i = 0; i < rows.length; i++) this.add(rows[i]!);
  }

  /** Empties the batch once encoded, keeping its buffers (for the next rows of the same partition). */
  reset(): void {
    for (const col of this.columns) col.reset();
    this.rows = 0;
  }

  /** Hands the column buffers back for the next batches, once encoded; the batch must not be used afterwards. */
  release(): void {
    for (const col of this.columns) {
      if (col instanceof StringColumn) {
        col.dict.release();
        col.plain?.release();
      } else if (col instanceof PlainStringColumn) col.values.release();
    }
  }
}

/** Rows a stage holds before it drains them into their batches. */
const STAGE_ROWS = 8192;

/** The lake columns held as numbers (timestamps and BIGINTs), in lake order. */
const NUMBER_COLUMNS: readonly number[] = LAKE_COLUMNS.flatMap((name, c) =>
  LAKE_COLUMN_TYPES[name] === 'timestamp' || LAKE_COLUMN_TYPES[name] === 'bigint' ? [c] : [],
);

/** Distinct values of a column in one drain up to which each batch column looks each up once (see `addStaged`). */
const MEMO_MAX = 1024;

/** Drains so far, of every stage: a batch column's `memoKeys` belong to one drain. */
let drains = 0;

/** How the stage holds each column's values (see `stageRow`), in lake order. */
const STAGE_KINDS: readonly ('plain' | 'dictionary' | 'boolean' | 'number')[] = LAKE_COLUMNS.map((name) => {
  const type = LAKE_COLUMN_TYPES[name];
  if (type === 'string') return PLAIN_COLUMNS.has(name) ? 'plain' : 'dictionary';
  return type === 'boolean' ? 'boolean' : 'number';
});

/**
 * Copies a row's values into the stage's arrays at row `r`, in lake order, with its definition levels: PLAIN strings
 * as length-prefixed bytes, dictionary strings as the stage's dictionary index, numbers and booleans as they are.
 * Generated from LAKE_COLUMNS, like `appendRow`.
 */
const stageRow = new Function(
  'stage',
  'row',
  'r',
  `const defs = stage.defs, ints = stage.ints, nums = stage.nums, at = r * ${COLUMN_COUNT};\nlet v;\n${LAKE_COLUMNS.map(
    (name, c) => {
      const type = LAKE_COLUMN_TYPES[name];
      const store =
        type === 'string'
          ? PLAIN_COLUMNS.has(name)
            ? `ints[${c * STAGE_ROWS} + r] = stage.plain(v);`
            : `ints[${c * STAGE_ROWS} + r] = stage.dictionary(${c}, v);`
          : type === 'boolean'
            ? `ints[${c * STAGE_ROWS} + r] = v ? 1 : 0;`
            : `nums[${NUMBER_COLUMNS.indexOf(c) * STAGE_ROWS} + r] = v;`;
      return `v = row.${name}; if (v === null || v === undefined) defs[at + ${c}] = 0; else { defs[at + ${c}] = 1; ${store} }`;
    },
  ).join('\n')}`,
) as (stage: RowStage, row: NormalisedEvent, r: number) => void;

/**
 * Rows on their way to the batches of many partitions. Input in random time order sends each row to another
 * partition, whose column buffers and dictionaries are then cold in the cache: appending row by row cost about four
 * times as much as in time order. The stage takes each row into a few arrays shared by all partitions (always warm),
 * keeping no reference to the row, and every `STAGE_ROWS` rows (or when told to) appends them to their batches
 * grouped by batch and column, in their order of arrival: the same batches as `ColumnBatch.add` row by row, built
 * with one partition's buffers in use at a time.
 */
export class RowStage {
  /** Rows staged. */
  rows = 0;
  /** Definition levels, row by row, as in a batch. */
  readonly defs = new Uint8Array(STAGE_ROWS * COLUMN_COUNT);
  /**
   * Column by column (`c * STAGE_ROWS + r`): a PLAIN string's offset in `bytes`, a dictionary string's index in
   * `strings[c]`, a boolean as 0 or 1.
   */
  readonly ints = new Int32Array(STAGE_ROWS * COLUMN_COUNT);
  /** Timestamps and BIGINTs, column by column in the order of NUMBER_COLUMNS. */
  readonly nums = new Float64Array(STAGE_ROWS * NUMBER_COLUMNS.length);
  /** The staged PLAIN strings, length-prefixed. */
  readonly bytes = new Bytes(256 * 1024);
  /** Per dictionary column, the distinct values staged and their indices. */
  readonly strings: string[][] = LAKE_COLUMNS.map(() => []);
  private readonly indices: Map<string, number>[] = LAKE_COLUMNS.map(() => new Map());
  private readonly targets: (ColumnBatch | undefined)[] = new Array(STAGE_ROWS).fill(undefined);

  /** Stages a row for `batch`; drains when full. */
  add(row: NormalisedEvent, batch: ColumnBatch): void {
    const r = this.rows;
    stageRow(this, row, r);
    this.targets[r] = batch;
    if (++this.rows === STAGE_ROWS) this.drain();
  }

  /** Stages a PLAIN string; returns its offset. */
  plain(s: string): number {
    const at = this.bytes.len;
    this.bytes.plainString(s);
    return at;
  }

  /** Stages a dictionary string; returns its index in `strings[c]`. */
  dictionary(c: number, s: string): number {
    const index = this.indices[c]!;
    let id = index.get(s);
    if (id === undefined) {
      id = index.size;
      index.set(s, id);
      this.strings[c]!.push(s);
    }
    return id;
  }

  /**
   * Appends every staged row to its batch, then empties the stage: the definition levels row by row, then the values
   * one column at a time in the order the rows came. A column's pass touches only that column of each batch (a few
   * hundred objects and buffer ends, which stay in the cache) and reads the stage in order.
   */
  drain(): void {
    const n = this.rows;
    if (n === 0) return;
    const { targets, defs, ints, nums } = this;
    const drain = ++drains;
    for (let r = 0; r < n; r++) targets[r]!.appendDefs(defs, r * COLUMN_COUNT);
    const src = this.bytes.buf;
    for (let c = 0; c < COLUMN_COUNT; c++) {
      const base = c * STAGE_ROWS;
      const kind = STAGE_KINDS[c];
      if (kind === 'plain') {
        for (let r = 0, d = c; r < n; r++, d += COLUMN_COUNT) {
          if (defs[d] === 0) continue;
          const col = targets[r]!.columns[c] as PlainStringColumn;
          const at = ints[base + r]!;
          const len = (src[at]! | (src[at + 1]! << 8) | (src[at + 2]! << 16) | (src[at + 3]! << 24)) >>> 0;
          col.values.bytes(src, at, at + 4 + len);
          col.count++;
        }
      } else if (kind === 'dictionary') {
        const strings = this.strings[c]!;
        const distinct = strings.length;
        if (distinct <= MEMO_MAX) {
          for (let r = 0, d = c; r < n; r++, d += COLUMN_COUNT) {
            if (defs[d] !== 0)
              (targets[r]!.columns[c] as StringColumn).addStaged(ints[base + r]!, strings, distinct, drain);
          }
        } else {
          for (let r = 0, d = c; r < n; r++, d += COLUMN_COUNT) {
            if (defs[d] !== 0) (targets[r]!.columns[c] as StringColumn).add(strings[ints[base + r]!]);
          }
        }
      } else if (kind === 'boolean') {
        for (let r = 0, d = c; r < n; r++, d += COLUMN_COUNT) {
          if (defs[d] !== 0) (targets[r]!.columns[c] as BoolColumn).add(ints[base + r] === 1);
        }
      } else {
        const at = NUMBER_COLUMNS.indexOf(c) * STAGE_ROWS;
        for (let r = 0, d = c; r < n; r++, d += COLUMN_COUNT) {
          if (defs[d] !== 0) (targets[r]!.columns[c] as Int64Column).add(nums[at + r]);
        }
      }
    }
    targets.fill(undefined, 0, n);
    this.rows = 0;
    this.bytes.len = 0;
    for (let c = 0; c < COLUMN_COUNT; c++) {
      if (this.strings[c]!.length === 0) continue;
      this.strings[c]!.length = 0;
      this.indices[c]!.clear();
    }
  }
}

// ---- Thrift compact protocol (the encoding of Parquet's metadata) ----

const T_TRUE = 1;
const T_FALSE = 2;
const T_I16 = 4;
const T_I32 = 5;
const T_I64 = 6;
const T_BINARY = 8;
const T_LIST = 9;
const T_STRUCT = 12;

class Thrift {
  readonly out = new Bytes(1024);
  private last: number[] = [0];

  private header(type: number, id: number): void {
    const delta = id - this.last[this.last.length - 1]!;
    if (delta > 0 && delta <= 15) this.out.byte((delta << 4) | type);
    else {
      this.out.byte(type);
      this.out.varint(id >= 0 ? id * 2 : -id * 2 - 1);
    }
    this.last[this.last.length - 1] = id;
  }
  private zigzag(n: number): void {
    this.out.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }
  i16(id: number, v: number): this {
    this.header(T_I16, id);
    this.zigzag(v);
    return this;
  }
  i32(id: number, v: number): this {
    this.header(T_I32, id);
    this.zigzag(v);
    return this;
  }
  i64(id: number, v: number): this {
    this.header(T_I64, id);
    this.zigzag(v);
    return this;
  }
  bool(id: number, v: boolean): this {
    this.header(v ? T_TRUE : T_FALSE, id);
    return this;
  }
  binary(id: number, v: Uint8Array | string): this {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    this.header(T_BINARY, id);
    this.out.varint(b.length);
    this.out.bytes(b);
    return this;
  }
  /** A struct field; `body` writes its fields. */
  struct(id: number, body: (t: this) => void): this {
    this.header(T_STRUCT, id);
    this.inStruct(body);
    return this;
  }
  private inStruct(body: (t: this) => void): void {
    this.last.push(0);
    body(this);
    this.out.byte(0);
    this.last.pop();
  }
  private listHeader(id: number, elemType: number, size: number): void {
    this.header(T_LIST, id);
    if (size < 15) this.out.byte((size << 4) | elemType);
    else {
      this.out.byte(0xf0 | elemType);
      this.out.varint(size);
    }
  }
  structList<T>(id: number, items: readonly T[], body: (t: this, item: T) => void): this {
    this.listHeader(id, T_STRUCT, items.length);
    for (const item of items) this.inStruct((t) => body(t, item));
    return this;
  }
  i32List(id: number, items: readonly number[]): this {
    this.listHeader(id, T_I32, items.length);
    for (const v of items) this.zigzag(v);
    return this;
  }
  binaryList(id: number, items: readonly string[]): this {
    this.listHeader(id, T_BINARY, items.length);
    for (const s of items) {
      const b = Buffer.from(s, 'utf8');
      this.out.varint(b.length);
      this.out.bytes(b);
    }
    return this;
  }
  /** The whole buffer as one top-level struct (a page header or the file metadata). */
  static encode(body: (t: Thrift) => void): Buffer {
    const t = new Thrift();
    body(t);
    t.out.byte(0);
    return t.out.view();
  }
}

// Parquet enums (parquet.thrift).
const TYPE = { BOOLEAN: 0, INT64: 2, BYTE_ARRAY: 6 } as const;
const ENCODING = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;
const PAGE = { DATA: 0, DICTIONARY: 2 } as const;
const OPTIONAL = 1;
const CONVERTED_UTF8 = 0;
const CONVERTED_TIMESTAMP_MILLIS = 9;
const UNCOMPRESSED = 0;

// ---- RLE / bit-packed hybrid ----

/** Bit-packs `n` values of `width` bits (LSB first) as one bit-packed run, padded to a multiple of 8 values. */
function bitPackedRun(out: Bytes, values: ArrayLike<number>, n: number, width: number): void {
  const groups = Math.ceil(n / 8);
  out.varint(groups * 2 + 1);
  out.reserve(groups * width);
  const buf = out.buf;
  let at = out.len;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < groups * 8; i++) {
    acc |= (i < n ? values[i]! : 0) << bits;
    bits += width;
    while (bits >= 8) {
      buf[at++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  out.len = at;
}

/** RLE/bit-packed hybrid of `n` values of `width` bits: one RLE run when they are all equal, else one bit-packed run. */
function hybrid(out: Bytes, values: ArrayLike<number>, n: number, width: number): void {
  if (n === 0) return;
  const first = values[0]!;
  let same = true;
  for (let i = 1; i < n && same; i++) same = values[i] === first;
  if (same) {
    out.varint(n * 2);
    for (let b = 0; b < Math.ceil(width / 8); b++) out.byte((first >>> (8 * b)) & 0xff);
  } else bitPackedRun(out, values, n, width);
}

/** Definition levels of a data page v1: 4-byte length, then the hybrid encoding at bit width 1. */
function definitionLevels(out: Bytes, def: Uint8Array, rows: number): void {
  const lenAt = out.len;
  out.u32(0);
  hybrid(out, def, rows, 1);
  out.buf.writeUInt32LE(out.len - lenAt - 4, lenAt);
}

function bitWidth(maxValue: number): number {
  let w = 1;
  while (maxValue >= 2 ** w) w++;
  return w;
}

interface ChunkMeta {
  name: string;
  type: number;
  encodings: number[];
  numValues: number;
  size: number;
  dataPageOffset: number;
  dictionaryPageOffset?: number;
  nulls: number;
  min?: Uint8Array;
  max?: Uint8Array;
}

function pageHeader(type: number, size: number, body: (t: Thrift) => void): Buffer {
  return Thrift.encode((t) => {
    t.i32(1, type).i32(2, size).i32(3, size);
    body(t);
  });
}

function dataPageHeader(size: number, rows: number, encoding: number): Buffer {
  return pageHeader(PAGE.DATA, size, (t) =>
    t.struct(5, (d) => d.i32(1, rows).i32(2, encoding).i32(3, ENCODING.RLE).i32(4, ENCODING.RLE)),
  );
}

const int64Bytes = (v: number): Uint8Array => {
  const b = new Bytes(8);
  b.i64(v);
  return b.view();
};

/** Scratch space for one page body at a time (its size goes into the page header, written before it). */
let scratch = new Bytes(64 * 1024);

/** Writes one page (header, then the body in `scratch`) to the file. */
function writePage(out: Bytes, header: Buffer, tail?: Bytes): void {
  out.bytes(header);
  out.bytes(scratch.buf, 0, scratch.len);
  if (tail) out.bytes(tail.buf, 0, tail.len);
}

/** Writes one column chunk to the end of `out` and returns its metadata. */
function writeChunk(name: string, batch: ColumnBatch, c: number, out: Bytes): ChunkMeta {
  const col = batch.columns[c]!;
  const start = out.len;
  scratch.len = 0;
  const page = scratch;
  definitionLevels(page, batch.columnDefs(c), batch.rows);
  const meta: ChunkMeta = {
    name,
    type: TYPE.BYTE_ARRAY,
    encodings: [ENCODING.PLAIN, ENCODING.RLE],
    numValues: batch.rows,
    size: 0,
    dataPageOffset: 0,
    nulls: batch.rows - col.count,
  };
  let encoding: number = ENCODING.PLAIN;
  /** PLAIN string values, copied to the file straight after the definition levels. */
  let tail: Bytes | undefined;
  if (col instanceof StringColumn && col.plain) {
    tail = col.plain;
  } else if (col instanceof StringColumn && col.entries > 0) {
    const entries = col.entries;
    const dict = col.dict.buf;
    const offsets = col.dictOffsets;
    // Chunk statistics over the dictionary (a superset of the values of the group: valid bounds), compared as bytes;
    // `a` before `b` when < 0.
    const cmp = (a: number, b: number) =>
      dict.compare(dict, offsets[b]! + 4, offsets[b + 1]!, offsets[a]! + 4, offsets[a + 1]!);
    let min = 0;
    let max = 0;
    for (let k = 1; k < entries; k++) {
      if (cmp(k, min) < 0) min = k;
      if (cmp(k, max) > 0) max = k;
    }
    meta.min = Buffer.from(dict.subarray(offsets[min]! + 4, offsets[min + 1]!));
    meta.max = Buffer.from(dict.subarray(offsets[max]! + 4, offsets[max + 1]!));
    meta.encodings = [ENCODING.PLAIN, ENCODING.RLE, ENCODING.RLE_DICTIONARY];
    meta.dictionaryPageOffset = out.len;
    out.bytes(
      pageHeader(PAGE.DICTIONARY, col.dict.len, (t) => t.struct(7, (d) => d.i32(1, entries).i32(2, ENCODING.PLAIN))),
    );
    out.bytes(dict, 0, col.dict.len);
    const width = bitWidth(entries - 1);
    page.byte(width);
    hybrid(page, col.keys, col.count, width);
    encoding = ENCODING.RLE_DICTIONARY;
  } else if (col instanceof PlainStringColumn) {
    tail = col.values;
  } else if (col instanceof Int64Column) {
    meta.type = TYPE.INT64;
    page.reserve(col.count * 8);
    for (let i = 0; i < col.count; i++) page.i64(col.values[i]!);
    if (col.count > 0) {
      meta.min = int64Bytes(col.min);
      meta.max = int64Bytes(col.max);
    }
  } else if (col instanceof BoolColumn) {
    meta.type = TYPE.BOOLEAN;
    // PLAIN booleans: bit-packed, LSB first, without a run header.
    page.reserve(Math.ceil(col.count / 8));
    for (let i = 0; i < col.count; i += 8) {
      let b = 0;
      for (let j = 0; j < 8 && i + j < col.count; j++) b |= col.values[i + j]! << j;
      page.byte(b);
    }
    if (col.count > 0) {
      meta.min = Uint8Array.of(col.seenFalse ? 0 : 1);
      meta.max = Uint8Array.of(col.seenTrue ? 1 : 0);
    }
  }
  meta.dataPageOffset = out.len;
  writePage(out, dataPageHeader(page.len + (tail?.len ?? 0), batch.rows, encoding), tail);
  // A one-off large page does not keep its scratch space.
  if (scratch.buf.length > 16 * 1024 * 1024) scratch = new Bytes(64 * 1024);
  meta.size = out.len - start;
  return meta;
}

/** About the bytes a batch encodes to, so the file buffer is allocated once. */
function estimateBytes(batch: ColumnBatch): number {
  let n = 1024;
  for (const col of batch.columns) {
    n += 64 + batch.rows / 8;
    if (col instanceof StringColumn) n += col.plain ? col.plain.len : col.dict.len + col.count * 2;
    else if (col instanceof PlainStringColumn) n += col.values.len;
    else if (col instanceof Int64Column) n += col.count * 8;
    else n += batch.rows / 8;
  }
  return Math.ceil(n);
}

function schemaElement(t: Thrift, name: string): void {
  const type = LAKE_COLUMN_TYPES[name as keyof NormalisedEvent];
  switch (type) {
    case 'string':
      t.i32(1, TYPE.BYTE_ARRAY)
        .i32(3, OPTIONAL)
        .binary(4, name)
        .i32(6, CONVERTED_UTF8)
        .struct(10, (l) => l.struct(1, () => {}));
      break;
    case 'timestamp':
      t.i32(1, TYPE.INT64)
        .i32(3, OPTIONAL)
        .binary(4, name)
        .i32(6, CONVERTED_TIMESTAMP_MILLIS)
        .struct(10, (l) => l.struct(8, (ts) => ts.bool(1, false).struct(2, (u) => u.struct(1, () => {}))));
      break;
    case 'bigint':
      t.i32(1, TYPE.INT64).i32(3, OPTIONAL).binary(4, name);
      break;
    case 'boolean':
      t.i32(1, TYPE.BOOLEAN).i32(3, OPTIONAL).binary(4, name);
      break;
  }
}

const MAGIC = Buffer.from('PAR1');

/** Encodes batches as one Parquet file, one row group per non-empty batch. */
export function encodeBatches(batches: readonly ColumnBatch[]): Uint8Array {
  const out = encodeInto(batches, Buffer.allocUnsafe(batches.reduce((n, b) => n + estimateBytes(b), 4096)));
  return out.view();
}

/**
 * `encodeBatches` into a reused buffer: `release()` hands it back once the file is written (for a writer whose store
 * keeps no reference to the bytes after `put`).
 */
export function encodeBatchesPooled(batches: readonly ColumnBatch[]): { data: Buffer; release: () => void } {
  const out = encodeInto(batches, takeBuffer(pow2(batches.reduce((n, b) => n + estimateBytes(b), 4096))));
  return { data: out.view(), release: () => out.release() };
}

/** A row group's place in its file and the metadata of its column chunks (offsets relative to the file's start). */
interface GroupMeta {
  rows: number;
  start: number;
  size: number;
  chunks: ChunkMeta[];
}

/**
 * A row group encoded on its own (offsets relative to its first byte), to be kept aside (spilled to disk) and written
 * later as part of a file by `encodeWithRowGroups`.
 */
export interface EncodedRowGroup {
  readonly rows: number;
  readonly bytes: number;
  /** The chunk metadata, offsets relative to the group's first byte. */
  readonly meta: unknown;
}

/**
 * A spilled row group's chunk metadata, packed: `CHUNK_FIELDS` integers per column chunk in one typed array and every
 * min/max statistic in one byte array. A partition spilled every few hundred rows (input in random time order) keeps
 * thousands of groups until its file is written; as objects (a ChunkMeta, its encodings and two statistic views per
 * chunk, 34 chunks a group) they were tens of megabytes of live heap, which every major collection marks.
 */
interface PackedGroup {
  rows: number;
  size: number;
  /** Per chunk: type, encodings (1: with RLE_DICTIONARY), values, size, data page offset, dictionary page offset or -1,
   * nulls, min start, min length, max start, max length (length -1: none). Offsets relative to the group's start. */
  fields: Int32Array;
  stats: Uint8Array;
}

const CHUNK_FIELDS = 11;
const PLAIN_ENCODINGS: readonly number[] = [ENCODING.PLAIN, ENCODING.RLE];
const DICTIONARY_ENCODINGS: readonly number[] = [ENCODING.PLAIN, ENCODING.RLE, ENCODING.RLE_DICTIONARY];

function packGroup(group: GroupMeta): PackedGroup {
  let n = 0;
  for (const c of group.chunks) n += (c.min?.length ?? 0) + (c.max?.length ?? 0);
  const stats = new Uint8Array(n);
  const fields = new Int32Array(group.chunks.length * CHUNK_FIELDS);
  let at = 0;
  group.chunks.forEach((c, i) => {
    const f = i * CHUNK_FIELDS;
    fields[f] = c.type;
    fields[f + 1] = c.encodings.length > 2 ? 1 : 0;
    fields[f + 2] = c.numValues;
    fields[f + 3] = c.size;
    fields[f + 4] = c.dataPageOffset - group.start;
    fields[f + 5] = c.dictionaryPageOffset === undefined ? -1 : c.dictionaryPageOffset - group.start;
    fields[f + 6] = c.nulls;
    for (const [k, b] of [
      [7, c.min],
      [9, c.max],
    ] as const) {
      fields[f + k] = at;
      fields[f + k + 1] = b ? b.length : -1;
      if (b) {
        stats.set(b, at);
        at += b.length;
      }
    }
  });
  return { rows: group.rows, size: group.size, fields, stats };
}

/** The chunk metadata of a packed group placed at `base` in its file. */
function unpackGroup(p: PackedGroup, base: number): GroupMeta {
  const chunks: ChunkMeta[] = [];
  for (let i = 0; i < LAKE_COLUMNS.length; i++) {
    const f = i * CHUNK_FIELDS;
    const x = p.fields;
    const stat = (k: number) =>
      x[f + k + 1]! < 0 ? undefined : p.stats.subarray(x[f + k]!, x[f + k]! + x[f + k + 1]!);
    const meta: ChunkMeta = {
      name: LAKE_COLUMNS[i]!,
      type: x[f]!,
      encodings: x[f + 1] === 1 ? (DICTIONARY_ENCODINGS as number[]) : (PLAIN_ENCODINGS as number[]),
      numValues: x[f + 2]!,
      size: x[f + 3]!,
      dataPageOffset: x[f + 4]! + base,
      nulls: x[f + 6]!,
      min: stat(7),
      max: stat(9),
    };
    if (x[f + 5]! >= 0) meta.dictionaryPageOffset = x[f + 5]! + base;
    chunks.push(meta);
  }
  return { rows: p.rows, start: base, size: p.size, chunks };
}

/** Encodes a batch as one row group; `write` gets its bytes (valid only during the call: copy or write them out). */
export function encodeRowGroup(batch: ColumnBatch, write: (bytes: Buffer) => void): EncodedRowGroup {
  const out = new Bytes(estimateBytes(batch));
  const group = writeGroup(batch, out);
  write(out.view());
  out.release();
  return { rows: group.rows, bytes: group.size, meta: packGroup(group) };
}

/**
 * One Parquet file made of row groups encoded earlier (`encodeRowGroup`; `read` puts each one's bytes `into` the file)
 * followed by the given batches: the file's bytes, in a pooled buffer `release()` hands back.
 */
export function encodeWithRowGroups(
  groups: readonly EncodedRowGroup[],
  read: (group: EncodedRowGroup, index: number, into: Buffer) => void,
  batches: readonly ColumnBatch[],
): { data: Buffer; release: () => void } {
  const size = groups.reduce((n, g) => n + g.bytes, 0) + batches.reduce((n, b) => n + estimateBytes(b), 4096);
  const out = new Bytes(0);
  out.buf = takeBuffer(pow2(size));
  out.bytes(MAGIC);
  const metas: GroupMeta[] = [];
  groups.forEach((g, i) => {
    const base = out.len;
    out.reserve(g.bytes);
    read(g, i, out.buf.subarray(base, base + g.bytes));
    out.len += g.bytes;
    metas.push(unpackGroup(g.meta as PackedGroup, base));
  });
  finishFile(batches, out, metas);
  return { data: out.view(), release: () => out.release() };
}

function writeGroup(batch: ColumnBatch, out: Bytes): GroupMeta {
  const start = out.len;
  const chunks: ChunkMeta[] = [];
  for (let c = 0; c < LAKE_COLUMNS.length; c++) chunks.push(writeChunk(LAKE_COLUMNS[c]!, batch, c, out));
  return { rows: batch.rows, start, size: out.len - start, chunks };
}

function encodeInto(batches: readonly ColumnBatch[], buffer: Buffer): Bytes {
  const out = new Bytes(0);
  out.buf = buffer;
  out.bytes(MAGIC);
  finishFile(batches, out, []);
  return out;
}

/** Writes the batches as row groups after `groups` (already in `out`), then the footer. */
function finishFile(batches: readonly ColumnBatch[], out: Bytes, groups: GroupMeta[]): void {
  for (const batch of batches) {
    if (batch.rows === 0) continue;
    groups.push(writeGroup(batch, out));
  }
  const rows = groups.reduce((n, g) => n + g.rows, 0);
  const footer = Thrift.encode((t) => {
    t.i32(1, 1)
      .structList(2, ['', ...LAKE_COLUMNS], (s, name) => {
        if (name === '') s.binary(4, 'schema').i32(5, LAKE_COLUMNS.length);
        else schemaElement(s, name);
      })
      .i64(3, rows)
      .structList(4, groups, (g, group) => {
        g.structList(1, group.chunks, (cc, m) => {
          cc.i64(2, m.dictionaryPageOffset ?? m.dataPageOffset).struct(3, (md) => {
            md.i32(1, m.type)
              .i32List(2, m.encodings)
              .binaryList(3, [m.name])
              .i32(4, UNCOMPRESSED)
              .i64(5, m.numValues)
              .i64(6, m.size)
              .i64(7, m.size)
              .i64(9, m.dataPageOffset);
            if (m.dictionaryPageOffset !== undefined) md.i64(11, m.dictionaryPageOffset);
            md.struct(12, (st) => {
              st.i64(3, m.nulls);
              if (m.min && m.max) st.binary(5, m.max).binary(6, m.min);
            });
          });
        })
          .i64(2, group.size)
          .i64(3, group.rows)
          .i64(5, group.start)
          .i64(6, group.size)
          .i16(7, groups.indexOf(group));
      })
      .binary(6, 'sesflow parquet-encoder')
      .structList(7, LAKE_COLUMNS, (o) => o.struct(1, () => {}));
  });
  out.bytes(footer);
  out.u32(footer.length);
  out.bytes(MAGIC);
}
