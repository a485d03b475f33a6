/**
 * How a report's period is split between the rollups and the raw events (docs/queries.md "Answering from
 * rollups"): whole days that are rolled up and not stale come from the rollup tables, the rest (the open edges: a
 * period starting or ending mid-day, today, a day not rolled up yet or stale) from the raw events of the hour
 * partitions it touches. Pure: both engines (DuckDB locally, Athena in AWS) use it.
 *
 * Raw retention (privacy/retention.ts): raw events of days before the first kept day are deleted, rollups are kept
 * longer. A period reaching before that day is answered from rollups alone over the expired days, whole days only
 * (an edge inside an expired day is rounded out to the whole day), and the answer says so ({@link ReportBasis}).
 */

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** `YYYY-MM-DD` of a UTC day (or of the day holding a time). */
export const dayText = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const floorDay = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
const ceilDay = (ms: number) => Math.ceil(ms / DAY_MS) * DAY_MS;

/** What answered a report, as the Reports API returns it beside the rows (docs/reports-api.openapi.yaml). */
export interface ReportBasis {
  /** `raw`: raw events only; `rollups`: rollups only; `rollups+raw`: whole days from rollups, edges from raw. */
  source: 'raw' | 'rollups' | 'rollups+raw';
  /** The period the rows cover (ISO 8601): the one asked, unless an edge was rounded to a whole day (retention). */
  from: string;
  to: string;
  /** The first day whose raw events are kept (`YYYY-MM-DD`), when the period reaches before it; else null. */
  rawEventsKeptFrom: string | null;
  /** One line for people when the answer is not what a raw-event report over the asked period would be; else null. */
  note: string | null;
}

export interface PeriodSplit {
  /** The whole days answered from rollups, `[from, to)` in ms (UTC midnights); null when none. */
  days: { from: number; to: number } | null;
  /** The ranges answered from raw events, `[from, to)` in ms: at most two (before and after {@link days}). */
  raw: { from: number; to: number }[];
  basis: ReportBasis;
}

export interface SplitInput {
  from: number;
  to: number;
  /** Whether a day (UTC midnight, ms) is rolled up and not stale. */
  rolledUp: (day: number) => boolean;
  /** The first day (UTC midnight, ms) whose raw events are kept; earlier days have rollups only. Null: all kept. */
  rawKeptFrom: number | null;
}

/**
 * Splits an aggregate report's period: the longest run of whole days that are rolled up and not stale (a day
 * before raw retention counts as rolled up: its rollups are all there is) comes from rollups, the edges from raw.
 * Any such split gives exactly the raw-only answer (the rollup renderings' exactness rule); only an expired edge
 * changes the period, rounded out to its whole day.
 */
export function splitAggregatePeriod(input: SplitInput): PeriodSplit {
  const kept = input.rawKeptFrom;
  const expired = (day: number) => kept !== null && day < kept;
  // An edge inside an expired day cannot be read raw: the whole day is answered instead.
  const from = expired(floorDay(input.from)) ? floorDay(input.from) : input.from;
  const to = expired(floorDay(input.to - 1)) ? ceilDay(input.to) : input.to;
  const usable = (day: number) => expired(day) || input.rolledUp(day);
  let best: { from: number; to: number } | null = null;
  let runStart: number | null = null;
  const lastDay = floorDay(to);
  for (let d = ceilDay(from); d <= lastDay; d += DAY_MS) {
    const ok = d < lastDay && usable(d);
    if (ok && runStart === null) runStart = d;
    if (!ok && runStart !== null) {
      if (!best || d - runStart > best.to - best.from) best = { from: runStart, to: d };
      runStart = null;
    }
  }
  // The expired days must all come from the rollups: the run that holds them wins even when shorter.
  if (kept !== null && from < kept) {
    const firstRun = ceilDay(from);
    let end = firstRun;
    while (end < lastDay && usable(end)) end += DAY_MS;
    best = end > firstRun ? { from: firstRun, to: end } : best;
  }
  const raw: { from: number; to: number }[] = [];
  if (!best) raw.push({ from, to });
  else {
    if (from < best.from) raw.push({ from, to: best.from });
    if (best.to < to) raw.push({ from: best.to, to });
  }
  const source = !best ? 'raw' : raw.length === 0 ? 'rollups' : 'rollups+raw';
  return { days: best, raw, basis: basis(source, from, to, input, kept) };
}

/**
 * The basis of a drill-down report (bounced recipients, message timeline, one day's detail): raw events only; over
 * days before raw retention it says those raw events were deleted.
 */
export function drillDownBasis(from: number, to: number, rawKeptFrom: number | null): ReportBasis {
  const b = basis('raw', from, to, { from, to }, rawKeptFrom);
  if (b.rawEventsKeptFrom) {
    b.note = `raw events before ${b.rawEventsKeptFrom} were deleted by retention: rows before then cannot be shown`;
  }
  return b;
}

function basis(
  source: ReportBasis['source'],
  from: number,
  to: number,
  asked: { from: number; to: number },
  kept: number | null,
): ReportBasis {
  const reaches = kept !== null && from < kept;
  const rounded = from !== asked.from || to !== asked.to;
  return {
    source,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    rawEventsKeptFrom: reaches ? dayText(kept) : null,
    note: reaches
      ? `raw events before ${dayText(kept)} were deleted by retention: the days before then come from the daily rollups${
          rounded ? `, whole days only (${dayText(from)} to ${dayText(to - 1)})` : ''
        }`
      : null,
  };
}

/** The hour partitions (`dt=YYYY-MM-DD/hour=HH`) a time range `[from, to)` touches. */
export function hourPartitions(from: number, to: number): string[] {
  const out: string[] = [];
  for (let h = Math.floor(from / HOUR_MS) * HOUR_MS; h < to; h += HOUR_MS) {
    const iso = new Date(h).toISOString();
    out.push(`dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`);
  }
  return out;
}

/**
 * The values a rollup rendering takes besides the named query's own: the period answered (`from`, `to`, as the
 * engine's timestamp text) and the whole days from rollups (`day_from`, `day_to`; both null when none).
 */
export function rollupValues(split: PeriodSplit, timestamp: (ms: number) => string): Record<string, string | null> {
  return {
    from: timestamp(Date.parse(split.basis.from)),
    to: timestamp(Date.parse(split.basis.to)),
    day_from: split.days ? dayText(split.days.from) : null,
    day_to: split.days ? dayText(split.days.to) : null,
  };
}

/** The rollup renderings of a registry's aggregate queries, by name (queries/named-queries.ts `NamedQuery.rollup`). */
export function rollupRenderings<Q extends { name: string; rollup?: Q }>(
  registry: ReadonlyMap<string, Q>,
): ReadonlyMap<string, Q> {
  return new Map([...registry.values()].flatMap((q) => (q.rollup ? [[q.name, q.rollup] as const] : [])));
}
