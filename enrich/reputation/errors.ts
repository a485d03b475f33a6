import { SesflowError } from '../../lib/errors';

/** Base of every error the reputation area raises on purpose. */
export class ReputationError extends SesflowError {
  override name = 'ReputationError';
}

/** A send was refused because the tenant is paused or suspended (the send gate's answer: tenants/errors.ts). */
export { TenantPausedError } from '../../tenants/errors';

/** A resume without a reason, or of a tenant that is not paused. */
export class ResumeRefusedError extends ReputationError {
  override name = 'ResumeRefusedError';
}

/** A required setting is missing: names the variable. */
export class ReputationConfigError extends ReputationError {
  override name = 'ReputationConfigError';
}

/** Writing the counters failed (retryable: the batch reports the records as failed). */
export class CounterWriteError extends ReputationError {
  override name = 'CounterWriteError';
}
