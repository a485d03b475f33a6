import {
  AlreadyExistsException,
  CreateConfigurationSetCommand,
  CreateConfigurationSetEventDestinationCommand,
  CreateTenantCommand,
  CreateTenantResourceAssociationCommand,
  type EventDestinationDefinition,
  GetTenantCommand,
  type SESv2Client,
  UpdateConfigurationSetEventDestinationCommand,
  UpdateReputationEntityPolicyCommand,
} from '@aws-sdk/client-sesv2';
import { describeError } from '../lib/errors';
import { POLICIES } from '../tenants/policy';
import { InvalidTenantError, OnboardingError } from './errors';
import type { TenantProfile } from './ports';
import { normaliseDomains, type TenantRegistry, validateTenantId } from './registry';

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

/** The event destination onboarding creates on each tenant's configuration set. */
export const LAKE_DESTINATION = 'lake-firehose';
/** The optional EventBridge destination (AWS: the rule that feeds the reputation and push consumers' stream). */
export const LIVE_DESTINATION = 'live-eventbridge';
/** The optional destination to the search stream (Firehose to OpenSearch Serverless). */
export const SEARCH_DESTINATION = 'search-firehose';

/** SES's managed reputation policies (aws-facts §2.2): sesflow's policy of the same name is applied to the SES tenant. */
const SES_POLICIES = new Set(['standard', 'strict']);

export interface OnboardTenantInput {
  tenantId: string;
  sendingDomains: readonly string[];
  /** Reputation policy (enrich/reputation/policy.ts): `standard` unless said. */
  policy?: string;
  /** Default `<tenantId>-default`. */
  configurationSet?: string;
  /** The Firehose delivery stream of the lake: an ARN, or a name in the SES tenant's account and region. */
  deliveryStream: string;
  /** The role SES assumes to write to Firehose; default `arn:aws:iam::<account>:role/sesflow-ses-firehose`. */
  firehoseRoleArn?: string;
  /** Also publish every event to EventBridge: `default` (the only bus SES publishes to) or the bus's ARN. */
  eventBus?: string;
  /** Also publish every event to this Firehose stream (the search stream): an ARN or a name. */
  searchStream?: string;
  /** Who onboards (audit). */
  actor?: string;
}

export interface OnboardingResult {
  profile: TenantProfile;
  tenantArn: string;
  /** What this run created (false: it was there already). */
  created: {
    sesTenant: boolean;
    configurationSet: boolean;
    eventDestination: boolean;
    associations: number;
    profile: boolean;
  };
}

/** Runs an SES call; AlreadyExists means done before (returns false). Other failures name the step. */
async function step(what: string, run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (err) {
    if (err instanceof AlreadyExistsException || (err instanceof Error && err.name === 'AlreadyExistsException')) {
      return false;
    }
    throw new OnboardingError(`onboarding could not ${what}: ${describeError(err)}`, { cause: err });
  }
}

/** `arn:aws:ses:<region>:<account>:tenant/<name>/<id>` -> region and account. */
function arnParts(arn: string): { region: string; account: string } {
  const [, , , region, account] = arn.split(':');
  if (!region || !account) throw new OnboardingError(`SES returned a tenant ARN without region or account: ${arn}`);
  return { region, account };
}

/** The lake's event destination: every event type to the Firehose stream. */
export function lakeDestination(deliveryStreamArn: string, roleArn: string): EventDestinationDefinition {
  return {
    Enabled: true,
    MatchingEventTypes: [...ALL_EVENT_TYPES],
    KinesisFirehoseDestination: { DeliveryStreamArn: deliveryStreamArn, IamRoleArn: roleArn },
  };
}

/** Every event type to EventBridge (SES publishes to the account's default bus only). */
export function eventBridgeDestination(eventBusArn: string): EventDestinationDefinition {
  return {
    Enabled: true,
    MatchingEventTypes: [...ALL_EVENT_TYPES],
    EventBridgeDestination: { EventBusArn: eventBusArn },
  };
}

export interface SesTenantSetup {
  /** The SES tenant's name (sesflow names it as the tenant). */
  tenantName: string;
  configurationSet: string;
  /** The Firehose delivery stream of the lake: an ARN, or a name in the SES tenant's account and region. */
  deliveryStream: string;
  /** The role SES assumes to write to Firehose; default `arn:aws:iam::<account>:role/sesflow-ses-firehose`. */
  firehoseRoleArn?: string;
  /** Also an EventBridge destination: `default` or the default bus's ARN (see {@link OnboardTenantInput.eventBus}). */
  eventBus?: string;
  /** Also a Firehose destination to the search stream: an ARN or a name. */
  searchStream?: string;
  /** SES's managed reputation policy to apply when it has one of this name (`standard`, `strict`). */
  policy?: string;
  /** Domains whose SES identities are associated with the tenant (none: only the configuration set). */
  sendingDomains?: readonly string[];
}

export interface SesTenantSetupResult {
  tenantArn: string;
  created: { sesTenant: boolean; configurationSet: boolean; eventDestination: boolean; associations: number };
}

/**
 * The SES side of onboarding, idempotently (a second run finds everything in place and changes nothing):
 * 1. the SES tenant, with SES's reputation policy of the same name when there is one;
 * 2. the configuration set and its event destinations: every event type to the lake's Firehose stream, and when
 *    asked to EventBridge (the live path in AWS) and to the search stream (an existing destination is reset to its
 *    definition);
 * 3. the tenant's resource associations: the configuration set, and each sending domain's identity (SES sends
 *    through a tenant only when every resource it uses is associated: aws-facts §2.1).
 * Region and account come from the tenant's ARN, so nothing about the account needs configuring.
 */
export async function setUpSesTenant(ses: SESv2Client, setup: SesTenantSetup): Promise<SesTenantSetupResult> {
  const { tenantName, configurationSet } = setup;
  const sesTenant = await step(`create the SES tenant ${tenantName}`, () =>
    ses.send(new CreateTenantCommand({ TenantName: tenantName, Tags: [{ Key: 'sesflow:tenant', Value: tenantName }] })),
  );
  let tenantArn = '';
  await step(`read the SES tenant ${tenantName}`, async () => {
    const out = await ses.send(new GetTenantCommand({ TenantName: tenantName }));
    tenantArn = out.Tenant?.TenantArn ?? '';
  });
  if (!tenantArn) throw new OnboardingError(`SES tenant ${tenantName} has no ARN`);
  const { region, account } = arnParts(tenantArn);
  if (setup.policy && SES_POLICIES.has(setup.policy)) {
    await step(`set the reputation policy of ${tenantName}`, () =>
      ses.send(
        new UpdateReputationEntityPolicyCommand({
          ReputationEntityType: 'RESOURCE',
          ReputationEntityReference: tenantArn,
          ReputationEntityPolicy: `arn:aws:ses:${region}:aws:reputation-policy/${setup.policy}`,
        }),
      ),
    );
  }

  const streamArn = setup.deliveryStream.startsWith('arn:')
    ? setup.deliveryStream
    : `arn:aws:firehose:${region}:${account}:deliverystream/${setup.deliveryStream}`;
  const roleArn = setup.firehoseRoleArn ?? `arn:aws:iam::${account}:role/sesflow-ses-firehose`;
  const configurationSetCreated = await step(`create the configuration set ${configurationSet}`, () =>
    ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: configurationSet })),
  );
  const firehoseArn = (stream: string) =>
    stream.startsWith('arn:') ? stream : `arn:aws:firehose:${region}:${account}:deliverystream/${stream}`;
  const destinations: [string, EventDestinationDefinition][] = [
    [LAKE_DESTINATION, lakeDestination(streamArn, roleArn)],
  ];
  if (setup.eventBus) {
    const bus = setup.eventBus === 'default' ? `arn:aws:events:${region}:${account}:event-bus/default` : setup.eventBus;
    destinations.push([LIVE_DESTINATION, eventBridgeDestination(bus)]);
  }
  if (setup.searchStream)
    destinations.push([SEARCH_DESTINATION, lakeDestination(firehoseArn(setup.searchStream), roleArn)]);
  let eventDestination = false;
  for (const [name, destination] of destinations) {
    const created = await step(`add the event destination ${name} of ${configurationSet}`, () =>
      ses.send(
        new CreateConfigurationSetEventDestinationCommand({
          ConfigurationSetName: configurationSet,
          EventDestinationName: name,
          EventDestination: destination,
        }),
      ),
    );
    if (name === LAKE_DESTINATION) eventDestination = created;
    if (!created) {
      // There already: make it the definition above (same target, every event type, enabled).
      await step(`update the event destination ${name} of ${configurationSet}`, () =>
        ses.send(
          new UpdateConfigurationSetEventDestinationCommand({
            ConfigurationSetName: configurationSet,
            EventDestinationName: name,
            EventDestination: destination,
          }),
        ),
      );
    }
  }

  const resources = [
    `arn:aws:ses:${region}:${account}:configuration-set/${configurationSet}`,
    ...(setup.sendingDomains ?? []).map((d) => `arn:aws:ses:${region}:${account}:identity/${d}`),
  ];
  let associations = 0;
  for (const arn of resources) {
    const what = arn.includes(':identity/')
      ? `associate the identity ${arn.slice(arn.indexOf(':identity/') + 10)} with ${tenantName} (is the domain verified in SES?)`
      : `associate ${configurationSet} with ${tenantName}`;
    const created = await step(what, () =>
      ses.send(new CreateTenantResourceAssociationCommand({ TenantName: tenantName, ResourceArn: arn })),
    );
    if (created) associations++;
  }
  return {
    tenantArn,
    created: { sesTenant, configurationSet: configurationSetCreated, eventDestination, associations },
  };
}

/**
 * Onboards a tenant end to end, idempotently: its SES side ({@link setUpSesTenant}: the SES tenant named as the
 * sesflow tenant, since enrich/'s SES control finds it so), then the registry profile (`active` when new; an
 * existing status is kept) with an `onboard` audit entry when new. Input is checked before anything is created.
 */
export async function onboardTenant(
  deps: { ses: SESv2Client; registry: TenantRegistry },
  input: OnboardTenantInput,
): Promise<OnboardingResult> {
  validateTenantId(input.tenantId);
  const domains = normaliseDomains(input.sendingDomains);
  const policy = input.policy ?? 'standard';
  if (!POLICIES.has(policy)) {
    throw new InvalidTenantError(`unknown reputation policy ${policy} (known: ${[...POLICIES.keys()].join(', ')})`);
  }
  if (
    input.eventBus !== undefined &&
    !/^(default|arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/default)$/.test(input.eventBus)
  ) {
    throw new InvalidTenantError(
      `event bus "${input.eventBus.slice(0, 120)}" is not the default bus: SES publishes to the account's default bus only (give "default" or its ARN)`,
    );
  }
  const configurationSet = input.configurationSet ?? `${input.tenantId}-default`;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(configurationSet)) {
    throw new InvalidTenantError(`configuration set name "${configurationSet.slice(0, 70)}" is not valid`);
  }
  const ses = await setUpSesTenant(deps.ses, {
    tenantName: input.tenantId,
    configurationSet,
    deliveryStream: input.deliveryStream,
    firehoseRoleArn: input.firehoseRoleArn,
    eventBus: input.eventBus,
    searchStream: input.searchStream,
    policy,
    sendingDomains: domains,
  });
  const { profile, created } = await deps.registry.registerTenant(
    { tenantId: input.tenantId, policy, configurationSet, sesTenantName: input.tenantId, sendingDomains: domains },
    input.actor,
  );
  return { profile, tenantArn: ses.tenantArn, created: { ...ses.created, profile: created } };
}
