import { duckTimestamp } from '../../queries/duckdb-lake';
import { DAY_MS, dayText, HOUR_MS } from '../report-split';
import type { DuckDbReportsStore } from './duckdb-reports-store';

/** A time range `[from, to)` in ms. */
export interface TimeRange {
  from: number;
  to: number;
}

/**
 * What `rollup_hourly` says about one hour of a rolled-up, fresh day, for a drill-down's scope: that the scope has
 * events in it (the hourly rollup has a row for every tenant and hour with any event), and at least `atLeast` of them
 * are rows of the drill-down (a lower bound: the rollup counts only the bounces and complaints that count toward the
 * rates, the drill-down lists them all).
 */
export interface HourHint {
  hour: number;
  atLeast: number;
}

/**
 * The drill-downs listed newest first (`ORDER BY event_time DESC ... LIMIT`): for each, the `rollup_hourly` sum that
 * is a lower bound of its rows in an hour, by the value of its `event_type` parameter (null: both kinds).
 */
const NEWEST_FIRST: Record<string, (eventType: unknown) => string> = {
  'bounced-recipients': (eventType) =>
    eventType === 'bounce'
      ? 'hard_bounces + soft_bounces'
      : eventType === 'complaint'
        ? 'complaints'
        : eventType === null || eventType === undefined
          ? 'hard_bounces + soft_bounces + complaints'
          : '0',
};

/**
 * The hours of `[from, to)` a newest-first drill-down must read, as ranges, newest hours first considered:
 * - an hour of a rolled-up, fresh day (`known`) for which the rollup has no row holds no event of the scope: skipped;
 * - once the hours taken hold at least `limit` rows (by the rollup's lower bounds, whole hours of the period only),
 *   every older row sorts after those, so the older hours are not read.
 * Every other hour (a day not rolled up, stale, or an hour the period cuts) is read. Pure.
 */
export function newestFirstHours(
  period: TimeRange,
  limit: number,
  known: (day: number) => boolean,
  hints: readonly HourHint[],
): TimeRange[] {
  return newestFirstPick(period, limit, known, hints).ranges;
}

/** {@link newestFirstHours}, and whether the hours taken hold the limit (so no older hour can be in the answer). */
export function newestFirstPick(
  period: TimeRange,
  limit: number,
  known: (day: number) => boolean,
  hints: readonly HourHint[],
): { ranges: TimeRange[]; reached: boolean } {
  const byHour = new Map(hints.map((h) => [h.hour, h.atLeast]));
  const taken: TimeRange[] = [];
  let rows = 0;
  for (let h = Math.floor((period.to - 1) / HOUR_MS) * HOUR_MS; h + HOUR_MS > period.from; h -= HOUR_MS) {
    const hint = byHour.get(h);
    if (known(Math.floor(h / DAY_MS) * DAY_MS) && hint === undefined) continue;
    const range = { from: Math.max(h, period.from), to: Math.min(h + HOUR_MS, period.to) };
    const last = taken.at(-1);
    if (last && last.from === range.to) last.from = range.from;
    else taken.push(range);
    const whole = range.from === h && range.to === h + HOUR_MS;
    if (whole && hint !== undefined) rows += hint;
    if (rows >= limit) break;
  }
  return { ranges: taken.reverse(), reached: rows >= limit };
}

/** How many of the newest rolled-up days a newest-first drill-down's first step looks at (by default). */
const RECENT_DAYS = 2;

/**
 * The raw ranges a drill-down reads: for a newest-first one, the hours {@link newestFirstHours} picks from the hints
 * of `rollup_hourly` (its days rolled up and fresh as of the store's last refresh); for the others, the whole period.
 * Call inside the serial queue, after the store's refresh.
 */
export async function drillDownRanges(
  store: DuckDbReportsStore,
  name: string,
  period: TimeRange,
  values: Readonly<Record<string, unknown>>,
  limit: number,
  recentDays = RECENT_DAYS,
): Promise<TimeRange[]> {
  const lowerBound = NEWEST_FIRST[name];
  if (!lowerBound) return [period];
  const days: string[] = [];
  for (let d = Math.floor(period.from / DAY_MS) * DAY_MS; d < period.to; d += DAY_MS) {
    if (store.rolledUp(d)) days.push(dayText(d));
  }
  if (days.length === 0) return [period];
  const tenant = (values.tenant as string | null | undefined) ?? null;
  // The days are the engine's own YYYY-MM-DD texts; the tenant and times are bound.
  const hintsOf = async (list: readonly string[], from: number) => {
    const reader = await store.connection.runAndReadAll(
      `SELECT epoch_ms(hour) AS hour, sum(${lowerBound(values.event_type)}) AS n
       FROM rollup_hourly
       WHERE dt IN (${list.map((d) => `'${d}'`).join(', ')}) AND (CAST(? AS VARCHAR) IS NULL OR tenant_id = ?)
         AND hour >= CAST(? AS TIMESTAMP) - INTERVAL 1 HOUR AND hour < CAST(? AS TIMESTAMP)
       GROUP BY 1`,
      [tenant, tenant, duckTimestamp(from), duckTimestamp(period.to)] as never,
    );
    return reader.getRowObjectsJS().map((r) => ({ hour: Number(r.hour), atLeast: Number(r.n) }));
  };
  // Newest first, in two steps: the newest rolled-up days' hints alone often hold the limit (all tenants' 1,000 rows
  // lie in the last hours), and reading 30 days of every tenant's hourly rows costs more than the rows themselves.
  // The first step looks at the period from its newest rolled-up days on; only if the limit is not reached there are
  // the hints of every day read, and the hours picked over the whole period.
  if (days.length > recentDays) {
    const recent = days.slice(-recentDays);
    const from = Math.max(period.from, Date.parse(`${recent[0]}T00:00:00Z`));
    const inRecent = new Set(recent);
    const pick = newestFirstPick(
      { from, to: period.to },
      limit,
      (d) => inRecent.has(dayText(d)),
      await hintsOf(recent, from),
    );
    if (pick.reached) return pick.ranges;
  }
  const hints = await hintsOf(days, period.from);
  const rolled = new Set(days);
  return newestFirstHours(period, limit, (d) => rolled.has(dayText(d)), hints);
}
