import { SesflowError } from '../../lib/errors';

/** Base of every error the sender-auth area raises on purpose. */
export class SenderAuthError extends SesflowError {
  override name = 'SenderAuthError';
}

/** A check of a tenant that is not registered. */
export class UnknownTenantError extends SenderAuthError {
  override name = 'UnknownTenantError';
  constructor(tenantId: string) {
    super(`tenant ${tenantId} is not registered`);
  }
}

/** Another check saved the tenant's readiness in between: this one's result is not stored (the next run is). */
export class ReadinessConflictError extends SenderAuthError {
  override name = 'ReadinessConflictError';
}

/** A required setting is missing or wrong: names the variable. */
export class SenderAuthConfigError extends SenderAuthError {
  override name = 'SenderAuthConfigError';
}
