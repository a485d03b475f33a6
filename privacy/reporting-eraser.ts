import { recordIdOf } from '../enrich/push/record';
import { postErasureNotices } from '../enrich/push/reporting-api-client';
import { ErasureStoreError } from './errors';
import type { ErasureContext, ErasureTarget, StoreOutcome } from './ports';

/**
 * External Reporting: the records of the address's (message, recipient) pairs (ids as the pusher made them; the
 * lake and the DynamoDB record states say which) are deleted by a deletion notice through the contract
 * (`POST /v1/erasure-notices`), which carries record ids only. Idempotent: ids the platform does not hold are
 * answered as not held.
 */
export class ReportingEraser implements ErasureTarget {
  readonly store = 'External Reporting (delivery records)';

  constructor(private readonly api: { baseUrl: string; apiKey: string } | null) {}

  async erase(ctx: ErasureContext): Promise<StoreOutcome> {
    const ids = new Set<string>();
    for (const [messageId, recipients] of ctx.subjects.messages) {
      for (const r of recipients) ids.add(recordIdOf(messageId, r));
    }
    const items = [...ids].sort();
    if (!this.api) {
      return {
        store: this.store,
        found: items.length,
        changed: 0,
        action: 'not configured here',
        skipped:
          'no External Reporting endpoint configured (SESFLOW_REPORTING_URL): send the notice from a deployment that has one',
        items,
      };
    }
    if (ctx.dryRun || items.length === 0) {
      return {
        store: this.store,
        found: items.length,
        changed: 0,
        action: items.length === 0 ? 'no record of the address' : `would ask to delete ${items.length} records`,
        items,
      };
    }
    try {
      const answer = await postErasureNotices(this.api, items);
      return {
        store: this.store,
        found: items.length,
        changed: answer.erased,
        action: `asked to delete ${items.length} records: ${answer.erased} deleted, ${answer.notHeld} not held (never received or deleted before)`,
        items,
      };
    } catch (err) {
      throw new ErasureStoreError(err instanceof Error ? err.message : String(err), { cause: err });
    }
  }
}
