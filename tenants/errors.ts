import { SesflowError } from '../lib/errors';

/** Base of every error the tenant module raises on purpose. */
export class TenantError extends SesflowError {
  override name = 'TenantError';
}

/** The lifecycle does not allow the move from the tenant's state (or the state changed meanwhile). */
export class TransitionRefusedError extends TenantError {
  override name = 'TransitionRefusedError';
}

/** The tenant store could not be read or written. */
export class TenantStoreError extends TenantError {
  override name = 'TenantStoreError';
}

/**
 * A send was refused because the tenant is paused or suspended (the send gate's answer). The message quotes the
 * tenant-visible reason only, never an internal note.
 */
export class TenantPausedError extends TenantError {
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
