import { hourOf } from '../reputation/buckets';
import type { CounterStore } from '../reputation/ports';
import type { ComplaintRateSource } from './ports';

/** Gmail's spam rate is measured over days of traffic: seven, as the compliance view's 7-day rates. */
const WINDOW_MS = 7 * 24 * 3600_000;
/** Below this many deliveries a rate says little (one complaint in 50 is 2 %): the rate is not known. */
export const MIN_DELIVERED = 100;

/**
 * The complaint rate (complaints / delivered, DESIGN.md's definition) over the last seven days, from the reputation
 * area's hourly counters (the same buckets its policy reads), so no copy of the counting lives here.
 */
export class CounterComplaintRate implements ComplaintRateSource {
  constructor(private readonly counters: Pick<CounterStore, 'readHours'>) {}

  async complaintRate(tenantId: string, now: Date): Promise<number | null> {
    const hours = await this.counters.readHours(tenantId, hourOf(now.getTime() - WINDOW_MS), hourOf(now.getTime()));
    let delivered = 0;
    let complaints = 0;
    for (const h of hours) {
      delivered += h.delivered;
      complaints += h.complaints;
    }
    return delivered >= MIN_DELIVERED ? complaints / delivered : null;
  }
}
