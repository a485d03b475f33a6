import { SesflowError } from '../lib/errors';

/**
 * Errors of the send core (registry, onboarding, sender). The gate's refusal is enrich/'s `TenantPausedError`
 * (the same class the reputation path and the Email API know by name); everything else raised on purpose here is a
 * `SendError`. Messages are one line, written for the person who reads them.
 */
export class SendError extends SesflowError {
  override name = 'SendError';
}

/** A message field SES would refuse (a tag value, an address outside the tenant's sending domains). */
export class InvalidMessageError extends SendError {
  override name = 'InvalidMessageError';
}

/** A tenant id, domain or policy that cannot be registered. */
export class InvalidTenantError extends SendError {
  override name = 'InvalidTenantError';
}

/** No tenant profile with that id. */
export class UnknownTenantError extends SendError {
  override name = 'UnknownTenantError';
  constructor(readonly tenantId: string) {
    super(`tenant ${tenantId} is not registered`);
  }
}

/** No key with that id for that tenant (or it is revoked already). */
export class UnknownKeyError extends SendError {
  override name = 'UnknownKeyError';
}

/** An SES setup step of onboarding failed: names the step. */
export class OnboardingError extends SendError {
  override name = 'OnboardingError';
}

/** The registry could not read or write the table. */
export class RegistryError extends SendError {
  override name = 'RegistryError';
}

/** An unsubscribe token that is not one of ours (altered, cut short, signed with another secret). */
export class InvalidUnsubscribeTokenError extends SendError {
  override name = 'InvalidUnsubscribeTokenError';
}

/** An unsubscribe token past its expiry. */
export class ExpiredUnsubscribeTokenError extends SendError {
  override name = 'ExpiredUnsubscribeTokenError';
}

/** The unsubscribe endpoint's settings are missing: names the variable. */
export class UnsubscribeConfigError extends SendError {
  override name = 'UnsubscribeConfigError';
}
