import {
  AlreadyExistsException,
  CreateConfigurationSetCommand,
  CreateConfigurationSetEventDestinationCommand,
  CreateTenantCommand,
  CreateTenantResourceAssociationCommand,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';

/** Every event type SES publishes (aws-facts §1.1), as event destinations name them. */
export const ALL_EVENT_TYPES = [
  'SEND',
  'REJECT',
  'BOUNCE',
  'COMPLAINT',
  'DELIVERY',
  'OPEN',
  'CLICK',
  'RENDERING_FAILURE',
  'DELIVERY_DELAY',
  'SUBSCRIPTION',
] as const;

async function ignoreExisting(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof AlreadyExistsException)) throw err;
  }
}

/**
 * Sets up one demo tenant in SES, idempotently: its configuration set with a Firehose event destination for every
 * event type, the SES tenant, and the association between them. (The send/ area's onboarding does the same for
 * real tenants, with the registry.)
 */
export async function onboardDemoTenant(
  ses: SESv2Client,
  t: { tenant: string; configurationSet: string; deliveryStreamArn: string; accountId: string; region: string },
): Promise<void> {
  await ignoreExisting(ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: t.configurationSet })));
  await ignoreExisting(
    ses.send(
      new CreateConfigurationSetEventDestinationCommand({
        ConfigurationSetName: t.configurationSet,
        EventDestinationName: 'lake-firehose',
        EventDestination: {
          Enabled: true,
          MatchingEventTypes: [...ALL_EVENT_TYPES],
          KinesisFirehoseDestination: {
            DeliveryStreamArn: t.deliveryStreamArn,
            IamRoleArn: `arn:aws:iam::${t.accountId}:role/sesflow-ses-firehose`,
          },
        },
      }),
    ),
  );
  await ignoreExisting(ses.send(new CreateTenantCommand({ TenantName: t.tenant })));
  await ignoreExisting(
    ses.send(
      new CreateTenantResourceAssociationCommand({
        TenantName: t.tenant,
        ResourceArn: `arn:aws:ses:${t.region}:${t.accountId}:configuration-set/${t.configurationSet}`,
      }),
    ),
  );
}
