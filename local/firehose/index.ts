/** The local Firehose: PutRecordBatch endpoint, buffering, the shared transform, a row sink. See docs/local-stack.md. */
export {
  DeliveryStream,
  type DeliveryStreamOptions,
  type DeliveryStreamStats,
  rowFromJsonLine,
} from './delivery-stream';
export { FIREHOSE_ERROR_STATUS, FirehoseApiError, type FirehoseErrorName } from './errors';
export { MemoryRowSink, type RowSink } from './row-sink';
export {
  type FailureInjector,
  FIREHOSE_LIMITS,
  type LocalFirehose,
  type LocalFirehoseOptions,
  startLocalFirehose,
} from './server';
