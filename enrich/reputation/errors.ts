import { SesflowError } from '../../lib/errors';

/** Base of every error the reputation area raises on purpose. */
export class ReputationError extends SesflowError {
  override name = 'ReputationError';
}

/** A send was refused because the tenant is paused or suspended (the send gate's answer). */
export class TenantPausedError extends ReputationError {
  override name = 'TenantPausedError';
  constructor(
    readonly tenantId: string,
    readonly status: string,
    readonly reason: string | null,
    readonly since: string | null = null,
  ) {
    super(
      `tenant ${tenantId} is ${status}${since ? ` since ${since}` : ''}${reason ? `: ${reason}` : ''}; sending is refused until a resume`,
    );
  }
}

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
