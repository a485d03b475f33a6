import { SesflowError } from '../lib/errors';

/** Base of the privacy area's errors (erasure, retention). */
export class PrivacyError extends SesflowError {
  override name = 'PrivacyError';
}

/** An erasure request that cannot be processed as given (not an address, no reason, no key). */
export class ErasureRequestError extends PrivacyError {
  override name = 'ErasureRequestError';
}

/** A store could not be searched or erased; the message names the store, never the address. */
export class ErasureStoreError extends PrivacyError {
  override name = 'ErasureStoreError';
}
