import { type RollupStore, rollupDays } from '../../ingest/rollups-writer';
import { DAY_MS, dayText } from '../report-split';

/** Days looked at per request at most (a year and a day: the Reports API's longest period). */
const MAX_DAYS = 367;
/** Days listed at once. */
const CONCURRENCY = 8;

/**
 * The Athena engine's `rolledUpDays` over the lake bucket (or any store the rollup writer uses): the days between two
 * midnights whose rollups are there and fresh by the writer's rule (ingest/rollups-writer.ts: the digest of the day's
 * raw listing in the build's name is that of the raw files now). Each day costs a listing of its raw partitions and
 * rollup folders; the answer is kept `cacheMs` (default 60 s), so a day that turns stale (a late event, an erasure)
 * may be read from its rollups for that long after.
 */
export function lakeRolledUpDays(
  store: RollupStore,
  options: { cacheMs?: number; now?: () => number } = {},
): (fromDay: number, toDay: number) => Promise<ReadonlySet<string>> {
  const cacheMs = options.cacheMs ?? 60_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; fresh: boolean }>();
  const freshness = async (day: string): Promise<boolean> => {
    const hit = cache.get(day);
    if (hit && now() - hit.at < cacheMs) return hit.fresh;
    const state = (await rollupDays(store, day)).get(day);
    const fresh = !!state && state.build !== null && state.fresh;
    cache.set(day, { at: now(), fresh });
    return fresh;
  };
  return async (fromDay, toDay) => {
    const days: string[] = [];
    for (let d = fromDay; d < toDay && days.length < MAX_DAYS; d += DAY_MS) days.push(dayText(d));
    const ready = new Set<string>();
    for (let i = 0; i < days.length; i += CONCURRENCY) {
      const batch = days.slice(i, i + CONCURRENCY);
      const fresh = await Promise.all(batch.map(freshness));
      for (const [j, d] of batch.entries()) if (fresh[j]) ready.add(d);
    }
    return ready;
  };
}
