import {
  GetSuppressedDestinationCommand,
  NotFoundException,
  PutSuppressedDestinationCommand,
  paginateListSuppressedDestinations,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';

/** Which recipients must not be sent to. */
export interface SuppressionList {
  /** The addresses of `addresses` on the account's or the tenant's suppression list. */
  suppressed(tenantName: string, addresses: readonly string[]): Promise<Set<string>>;
}

/**
 * The account and tenant suppression lists of SES (ListSuppressedDestinations), kept in memory: listed in full once,
 * then every `ttlMs` only what was added since the last listing (`StartDate`, with a margin for clock skew), and in
 * full again every `fullMs` to forget addresses removed from a list. So a large list costs one full listing per
 * container and period, and a minute's additions per refresh, instead of a full listing a minute or a
 * GetSuppressedDestination per recipient (SES meters its API per account). An address is skipped when it is on
 * either list, whatever the tenant's suppression scope (aws-facts §2.4: SES would check one of them; skipping on
 * both is the safe side). Addresses compare case-insensitively for the same reason. An address suppressed after the
 * last listing is still sent: SES then drops it itself (a bounce of subtype OnAccountSuppressionList /
 * OnTenantSuppressionList, which does not count toward the bounce rate).
 */
export class SesSuppressionList implements SuppressionList {
  private readonly lists = new Map<string, SuppressionCacheEntry>();

  constructor(
    private readonly ses: SESv2Client,
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly fullMs = 3_600_000,
    /** How far back an incremental listing starts before the previous one (SES's clock is not ours). */
    private readonly overlapMs = 300_000,
  ) {}

  private async listSince(tenantName: string | undefined, since: number | null, into: Set<string>): Promise<void> {
    for await (const page of paginateListSuppressedDestinations(
      { client: this.ses, pageSize: 1000 },
      {
        ...(tenantName ? { TenantName: tenantName } : {}),
        ...(since !== null ? { StartDate: new Date(since) } : {}),
      },
    )) {
      for (const d of page.SuppressedDestinationSummaries ?? []) {
        if (d.EmailAddress) into.add(d.EmailAddress.toLowerCase());
      }
    }
  }

  private list(tenantName: string | undefined): Promise<Set<string>> {
    const key = tenantName ?? '';
    const now = this.now();
    const entry = this.lists.get(key);
    if (entry && now - entry.refreshedAt < this.ttlMs) return entry.addresses;
    const full = !entry || now - entry.fullAt >= this.fullMs;
    const previous = entry;
    const addresses = (async () => {
      if (full) {
        const out = new Set<string>();
        await this.listSince(tenantName, null, out);
        return out;
      }
      // Additions since the last listing, into the set in use (a set only grows between full listings).
      const out = await previous!.addresses;
      await this.listSince(tenantName, previous!.refreshedAt - this.overlapMs, out);
      return out;
    })();
    this.lists.set(key, { refreshedAt: now, fullAt: full ? now : entry!.fullAt, addresses });
    // A failed listing is not kept: the next send lists again (in full if the previous state is gone).
    addresses.catch(() => {
      if (previous) this.lists.set(key, previous);
      else this.lists.delete(key);
    });
    return addresses;
  }

  /** When the address was put on the tenant's list (GetSuppressedDestination: one call); null when it is not on it. */
  async listedAt(tenantName: string, address: string): Promise<Date | null> {
    try {
      const out = await this.ses.send(
        new GetSuppressedDestinationCommand({ EmailAddress: address, TenantName: tenantName }),
      );
      return out.SuppressedDestination?.LastUpdateTime ?? new Date();
    } catch (err) {
      if (err instanceof NotFoundException || (err as Error).name === 'NotFoundException') return null;
      throw err;
    }
  }

  /**
   * Puts the address on the tenant's list (PutSuppressedDestination is an upsert: doing it twice is harmless) and into
   * the listing kept here, so this process skips it from the next send on, not from the next refresh. SES knows two
   * reasons only; an unsubscribe is the recipient saying no, which is COMPLAINT.
   */
  async suppress(tenantName: string, address: string): Promise<void> {
    await this.ses.send(
      new PutSuppressedDestinationCommand({ EmailAddress: address, Reason: 'COMPLAINT', TenantName: tenantName }),
    );
    const entry = this.lists.get(tenantName);
    if (entry) (await entry.addresses.catch(() => new Set<string>())).add(address.toLowerCase());
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

interface SuppressionCacheEntry {
  /** When the last listing (full or incremental) started. */
  refreshedAt: number;
  /** When the last full listing started. */
  fullAt: number;
  addresses: Promise<Set<string>>;
}

/** No suppression list (unit tests). */
export const NO_SUPPRESSION: SuppressionList = { suppressed: async () => new Set() };
