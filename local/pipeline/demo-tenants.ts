import {
  AlreadyExistsException,
  CreateEmailIdentityCommand,
  PutEmailIdentityMailFromAttributesCommand,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';
import { setUpSesTenant } from '../../send/onboarding';

/** Every event type SES publishes (aws-facts §1.1), as event destinations name them. */
export { ALL_EVENT_TYPES } from '../../send/onboarding';

/**
 * Sets up one demo tenant in SES, idempotently: its configuration set with a Firehose event destination for every
 * event type, the SES tenant, and the association between them. The SES side of the send/ area's onboarding
 * (`setUpSesTenant`), without a registry profile.
 */
export async function onboardDemoTenant(
  ses: SESv2Client,
  t: { tenant: string; configurationSet: string; deliveryStreamArn: string; accountId: string; region: string },
): Promise<void> {
  await setUpSesTenant(ses, {
    tenantName: t.tenant,
    configurationSet: t.configurationSet,
    deliveryStream: t.deliveryStreamArn,
    firehoseRoleArn: `arn:aws:iam::${t.accountId}:role/sesflow-ses-firehose`,
  });
}

/**
 * Creates a demo tenant's domain identity in SES with its custom MAIL FROM domain, idempotently (what a tenant does
 * in the SES console before onboarding).
 */
export async function setUpDemoIdentity(ses: SESv2Client, domain: string, mailFromDomain: string): Promise<void> {
  try {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
  } catch (err) {
    if (!(err instanceof AlreadyExistsException)) throw err;
  }
  await ses.send(
    new PutEmailIdentityMailFromAttributesCommand({
      EmailIdentity: domain,
      MailFromDomain: mailFromDomain,
      BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
    }),
  );
}
