import type { HourCounts } from '../../enrich/reputation/buckets';
import type { CounterStore } from '../../enrich/reputation/ports';
import { mapLimited } from '../../lib/concurrency';
import type { LiveFigures, TenantFigures } from '../api/ports';

const HOUR_MS = 3_600_000;
const WEEK_HOURS = 7 * 24;

export interface DynamoDbLiveFiguresOptions {
  /**
   * The reputation path's hourly counters (enrich/reputation/dynamodb-counter-store.ts): `TENANT#<id>` /
   * `HOUR#<yyyy-mm-ddThh>` items, one per tenant and hour of event time, mailbox-simulator traffic left out.
   */
  counters: Pick<CounterStore, 'readHours'>;
  /**
   * The tenants to read: the hour items have no index across tenants, so the ids come from the tenant registry and
   * the reputation items (the tenant store's list).
   */
  tenantIds: () => Promise<readonly string[]>;
  /** How long a computed answer is reused (default 5 s; 0 = read on every call). */
  cacheMs?: number;
  /** Tenants read at once (default 8). */
  concurrency?: number;
  /** For tests: what time it is for the cache. */
  clock?: () => number;
}

/**
 * Live figures in AWS from the counters the reputation path already keeps in DynamoDB (no second copy): for each
 * tenant, its hour items over the 7 days ending with the current hour, folded into 24 h and 7 d volumes, 7-day
 * rates and one point per hour, as the DuckDB adapter folds the lake's rows locally (same window, same fields, the
 * same counts: sends, deliveries, hard bounces and complaints that count toward the rates). The armed part of a
 * resume hour (`…#ARMED#<t>`) is the reputation window's own bookkeeping, not traffic: it is left out here.
 */
export class DynamoDbLiveFigures implements LiveFigures {
  private cached: { at: number; key: number; value: TenantFigures[] } | null = null;

  constructor(private readonly opts: DynamoDbLiveFiguresOptions) {}

  async figures(now: Date): Promise<TenantFigures[]> {
    const end = Math.floor(now.getTime() / HOUR_MS + 1) * HOUR_MS;
    const clock = this.opts.clock ?? Date.now;
    const cacheMs = this.opts.cacheMs ?? 5_000;
    if (this.cached && this.cached.key === end && clock() - this.cached.at < cacheMs) return this.cached.value;
    const fromHour = hourText(end - WEEK_HOURS * HOUR_MS);
    const toHour = hourText(end - HOUR_MS);
    const ids = [...new Set(await this.opts.tenantIds())].sort();
    const perTenant = await mapLimited(ids, this.opts.concurrency ?? 8, async (tenantId) => ({
      tenantId,
      hours: (await this.opts.counters.readHours(tenantId, fromHour, toHour)).filter((h) => h.armedSince === undefined),
    }));
    const value = perTenant.filter((t) => t.hours.length > 0).map((t) => foldWeek(t.tenantId, t.hours, end));
    this.cached = { at: clock(), key: end, value };
    return value;
  }
}

/** `yyyy-mm-ddThh` (UTC), the counters' hour key. */
const hourText = (ms: number) => new Date(ms).toISOString().slice(0, 13);

/** One tenant's hour items as the week ending at `endMs` (exclusive, on the hour): oldest hour first. */
export function foldWeek(tenantId: string, hours: readonly HourCounts[], endMs: number): TenantFigures {
  const byHour = new Map(hours.map((h) => [h.hour, h]));
  const dayStart = endMs - 24 * HOUR_MS;
  const f: TenantFigures = {
    tenantId,
    sent24h: 0,
    sent7d: 0,
    delivered7d: 0,
    hardBounces7d: 0,
    complaints7d: 0,
    bounceRate7d: 0,
    complaintRate7d: 0,
    hourly: [],
  };
  for (let t = endMs - WEEK_HOURS * HOUR_MS; t < endMs; t += HOUR_MS) {
    const h = byHour.get(hourText(t));
    const sent = h?.sent ?? 0;
    const delivered = h?.delivered ?? 0;
    const hard = h?.hardBounces ?? 0;
    const complaints = h?.complaints ?? 0;
    f.sent7d += sent;
    if (t >= dayStart) f.sent24h += sent;
    f.delivered7d += delivered;
    f.hardBounces7d += hard;
    f.complaints7d += complaints;
    f.hourly.push({
      hour: `${hourText(t)}:00:00Z`,
      sent,
      bounceRate: sent ? hard / sent : 0,
      complaintRate: delivered ? complaints / delivered : 0,
    });
  }
  f.bounceRate7d = f.sent7d ? f.hardBounces7d / f.sent7d : 0;
  f.complaintRate7d = f.delivered7d ? f.complaints7d / f.delivered7d : 0;
  return f;
}
