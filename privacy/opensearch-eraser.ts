import type { Client } from '@opensearch-project/opensearch';
import { ErasureStoreError } from './errors';
import type { ErasureContext, ErasureTarget, StoreOutcome } from './ports';

/** The query of the address's documents (any case: the recipient is kept as SES sent it), of one tenant if given. */
export function erasureQuery(address: string, tenant?: string): Record<string, unknown> {
  const filter: Record<string, unknown>[] = [{ term: { recipient: { value: address, case_insensitive: true } } }];
  if (tenant) filter.push({ term: { tenant_id: tenant } });
  return { bool: { filter } };
}

/** Where the raw SES records (the search stream's index, dynamically mapped) name a recipient. */
const RAW_RECIPIENT_FIELDS = [
  'mail.destination',
  'mail.commonHeaders.to',
  'bounce.bouncedRecipients.emailAddress',
  'complaint.complainedRecipients.emailAddress',
  'delivery.recipients',
  'deliveryDelay.delayedRecipients.emailAddress',
];

/**
 * The query of the raw SES records naming the address (as a phrase in any recipient field: the index is dynamically
 * mapped, so the fields are analysed text), of one tenant if given (its `tenant` message tag).
 */
export function rawRecordErasureQuery(address: string, tenant?: string): Record<string, unknown> {
  const should = RAW_RECIPIENT_FIELDS.map((f) => ({ match_phrase: { [f]: address } }));
  const filter: Record<string, unknown>[] = [{ bool: { should, minimum_should_match: 1 } }];
  if (tenant) filter.push({ match_phrase: { 'mail.tags.tenant': tenant } });
  return { bool: { filter } };
}

function statusOf(err: unknown): number | null {
  const s = (err as { meta?: { statusCode?: unknown } })?.meta?.statusCode;
  return typeof s === 'number' ? s : null;
}

/**
 * OpenSearch: the address's event documents are deleted (`_delete_by_query` over the index pattern, conflicts
 * proceeding, refreshed). The documents are copies of lake rows for search: deleting them loses no count, which
 * the lake keeps. Where `_delete_by_query` is not offered (OpenSearch Serverless answers 404 or 400 to it), the
 * documents are searched and deleted by id in bulk instead.
 */
export class OpenSearchEraser implements ErasureTarget {
  constructor(
    private readonly client: Client | null,
    /** Index or pattern searched (default `sesflow-events*`). */
    private readonly index = 'sesflow-events*',
    readonly store = 'OpenSearch (event documents)',
    /** The documents of the address (default: the normalised documents' `recipient`). */
    private readonly queryOf: (address: string, tenant?: string) => Record<string, unknown> = erasureQuery,
  ) {}

  private async count(query: Record<string, unknown>): Promise<number> {
    const r = await this.client!.count({
      index: this.index,
      body: { query } as never,
      ignore_unavailable: true,
    } as never);
    return Number((r.body as { count?: number }).count ?? 0);
  }

  private async deleteByIds(query: Record<string, unknown>): Promise<number> {
    let deleted = 0;
    for (;;) {
      const r = await this.client!.search({
        index: this.index,
        body: { query, size: 1000, _source: false } as never,
      });
      const hits = (r.body as { hits?: { hits?: { _index: string; _id: string }[] } }).hits?.hits ?? [];
      if (hits.length === 0) return deleted;
      const body = hits.map((h) => ({ delete: { _index: h._index, _id: h._id } }));
      await this.client!.bulk({ body: body as never });
      deleted += hits.length;
    }
  }

  async erase(ctx: ErasureContext): Promise<StoreOutcome> {
    if (!this.client) {
      return {
        store: this.store,
        found: 0,
        changed: 0,
        action: 'not configured here',
        skipped: 'no OpenSearch endpoint configured (SESFLOW_OPENSEARCH_URL); the local stack runs none',
      };
    }
    const query = this.queryOf(ctx.request.address, ctx.request.tenant);
    try {
      const found = await this.count(query);
      if (ctx.dryRun || found === 0) {
        return {
          store: this.store,
          found,
          changed: 0,
          action: found === 0 ? 'nothing holds the address' : `would delete ${found} documents`,
        };
      }
      let deleted: number;
      try {
        const r = await this.client.deleteByQuery({
          index: this.index,
          body: { query } as never,
          conflicts: 'proceed',
          refresh: true,
        } as never);
        deleted = Number((r.body as { deleted?: number }).deleted ?? 0);
      } catch (err) {
        const status = statusOf(err);
        if (status !== 404 && status !== 400 && status !== 405) throw err;
        deleted = await this.deleteByIds(query);
      }
      return { store: this.store, found, changed: deleted, action: `deleted ${deleted} documents` };
    } catch (err) {
      throw new ErasureStoreError(
        `OpenSearch ${this.index}: could not delete the documents (${statusOf(err) ?? 'no answer'})`,
        {
          cause: err,
        },
      );
    }
  }
}
