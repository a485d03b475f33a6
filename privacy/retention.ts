import { LAKE_PREFIX } from '../ingest/lake-schema';
import type { LakeStore } from '../ingest/lake-store';

/**
 * How long each kind of lake data is kept, in days after the day it belongs to. Raw events (per recipient, the
 * personal data) for the shortest time the reports need; rollups (per tenant and day, no recipient) longer; error
 * records (raw SES records the transform refused, kept for replay) shortest.
 */
export interface RetentionPolicy {
  rawDays: number;
  errorDays: number;
  rollupDays: number;
}

/** Defaults, as the template's lifecycle rules (serverless.yml `${param:rawRetentionDays, 400}` ...). */
export const DEFAULT_RETENTION_POLICY: RetentionPolicy = { rawDays: 400, errorDays: 90, rollupDays: 1825 };

/** The prefix of the daily rollups (written at compaction); kept for `rollupDays`. */
export const ROLLUPS_PREFIX = 'rollups/';

const DAY_MS = 86_400_000;

/** The day (`dt=YYYY-MM-DD`) a lake key belongs to, in ms since the epoch; null for a key without one. */
export function dayOfKey(key: string): number | null {
  const m = /(?:^|\/)dt=(\d{4}-\d{2}-\d{2})\//.exec(key);
  if (!m) return null;
  const t = Date.parse(`${m[1]}T00:00:00Z`);
  return Number.isFinite(t) ? t : null;
}

/** The first day (UTC midnight, ms) still kept for `days` days of retention at `now`. */
export function firstKeptDay(days: number, now: Date): number {
  return Math.floor(now.getTime() / DAY_MS) * DAY_MS - days * DAY_MS;
}

/** Which keys are past their retention at `now` (a key without a day is never expired). */
export function expiredKeys(
  keys: readonly string[],
  policy: RetentionPolicy,
  now: Date,
): { events: string[]; errors: string[]; rollups: string[] } {
  const out = { events: [] as string[], errors: [] as string[], rollups: [] as string[] };
  for (const key of keys) {
    const day = dayOfKey(key);
    if (day === null) continue;
    if (key.startsWith(LAKE_PREFIX.events) && day < firstKeptDay(policy.rawDays, now)) out.events.push(key);
    else if (key.startsWith(LAKE_PREFIX.errors) && day < firstKeptDay(policy.errorDays, now)) out.errors.push(key);
    else if (key.startsWith(ROLLUPS_PREFIX) && day < firstKeptDay(policy.rollupDays, now)) out.rollups.push(key);
  }
  return out;
}

export interface RetentionSummary {
  eventFilesDeleted: number;
  errorFilesDeleted: number;
  rollupFilesDeleted: number;
  /** The first day kept of each kind (YYYY-MM-DD). */
  keptFrom: { events: string; errors: string; rollups: string };
}

/**
 * Deletes the lake files past their retention (the local stand-in of the template's S3 lifecycle rules, which count
 * from an object's last write; here the partition's day counts, which is never later). A partition is judged by its
 * day, so an hour is never half deleted; a crash half-way leaves files that the next run deletes.
 */
export async function applyRetention(
  store: LakeStore,
  policy: RetentionPolicy,
  options: { now?: Date; dryRun?: boolean } = {},
): Promise<RetentionSummary> {
  const now = options.now ?? new Date();
  const keys = [
    ...(await store.list(LAKE_PREFIX.events)),
    ...(await store.list(LAKE_PREFIX.errors)),
    ...(await store.list(ROLLUPS_PREFIX)),
  ];
  const expired = expiredKeys(keys, policy, now);
  if (!options.dryRun) {
    for (const key of [...expired.events, ...expired.errors, ...expired.rollups]) await store.delete(key);
  }
  const day = (days: number) => new Date(firstKeptDay(days, now)).toISOString().slice(0, 10);
  return {
    eventFilesDeleted: expired.events.length,
    errorFilesDeleted: expired.errors.length,
    rollupFilesDeleted: expired.rollups.length,
    keptFrom: { events: day(policy.rawDays), errors: day(policy.errorDays), rollups: day(policy.rollupDays) },
  };
}
