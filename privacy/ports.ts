import type { ErasureRequest, Pseudonymiser } from './request';

/** One store's part of an erasure report: where the address was found and what was done (or would be). */
export interface StoreOutcome {
  /** The store, as an operator names it (`lake events`, `DynamoDB push record states`, ...). */
  store: string;
  /** Items (rows, files, records, documents) that held the address when looked for. */
  found: number;
  /** Items changed by this run (0 on a dry run or where nothing was found). */
  changed: number;
  /** What was (or, on a dry run, would be) done, in one line. */
  action: string;
  /** What a dry run would change: item names without the address (file keys, record ids), at most a few hundred. */
  items?: string[];
  /** A store not reachable from here (not configured), or deliberately kept: why. */
  skipped?: string;
}

/**
 * The messages the address received, as the lake tells (message id and the recipient exactly as stored): the
 * External Reporting records and the DynamoDB record states are keyed by (message, recipient).
 */
export interface ErasureSubjects {
  messages: Map<string, Set<string>>;
}

/** What each store's eraser is given. */
export interface ErasureContext {
  request: ErasureRequest;
  pseudonyms: Pseudonymiser;
  dryRun: boolean;
  /** Filled by the stores that can say which messages the address received (the lake), read by the others. */
  subjects: ErasureSubjects;
}

/**
 * One store that may hold a recipient address. `discover` (optional) runs for every store before any erases, so a
 * store that forgets the address (the lake) first tells the others which messages it received. `erase` must be
 * idempotent (running it again finds nothing and changes nothing) and must change nothing on a dry run.
 */
export interface ErasureTarget {
  readonly store: string;
  discover?(ctx: ErasureContext): Promise<void>;
  erase(ctx: ErasureContext): Promise<StoreOutcome>;
}

/** Where the audit of each erasure is kept (a digest of the address, never the address). */
export interface ErasureAudit {
  record(report: ErasureReport): Promise<void>;
}

/** The erasure report: written for the compliance officer and kept in the audit. Holds no address. */
export interface ErasureReport {
  id: string;
  at: string;
  /** The keyed digest of the address (Pseudonymiser.auditDigest). */
  addressDigest: string;
  tenant: string | null;
  reason: string;
  requestedBy: string;
  dryRun: boolean;
  stores: StoreOutcome[];
  /** True when every store was erased (false on a dry run, and when a store failed: run again). */
  complete: boolean;
}
