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

/** A lake object as listed, with a token that changes whenever the object is written again under the same key. */
export interface LakeObjectVersion {
  key: string;
  size: number;
  /** S3: the ETag (the content's MD5 for a single PUT) and the last-modified time; a directory: the mtime in ns. */
  version: string;
}

/**
 * A store that lists its objects with their versions: what a rollup is checked against (ingest/rollups-writer.ts), so
 * a file rewritten in place (an erasure keeps the key) makes its day's rollup stale as a new file does.
 */
export interface VersionedListing {
  /** Every object under a prefix with its size and version, sorted by key. */
  listVersions(prefix: string): Promise<LakeObjectVersion[]>;
}
