import type { LakeDb } from '../../queries/duckdb-lake';
import { duckTimestamp } from '../../queries/duckdb-lake';
import type { LiveFigures, TenantFigures } from '../api/ports';
import { CACHE_TABLE, type DuckDbLakeCache } from './duckdb-lake-cache';
import { createSerialQueue, plainRow } from './serial-lake';

const HOUR_MS = 3_600_000;

interface HourRow {
  tenant_id: string;
  hour: string;
  sent: number;
  delivered: number;
  hard_bounces: number;
  complaints: number;
}

/**
 * Live figures from the lake (locally, where the lake is fresh to the second): hourly counts per tenant over the
 * last 7 days, mailbox-simulator traffic left out as the reputation policy does. In AWS the same figures come from
 * the DynamoDB hourly rollups of enrich/.
 */
export function createDuckDbLiveFigures(
  lake: LakeDb,
  serial = createSerialQueue(),
  options: { cacheMs?: number; cache?: DuckDbLakeCache } = {},
): LiveFigures {
  let cached: { at: number; key: number; value: TenantFigures[] } | null = null;
  return {
    async figures(now: Date): Promise<TenantFigures[]> {
      const end = Math.floor(now.getTime() / HOUR_MS + 1) * HOUR_MS;
      const cacheMs = options.cacheMs ?? 2_000;
      if (cached && cached.key === end && Date.now() - cached.at < cacheMs) return cached.value;
      const start = end - 7 * 24 * HOUR_MS;
      const relation = options.cache ? CACHE_TABLE : 'events';
      const rows = await serial(async () => {
        await options.cache?.refresh();
        const reader = await lake.connection.runAndReadAll(
          `SELECT tenant_id, strftime(date_trunc('hour', event_time), '%Y-%m-%dT%H:00:00Z') AS hour,
             count(*) FILTER (WHERE event_type = 'send') AS sent,
             count(*) FILTER (WHERE event_type = 'delivery') AS delivered,
             count(*) FILTER (WHERE counts_toward_bounce_rate) AS hard_bounces,
             count(*) FILTER (WHERE counts_toward_complaint_rate) AS complaints
           FROM ${relation}
           WHERE event_time >= CAST(? AS TIMESTAMP) AND event_time < CAST(? AS TIMESTAMP) AND NOT is_simulator
           GROUP BY 1, 2 ORDER BY 1, 2`,
          [duckTimestamp(start), duckTimestamp(end)] as never,
        );
        return reader.getRowObjectsJS().map((r) => plainRow(r) as unknown as HourRow);
      });
      const value = summariseHours(rows, end);
      cached = { at: Date.now(), key: end, value };
      return value;
    },
  };
}

/** Folds hourly rows into per-tenant figures: 24 h and 7 d volumes, 7-day rates, and every hour of the week. */
export function summariseHours(rows: readonly HourRow[], endMs: number): TenantFigures[] {
  const byTenant = new Map<string, HourRow[]>();
  for (const r of rows) byTenant.set(r.tenant_id, [...(byTenant.get(r.tenant_id) ?? []), r]);
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
