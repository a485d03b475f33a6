import {
  GetAccountCommand,
  GetEmailIdentityCommand,
  GetReputationEntityCommand,
  GetTenantCommand,
  NotFoundException,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';
import type { IdentityFacts } from './evaluator';
import type { AwsVerdictSource, IdentitySource } from './ports';

/** SESv2 GetEmailIdentity: verification, DKIM signing and status, custom MAIL FROM and its status. */
export class SesV2IdentitySource implements IdentitySource {
  constructor(private readonly ses: SESv2Client) {}

  async identity(domain: string): Promise<IdentityFacts | null> {
    try {
      const out = await this.ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
      return {
        verifiedForSending: out.VerifiedForSendingStatus === true,
        dkim: {
          signingEnabled: out.DkimAttributes?.SigningEnabled === true,
          status: out.DkimAttributes?.Status ?? null,
          tokens: out.DkimAttributes?.Tokens ?? [],
          origin: out.DkimAttributes?.SigningAttributesOrigin ?? null,
        },
        mailFrom: {
          // SES answers an empty MailFromDomain when the identity uses its own (amazonses.com).
          domain: out.MailFromAttributes?.MailFromDomain || null,
          status: out.MailFromAttributes?.MailFromDomainStatus ?? null,
        },
      };
    } catch (err) {
      if (err instanceof NotFoundException || (err as Error).name === 'NotFoundException') return null;
      throw err;
    }
  }
}

/**
 * SES's verdict on a tenant: the account's enforcement status when it is not HEALTHY (PROBATION, SHUTDOWN: it
 * outranks anything about one tenant), else the tenant's AWS-managed sending status (ENABLED, DISABLED, REINSTATED).
 */
export class SesV2AwsVerdictSource implements AwsVerdictSource {
  constructor(private readonly ses: SESv2Client) {}

  async verdict(sesTenantName: string): Promise<string | null> {
    const [account, tenant] = await Promise.all([
      this.ses.send(new GetAccountCommand({})),
      this.ses.send(new GetTenantCommand({ TenantName: sesTenantName })),
    ]);
    const enforcement = account.EnforcementStatus ?? null;
    if (enforcement && enforcement !== 'HEALTHY') return `account ${enforcement}`;
    const arn = tenant.Tenant?.TenantArn;
    if (!arn) return enforcement;
    const entity = await this.ses.send(
      new GetReputationEntityCommand({ ReputationEntityType: 'RESOURCE', ReputationEntityReference: arn }),
    );
    const aws = entity.ReputationEntity?.AwsSesManagedStatus?.Status;
    if (aws && aws !== 'ENABLED') return `tenant ${aws}`;
    return enforcement ?? aws ?? null;
  }
}
