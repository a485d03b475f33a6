/**
 * Which days of a period a named query reads from the rollups (docs/queries.md, "Answered from rollups"): the whole
 * days [from, to) of the period that are rolled up and not stale, as one run of consecutive days; the edges before
 * and after it come from raw events. Any run gives the raw answer exactly; the longest reads the fewest raw rows.
 * Pure: the caller says which days are rolled up (queries/local-rollup-days.ts for a local lake).
 */

/** Whole days read from the rollups: `YYYY-MM-DD`, from inclusive, to exclusive (the day after the last one). */
export interface WholeDays {
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A time as the named queries bind it (`2026-05-01 10:00:00.000`, UTC) or as ISO 8601 with a zone, in epoch ms.
 * A date alone is midnight UTC.
 */
export function timeParamMs(value: string): number {
  const t = value.length > 10 && !/(?:Z|[+-]\d{2}:?\d{2})$/.test(value) ? `${value.replace(' ', 'T')}Z` : value;
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) throw new Error(`not a time: ${value.slice(0, 40)}`);
  return ms;
}

const dayMs = (day: string) => Date.parse(`${day}T00:00:00Z`);
const dayText = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The longest run of consecutive rolled-up days that lie wholly inside [from, to) (null bounds: unbounded), the
 * latest of equally long runs; null when there is none (the query then reads raw events only).
 */
export function pickWholeDays(from: string | null, to: string | null, rolledUp: Iterable<string>): WholeDays | null {
  const lo = from === null ? Number.NEGATIVE_INFINITY : timeParamMs(from);
  const hi = to === null ? Number.POSITIVE_INFINITY : timeParamMs(to);
  const days = [...new Set(rolledUp)]
    .filter((d) => DAY.test(d))
    .map(dayMs)
    .filter((d) => !Number.isNaN(d) && d >= lo && d + DAY_MS <= hi)
    .sort((a, b) => a - b);
  let best: [number, number] | null = null;
  let start = 0;
  for (let i = 0; i < days.length; i++) {
    if (i > 0 && days[i]! !== days[i - 1]! + DAY_MS) start = i;
    if (!best || i - start >= best[1] - best[0]) best = [start, i];
  }
  return best ? { from: dayText(days[best[0]]!), to: dayText(days[best[1]]! + DAY_MS) } : null;
}

/**
 * Checks a split the server set: whole days are `YYYY-MM-DD`, in order, and inside the period, or the rollup rows
 * would add days the raw answer does not have. Throws: a wrong split is a server fault, not a caller's.
 */
export function checkWholeDays(from: string | null, to: string | null, days: WholeDays): void {
  if (!DAY.test(days.from) || !DAY.test(days.to) || Number.isNaN(dayMs(days.from)) || Number.isNaN(dayMs(days.to))) {
    throw new Error(`whole days must be YYYY-MM-DD: ${days.from.slice(0, 20)}, ${days.to.slice(0, 20)}`);
  }
  if (days.from > days.to) throw new Error(`whole days out of order: ${days.from} after ${days.to}`);
  if (days.from === days.to) return;
  if ((from !== null && dayMs(days.from) < timeParamMs(from)) || (to !== null && dayMs(days.to) > timeParamMs(to))) {
    throw new Error(`whole days ${days.from}..${days.to} are not inside the period`);
  }
}

/** The days of a split, in order (for a note saying where each came from). */
export function daysOf(days: WholeDays): string[] {
  const out: string[] = [];
  for (let d = dayMs(days.from); d < dayMs(days.to); d += DAY_MS) out.push(dayText(d));
  return out;
}

/** A day's rollup as the writer lists it (`RollupDay` of ingest/rollups-writer.ts). */
export interface RollupDayState {
  day: string;
  /** The current build (its `daily` file name), null when the day is not rolled up. */
  build: string | null;
  /** Built from the raw files the lake holds now. */
  fresh: boolean;
  /** Every rollup file of the day, all tables and builds. */
  rollupKeys: readonly string[];
}

/**
 * The days a query may read from rollups: rolled up, fresh, and holding no file but their current build's. A file of
 * another build (a crash between writing a build and deleting the old one; the next compaction deletes it) would be
 * read as well by Athena, whose rollup tables read every file of a day's folder; the local views read only the
 * current build, but the rule is the same everywhere.
 */
export function usableRollupDays(days: Iterable<RollupDayState>): Set<string> {
  const out = new Set<string>();
  for (const d of days) {
    if (d.fresh && d.build !== null && d.rollupKeys.every((k) => k.endsWith(`/${d.build}`))) out.add(d.day);
  }
  return out;
}
