import {
  GetAccountCommand,
  GetReputationEntityCommand,
  GetTenantCommand,
  ListTenantResourcesCommand,
  PutConfigurationSetSendingOptionsCommand,
  PutSuppressedDestinationCommand,
  type SESv2Client,
  UpdateReputationEntityCustomerManagedStatusCommand,
} from '@aws-sdk/client-sesv2';
import { ReputationError } from './errors';
import type { SesTenantControl, SesVerdict } from './ports';

/** `arn:aws:ses:<region>:<account>:configuration-set/<name>` -> `<name>`. */
export const configurationSetName = (arn: string): string => arn.slice(arn.indexOf('configuration-set/') + 18);

/**
 * The SES side through the real SESv2 client (the SES simulator locally). The SES tenant is named as the sesflow
 * tenant (send/ creates it so). Pausing sets the tenant's reputation entity customer-managed status (the aggregate is
 * DISABLED if either status is: aws-facts §2.2) and turns off sending on each of its configuration sets (§2.3):
 * both, since a send without TenantName is gated only by its configuration set. Every call is idempotent.
 */
export class SesV2TenantControl implements SesTenantControl {
  private readonly arns = new Map<string, string>();

  constructor(private readonly ses: SESv2Client) {}

  private async tenantArn(tenantName: string): Promise<string> {
    const known = this.arns.get(tenantName);
    if (known) return known;
    const out = await this.ses.send(new GetTenantCommand({ TenantName: tenantName }));
    const arn = out.Tenant?.TenantArn;
    if (!arn) throw new ReputationError(`SES tenant ${tenantName} has no ARN`);
    this.arns.set(tenantName, arn);
    return arn;
  }

  private async configurationSets(tenantName: string): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.ses.send(
        new ListTenantResourcesCommand({
          TenantName: tenantName,
          Filter: { RESOURCE_TYPE: 'CONFIGURATION_SET' },
          NextToken: token,
        }),
      );
      for (const r of page.TenantResources ?? []) if (r.ResourceArn) names.push(configurationSetName(r.ResourceArn));
      token = page.NextToken;
    } while (token);
    return names;
  }

  async setSending(tenantName: string, enabled: boolean): Promise<void> {
    await this.ses.send(
      new UpdateReputationEntityCustomerManagedStatusCommand({
        ReputationEntityType: 'RESOURCE',
        ReputationEntityReference: await this.tenantArn(tenantName),
        SendingStatus: enabled ? 'ENABLED' : 'DISABLED',
      }),
    );
    for (const name of await this.configurationSets(tenantName)) {
      await this.ses.send(
        new PutConfigurationSetSendingOptionsCommand({ ConfigurationSetName: name, SendingEnabled: enabled }),
      );
    }
  }

  async suppress(tenantName: string, address: string, reason: 'BOUNCE' | 'COMPLAINT'): Promise<void> {
    await this.ses.send(
      new PutSuppressedDestinationCommand({ EmailAddress: address, Reason: reason, TenantName: tenantName }),
    );
  }

  async verdict(tenantName: string): Promise<SesVerdict> {
    const [entity, account] = await Promise.all([
      this.tenantArn(tenantName).then((arn) =>
        this.ses.send(
          new GetReputationEntityCommand({ ReputationEntityType: 'RESOURCE', ReputationEntityReference: arn }),
        ),
      ),
      this.ses.send(new GetAccountCommand({})),
    ]);
    const e = entity.ReputationEntity;
    return {
      tenantArn: e?.ReputationEntityReference ?? null,
      awsManagedStatus: e?.AwsSesManagedStatus?.Status ?? null,
      awsManagedCause: e?.AwsSesManagedStatus?.Cause ?? null,
      customerManagedStatus: e?.CustomerManagedStatus?.Status ?? null,
      sendingStatusAggregate: e?.SendingStatusAggregate ?? null,
      reputationImpact: e?.ReputationImpact ?? null,
      accountEnforcementStatus: account.EnforcementStatus ?? null,
      accountSendingEnabled: account.SendingEnabled ?? null,
    };
  }
}
