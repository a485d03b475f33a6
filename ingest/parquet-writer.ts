import {
  Bool,
  Dictionary,
  Int32,
  Int64,
  makeData,
  makeVector,
  Table,
  TimestampMillisecond,
  tableToIPC,
  Utf8,
  type Vector,
} from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm/node';
import { LAKE_COLUMN_TYPES, LAKE_COLUMNS } from './lake-schema';
import type { NormalisedEvent } from './normalise';

/**
 * Columns with few distinct values are dictionary-encoded in Arrow (smaller, faster to build); Parquet dictionary
 * encoding applies to every string column anyway.
 */
const DICTIONARY_COLUMNS: ReadonlySet<string> = new Set([
  'event_type',
  'tenant_id',
  'tenant_source',
  'record_form',
  'configuration_set',
  'campaign_id',
  'message_kind',
  'sending_account_id',
  'from_domain',
  'recipient_domain',
  'bounce_type',
  'bounce_subtype',
  'smtp_status',
  'complaint_feedback_type',
  'complaint_subtype',
  'delay_type',
]);

function nullBitmap(valid: (i: number) => boolean, n: number): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (valid(i)) bitmap[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  return { bitmap, nulls };
}

function int64Vector(values: (number | null)[], type: Int64 | TimestampMillisecond): Vector {
  const n = values.length;
  const data = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) data[i] = BigInt(Math.trunc(v));
  }
  const { bitmap, nulls } = nullBitmap((i) => values[i] !== null && values[i] !== undefined, n);
  const props = { length: n, data, nullBitmap: nulls ? bitmap : undefined, nullCount: nulls };
  return type instanceof Int64 ? makeVector(makeData({ type, ...props })) : makeVector(makeData({ type, ...props }));
}

/**
 * A UTF-8 column built straight from its bytes and offsets: Arrow's value-by-value builders cost more than the whole
 * SES transform. The values are joined and encoded in one call; when the column is ASCII (almost always: ids, domains,
 * tags JSON) the character offsets are the byte offsets, otherwise each value is encoded on its own.
 */
function utf8Data(values: readonly (string | null)[]) {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  // Array.prototype.join writes null and undefined as empty strings.
  const joined = values.join('');
  let data: Buffer = Buffer.from(joined, 'utf8');
  if (data.length === joined.length) {
    let at = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v !== null && v !== undefined) at += v.length;
      offsets[i + 1] = at;
    }
  } else {
    data = Buffer.allocUnsafe(data.length);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v !== null && v !== undefined) at += data.write(v, at, 'utf8');
      offsets[i + 1] = at;
    }
  }
  const { bitmap, nulls } = nullBitmap((i) => values[i] !== null && values[i] !== undefined, n);
  return makeData({
    type: new Utf8(),
    length: n,
    nullCount: nulls,
    nullBitmap: nulls ? bitmap : undefined,
    valueOffsets: offsets,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
}

function dictionaryVector(values: readonly (string | null)[]): Vector {
  const n = values.length;
  const index = new Map<string, number>();
  const dictionary: string[] = [];
  const keys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    let k = index.get(v);
    if (k === undefined) {
      k = dictionary.length;
      index.set(v, k);
      dictionary.push(v);
    }
    keys[i] = k;
  }
  const { bitmap, nulls } = nullBitmap((i) => values[i] !== null && values[i] !== undefined, n);
  const type = new Dictionary(new Utf8(), new Int32());
  return makeVector(
    makeData({
      type,
      length: n,
      nullCount: nulls,
      nullBitmap: nulls ? bitmap : undefined,
      data: keys,
      dictionary: makeVector(utf8Data(dictionary)),
    }),
  );
}

function boolVector(values: readonly boolean[]): Vector {
  const n = values.length;
  const bits = new Uint8Array(Math.ceil(n / 8));
  for (let i = 0; i < n; i++) if (values[i]) bits[i >> 3]! |= 1 << (i & 7);
  return makeVector(makeData({ type: new Bool(), length: n, nullCount: 0, data: bits }));
}

/** Builds the Arrow table of a batch of rows, in lake column order. */
export function rowsToArrowTable(rows: readonly NormalisedEvent[]): Table {
  const columns: Record<string, Vector> = {};
  const n = rows.length;
  for (const col of LAKE_COLUMNS) {
    const type = LAKE_COLUMN_TYPES[col];
    const values = new Array(n);
    for (let i = 0; i < n; i++) values[i] = rows[i]![col];
    switch (type) {
      case 'timestamp':
        columns[col] = int64Vector(values, new TimestampMillisecond());
        break;
      case 'bigint':
        columns[col] = int64Vector(values, new Int64());
        break;
      case 'boolean':
        columns[col] = boolVector(values);
        break;
      case 'string':
        columns[col] = DICTIONARY_COLUMNS.has(col) ? dictionaryVector(values) : makeVector(utf8Data(values));
        break;
    }
  }
  return new Table(columns);
}

/**
 * Encodes rows as one Parquet file, readable by DuckDB, Athena and Spark. Snappy, as Firehose's own Parquet conversion
 * writes (fast to write: ingest is CPU-bound); `sesflow compact` rewrites partitions with zstd, smaller for long keeping.
 */
export function encodeParquet(rows: readonly NormalisedEvent[]): Uint8Array {
  const table = rowsToArrowTable(rows);
  const props = new WriterPropertiesBuilder()
    .setCompression(Compression.SNAPPY)
    .setMaxRowGroupSize(128 * 1024)
    .build();
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')), props);
}
