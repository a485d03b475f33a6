import { paginateListSuppressedDestinations, type SESv2Client } from '@aws-sdk/client-sesv2';

/** Which recipients must not be sent to. */
export interface SuppressionList {
  /** The addresses of `addresses` on the account's or the tenant's suppression list. */
  suppressed(tenantName: string, addresses: readonly string[]): Promise<Set<string>>;
}

/**
 * The account and tenant suppression lists of SES (ListSuppressedDestinations), each cached for `ttlMs`: one listing
 * per list and period instead of a GetSuppressedDestination per recipient (SES meters its API per account). An
 * address is skipped when it is on either list, whatever the tenant's suppression scope (aws-facts §2.4: SES would
 * check one of them; skipping on both is the safe side). Addresses compare case-insensitively for the same reason.
 * An address suppressed after the last listing is still sent: SES then drops it itself (a bounce of subtype
 * OnAccountSuppressionList / OnTenantSuppressionList, which does not count toward the bounce rate).
 */
export class SesSuppressionList implements SuppressionList {
  private readonly lists = new Map<string, { at: number; addresses: Promise<Set<string>> }>();

  constructor(
    private readonly ses: SESv2Client,
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  private list(tenantName: string | undefined): Promise<Set<string>> {
    const key = tenantName ?? '';
    const cached = this.lists.get(key);
    if (cached && this.now() - cached.at < this.ttlMs) return cached.addresses;
    const addresses = (async () => {
      const out = new Set<string>();
      for await (const page of paginateListSuppressedDestinations(
        { client: this.ses, pageSize: 1000 },
        tenantName ? { TenantName: tenantName } : {},
      )) {
        for (const s of page.SuppressedDestinationSummaries ?? []) {
          if (s.EmailAddress) out.add(s.EmailAddress.toLowerCase());
        }
      }
      return out;
    })();
    this.lists.set(key, { at: this.now(), addresses });
    // A failed listing is not cached: the next send tries again.
    addresses.catch(() => this.lists.delete(key));
    return addresses;
  }

  async suppressed(tenantName: string, addresses: readonly string[]): Promise<Set<string>> {
    const [account, tenant] = await Promise.all([this.list(undefined), this.list(tenantName)]);
    const out = new Set<string>();
    for (const a of addresses) {
      const k = a.toLowerCase();
      if (account.has(k) || tenant.has(k)) out.add(a);
    }
    return out;
  }
}

/** No suppression list (unit tests). */
export const NO_SUPPRESSION: SuppressionList = { suppressed: async () => new Set() };
