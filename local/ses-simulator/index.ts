/** The SES simulator: a SESv2-compatible endpoint that publishes SES-format events. See docs/local-stack.md. */
export { SES_ERROR_STATUS, SesApiError, type SesErrorName } from './errors';
export {
  type EventSink,
  type EventSinkResolver,
  FirehoseEventSink,
  KinesisEventSink,
  MemoryEventSink,
  type PublishedRecord,
  resolveSinks,
  streamNameOfArn,
} from './event-sinks';
export { type SesSimulatorServer, type SesSimulatorServerOptions, startSesSimulator } from './server';
export {
  type BulkStatus,
  type OutgoingMessage,
  type PendingEvent,
  SesSimulator,
  type SesSimulatorOptions,
} from './simulator';
export { emptyState, loadState, type SimulatorState, saveState } from './state';
