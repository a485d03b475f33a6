import type { NormalisedEvent } from './normalise';
import { ColumnBatch, encodeBatches } from './parquet-encoder';

/**
 * Encodes rows as one Parquet file (one row group), readable by DuckDB, Athena and Spark: the lake's own encoder
 * (ingest/parquet-encoder.ts). The lake writer fills column batches directly instead, without keeping the rows.
 */
export function encodeParquet(rows: readonly NormalisedEvent[]): Uint8Array {
  const batch = new ColumnBatch();
  batch.addAll(rows);
  const file = encodeBatches([batch]);
  batch.release();
  return file;
}
