import type { DuckDBResultReader } from '@duckdb/node-api';
import type { LakeDb } from '../../queries/duckdb-lake';
import { duckTimestamp } from '../../queries/duckdb-lake';
import type { LiveFigures, TenantFigures } from '../api/ports';
import { DAY_MS, dayText } from '../report-split';
import type { DuckDbReportsStore } from './duckdb-reports-store';
import { createSerialQueue, plainRow } from './serial-lake';

const HOUR_MS = 3_600_000;
const WEEK_MS = 7 * 24 * HOUR_MS;

interface HourRow {
  tenant_id: string;
  hour: string;
  sent: number;
  delivered: number;
  hard_bounces: number;
  complaints: number;
}

const HOURLY_COUNTS = `count(*) FILTER (WHERE event_type = 'send') AS sent,
             count(*) FILTER (WHERE event_type = 'delivery') AS delivered,
             count(*) FILTER (WHERE counts_toward_bounce_rate) AS hard_bounces,
             count(*) FILTER (WHERE counts_toward_complaint_rate) AS complaints`;
const HOUR_TEXT = (t: string) => `strftime(date_trunc('hour', ${t}), '%Y-%m-%dT%H:00:00Z')`;

/**
 * Live figures from `read`, which returns the per-tenant figures of the 7 days to `end` (run in the lake's serial
 * queue), reused for `cacheMs` within one hour.
 */
function cachedFigures(
  serial: <T>(task: () => Promise<T>) => Promise<T>,
  read: (end: number) => Promise<TenantFigures[]>,
  cacheMs = 2_000,
): LiveFigures {
  let cached: { at: number; key: number; value: TenantFigures[] } | null = null;
  return {
    async figures(now: Date): Promise<TenantFigures[]> {
      const end = Math.floor(now.getTime() / HOUR_MS + 1) * HOUR_MS;
      if (cached && cached.key === end && Date.now() - cached.at < cacheMs) return cached.value;
      const value = await serial(() => read(end));
      cached = { at: Date.now(), key: end, value };
      return value;
    },
  };
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const hourRows = (reader: DuckDBResultReader) => reader.getRowObjectsJS().map((r) => plainRow(r) as unknown as HourRow);

/**
 * Live figures from the lake (locally, where the lake is fresh to the second): hourly counts per tenant over the
 * last 7 days, mailbox-simulator traffic left out as the reputation policy does. In AWS the same figures come from
 * the DynamoDB hourly rollups of enrich/. This one reads the raw events of a lake opened whole.
 */
export function createDuckDbLiveFigures(
  lake: LakeDb,
  serial = createSerialQueue(),
  opts: { cacheMs?: number } = {},
): LiveFigures {
  const read = async (end: number) => {
    const start = end - WEEK_MS;
    const rows = hourRows(
      await lake.connection.runAndReadAll(
        `SELECT tenant_id, ${HOUR_TEXT('event_time')} AS hour, ${HOURLY_COUNTS}
         FROM events
         WHERE event_time >= CAST(? AS TIMESTAMP) AND event_time < CAST(? AS TIMESTAMP) AND NOT is_simulator
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [duckTimestamp(start), duckTimestamp(end)] as never,
      ),
    );
    return summariseHours(rows, end);
  };
  return cachedFigures(serial, read, opts.cacheMs);
}

/**
 * The same live figures from the reports engine's store: the hours of rolled-up, fresh days from `rollup_hourly`
 * (its rows of simulator traffic left out), the other hours (today, days not rolled up yet or stale) from the raw
 * events of their partitions. What they are computed from is known before anything is read: the hour they end at,
 * each rolled-up day with the build it holds, and the raw hours with their partitions' files (the store's
 * {@link DuckDbReportsStore.rawFiles} key, as of its last listing, at most `minIntervalMs` old). The figures are
 * kept while all of that is the same, and the raw hours' counts while those hours and their files are the same: a
 * file that arrives, is compacted or is rewritten, and a day rolled up, rebuilt or gone stale, count at the next
 * request after the store lists them.
 */
export function createDuckDbRollupLiveFigures(
  store: DuckDbReportsStore,
  serial = createSerialQueue(),
  opts: { cacheMs?: number } = {},
): LiveFigures {
  let rawCache: { key: string; rows: HourRow[] } | null = null;
  let figuresCache: { key: string; value: TenantFigures[] } | null = null;
  const read = async (end: number) => {
    const start = end - WEEK_MS;
    await store.refresh();
    const rolled: string[] = [];
    const raw: { from: number; to: number }[] = [];
    for (let d = Math.floor(start / DAY_MS) * DAY_MS; d < end; d += DAY_MS) {
      const span = { from: Math.max(d, start), to: Math.min(d + DAY_MS, end) };
      if (store.rolledUp(d)) rolled.push(dayText(d));
      else if (raw.length > 0 && raw.at(-1)!.to === span.from) raw.at(-1)!.to = span.to;
      else raw.push(span);
    }
    const rawKey = () => `${JSON.stringify(raw)}#${store.rawFiles(raw).key}`;
    const key = `${end}#${store.rollupBuilds('hourly', rolled)}#${rawKey()}`;
    if (figuresCache?.key === key) return figuresCache.value;
    // The days are the engine's own YYYY-MM-DD texts; times are bound.
    const days = rolled.length > 0 ? rolled.map((d) => `'${d}'`).join(', ') : 'NULL';
    const fromRollups = hourRows(
      await store.connection.runAndReadAll(
        `SELECT tenant_id, ${HOUR_TEXT('hour')} AS hour, sum(sent) AS sent, sum(delivered) AS delivered,
           sum(hard_bounces) AS hard_bounces, sum(complaints) AS complaints
         FROM rollup_hourly
         WHERE NOT is_simulator AND dt IN (${days}) AND hour >= CAST(? AS TIMESTAMP) AND hour < CAST(? AS TIMESTAMP)
         GROUP BY 1, 2`,
        [duckTimestamp(start), duckTimestamp(end)] as never,
      ),
    );
    if (rawCache?.key !== rawKey()) {
      const inRaw = raw.map(() => '(event_time >= CAST(? AS TIMESTAMP) AND event_time < CAST(? AS TIMESTAMP))');
      const rows =
        raw.length === 0
          ? []
          : hourRows(
              await store.withRawEvents(raw, () =>
                store.connection.runAndReadAll(
                  `SELECT tenant_id, ${HOUR_TEXT('event_time')} AS hour, ${HOURLY_COUNTS}
                   FROM events
                   WHERE (${inRaw.join(' OR ')}) AND NOT is_simulator
                   GROUP BY 1, 2`,
                  raw.flatMap((r) => [duckTimestamp(r.from), duckTimestamp(r.to)]) as never,
                ),
              ),
            );
      // The key as of the listing the read used (a file gone mid-read makes the store list again).
      rawCache = { key: rawKey(), rows };
    }
    // A day is either rolled up or read raw: no (tenant, hour) is in both.
    const rows = [...fromRollups, ...rawCache.rows].sort(
      (a, b) => byText(a.tenant_id, b.tenant_id) || byText(a.hour, b.hour),
    );
    const value = summariseHours(rows, end);
    // Kept under the key of what was read: a listing made again mid-read (a file gone) gives another key.
    figuresCache = { key: `${end}#${store.rollupBuilds('hourly', rolled)}#${rawCache.key}`, value };
    return value;
  };
  return cachedFigures(serial, read, opts.cacheMs);
}

/** Folds hourly rows into per-tenant figures: 24 h and 7 d volumes, 7-day rates, and every hour of the week. */
export function summariseHours(rows: readonly HourRow[], endMs: number): TenantFigures[] {
  const byTenant = new Map<string, HourRow[]>();
  for (const r of rows) {
    const list = byTenant.get(r.tenant_id);
    if (list) list.push(r);
    else byTenant.set(r.tenant_id, [r]);
  }
  const dayStart = endMs - 24 * HOUR_MS;
  const out: TenantFigures[] = [];
  for (const [tenantId, hours] of byTenant) {
    const byHour = new Map(hours.map((h) => [h.hour, h]));
    let sent7d = 0;
    let sent24h = 0;
    let delivered7d = 0;
    let hardBounces7d = 0;
    let complaints7d = 0;
    const hourly: TenantFigures['hourly'] = [];
    for (let t = endMs - 7 * 24 * HOUR_MS; t < endMs; t += HOUR_MS) {
      const key = `${new Date(t).toISOString().slice(0, 13)}:00:00Z`;
      const h = byHour.get(key);
      const sent = h?.sent ?? 0;
      sent7d += sent;
      if (t >= dayStart) sent24h += sent;
      delivered7d += h?.delivered ?? 0;
      hardBounces7d += h?.hard_bounces ?? 0;
      complaints7d += h?.complaints ?? 0;
      hourly.push({
        hour: key,
        sent,
        bounceRate: sent ? (h?.hard_bounces ?? 0) / sent : 0,
        complaintRate: h?.delivered ? h.complaints / h.delivered : 0,
      });
    }
    out.push({
      tenantId,
      sent24h,
      sent7d,
      delivered7d,
      hardBounces7d,
      complaints7d,
      bounceRate7d: sent7d ? hardBounces7d / sent7d : 0,
      complaintRate7d: delivered7d ? complaints7d / delivered7d : 0,
      hourly,
    });
  }
  return out;
}
