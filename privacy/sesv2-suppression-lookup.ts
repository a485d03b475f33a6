import { GetSuppressedDestinationCommand, NotFoundException, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { SuppressionLookup } from './suppression-note';

/** The suppression lists of SES v2 (GetSuppressedDestination, for the account and, when given, the tenant). */
export class SesV2SuppressionLookup implements SuppressionLookup {
  constructor(private readonly ses: SESv2Client) {}

  private async on(address: string, tenant?: string): Promise<boolean> {
    try {
      await this.ses.send(
        new GetSuppressedDestinationCommand({ EmailAddress: address, ...(tenant ? { TenantName: tenant } : {}) }),
      );
      return true;
    } catch (err) {
      if (err instanceof NotFoundException) return false;
      throw err;
    }
  }

  async listsHolding(address: string, tenant?: string): Promise<string[]> {
    const lists: string[] = [];
    if (await this.on(address)) lists.push('the account list');
    if (tenant && (await this.on(address, tenant))) lists.push(`tenant ${tenant}'s list`);
    return lists;
  }
}
