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
  vectorFromArray,
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

/** Builds the Arrow table of a batch of rows, in lake column order. */
export function rowsToArrowTable(rows: readonly NormalisedEvent[]): Table {
  const columns: Record<string, Vector> = {};
  for (const col of LAKE_COLUMNS) {
    const type = LAKE_COLUMN_TYPES[col];
    const values = rows.map((r) => r[col]);
    switch (type) {
      case 'timestamp':
        columns[col] = int64Vector(values as (number | null)[], new TimestampMillisecond());
        break;
      case 'bigint':
        columns[col] = int64Vector(values as (number | null)[], new Int64());
        break;
      case 'boolean':
        columns[col] = vectorFromArray(values as boolean[], new Bool());
        break;
      case 'string':
        columns[col] = DICTIONARY_COLUMNS.has(col)
          ? vectorFromArray(values as (string | null)[], new Dictionary(new Utf8(), new Int32()))
          : vectorFromArray(values as (string | null)[], new Utf8());
        break;
    }
  }
  return new Table(columns);
}

/** Encodes rows as one Parquet file (zstd), readable by DuckDB, Athena and Spark. */
export function encodeParquet(rows: readonly NormalisedEvent[]): Uint8Array {
  const table = rowsToArrowTable(rows);
  const props = new WriterPropertiesBuilder()
    .setCompression(Compression.ZSTD)
    .setMaxRowGroupSize(128 * 1024)
    .build();
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')), props);
}
