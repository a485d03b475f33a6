import type { ErasureContext, ErasureTarget, StoreOutcome } from './ports';

/** How the suppression lists answer for one address: on which lists it is (account, tenant). */
export interface SuppressionLookup {
  listsHolding(address: string, tenant?: string): Promise<string[]>;
}

/**
 * The SES suppression lists (account and tenant): kept, deliberately. An address is on them because mail to it
 * bounced or its owner complained; deleting it would let the next campaign mail the person again, against their own
 * interest and their objection (GDPR art. 17(3)(b)/(e) and art. 21: what is needed to honour an objection may be
 * kept; CCPA §1798.105(d) likewise). SES keeps only the address, the reason and the time there, and uses them for
 * nothing else. The report says on which lists the address is, so the officer can tell the person.
 */
export class SuppressionNote implements ErasureTarget {
  readonly store = 'SES suppression lists';

  constructor(private readonly lookup: SuppressionLookup | null) {}

  async erase(ctx: ErasureContext): Promise<StoreOutcome> {
    const why =
      'kept on purpose: suppression is the person’s own protection from further mail (GDPR art. 17(3), art. 21; CCPA §1798.105(d))';
    if (!this.lookup)
      return { store: this.store, found: 0, changed: 0, action: why, skipped: 'not looked up here (no SES endpoint)' };
    const lists = await this.lookup.listsHolding(ctx.request.address, ctx.request.tenant);
    return {
      store: this.store,
      found: lists.length,
      changed: 0,
      action: lists.length ? `on ${lists.join(', ')}: ${why}` : `not on any list; ${why}`,
      skipped: 'kept by law (see action)',
    };
  }
}
