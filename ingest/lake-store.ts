/**
 * Where lake objects live: a local directory (`sesflow ingest --lake DIR`, the local stack) or an S3 bucket
 * (AWS, and fauxqs locally). Keys use `/` whatever the store.
 */
export interface LakeStore {
  /** Writes an object atomically: readers see the whole object or nothing. */
  put(key: string, body: Uint8Array | string): Promise<void>;
  get(key: string): Promise<Uint8Array>;
  /** Every key under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  /** A human-readable location, for messages. */
  readonly location: string;
}
