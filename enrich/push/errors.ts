import { SesflowError } from '../../lib/errors';

/** Base of every error the push area raises on purpose. */
export class PushError extends SesflowError {
  override name = 'PushError';
}

/** A required setting is missing or malformed: names the variable. */
export class PushConfigError extends PushError {
  override name = 'PushConfigError';
}

/** A batch could not be delivered yet (retries exhausted in this run): the queue message is retried later. */
export class PushRetryLaterError extends PushError {
  override name = 'PushRetryLaterError';
}

/** External Reporting refused a batch and there is no dead-letter queue to keep it in. */
export class PushRefusedError extends PushError {
  override name = 'PushRefusedError';
}

/** A queue message is not a record batch (it goes to the dead-letter queue with this reason). */
export class MalformedBatchError extends PushError {
  override name = 'MalformedBatchError';
}

/** Records could not be written to the queue or the state table (the stream batch is retried). */
export class ProducerError extends PushError {
  override name = 'ProducerError';
}
