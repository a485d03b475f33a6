import { TimeHeap } from '../min-heap';
import {
  createTrafficModel,
  domainOf,
  type MailContext,
  type Outcome,
  SeededRandom,
  type SenderBehaviour,
  SesRecordFactory,
  SIMULATOR_DOMAIN,
  sesId,
  simulateOutcomes,
  suppressionBounce,
  type TrafficModel,
} from '../traffic-model';
import { SesApiError } from './errors';
import type { EventSink, EventSinkResolver, PublishedRecord } from './event-sinks';
import { EmailIdentities, type IdentityStatus } from './identities';
import {
  type ConfigurationSetState,
  type EventDestination,
  emptyState,
  type SimulatorState,
  type SuppressionEntry,
  type TenantState,
} from './state';

/** Options of the simulated SES account. */
export interface SesSimulatorOptions {
  accountId?: string;
  region?: string;
  /** GetAccount SendQuota.MaxSendRate: recipients per second; more answers TooManyRequestsException. Default 50. */
  maxSendRate?: number;
  /** GetAccount SendQuota.Max24HourSend. Default 200,000. */
  max24HourSend?: number;
  /** Seed of the outcome model and of message ids. */
  seed?: number;
  model?: TrafficModel;
  /**
   * Wall-clock delays are model delays times this factor (default 1: an open 50 minutes after delivery really takes
   * 50 minutes). Tests use a small factor. Records are stamped with the time they are published.
   */
  timeFactor?: number;
  /** Where each configuration set event destination publishes. */
  sinks?: EventSinkResolver;
  /** How a message's sender behaves (a demo bad sender), from its SES tenant and tags. */
  senderBehaviour?: (ctx: {
    tenantName?: string;
    tags: Readonly<Record<string, string>>;
  }) => SenderBehaviour | undefined;
  /** How SES sees each domain identity's DNS set-up (DKIM, MAIL FROM); default: everything verified. */
  identityStatus?: (domain: string) => IdentityStatus | undefined;
  /** How many accepted messages are kept for inspection (`acceptedMessages()`); default 1000. */
  keepMessages?: number;
  /** Initial state (e.g. loaded from disk). */
  state?: SimulatorState;
  /** Called after every change of state (the server saves it). */
  onStateChange?: () => void;
  /** Called when publishing to a sink failed for good: the count and a reason (never the records). */
  onPublishError?: (count: number, reason: string) => void;
  now?: () => number;
}

/** EventType string in a record → the `MatchingEventTypes` enum value of an event destination. */
const MATCHING_TYPE: Record<string, string> = {
  Send: 'SEND',
  Delivery: 'DELIVERY',
  Bounce: 'BOUNCE',
  Complaint: 'COMPLAINT',
  Open: 'OPEN',
  Click: 'CLICK',
  Reject: 'REJECT',
  'Rendering Failure': 'RENDERING_FAILURE',
  DeliveryDelay: 'DELIVERY_DELAY',
  Subscription: 'SUBSCRIPTION',
};

/** SES: names and values of message tags: ASCII letters, digits, `_` and `-`, up to 256 characters (aws-facts §1.2). */
const TAG_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;
/** A pragmatic address check: one `@`, something on both sides, no spaces or angle brackets. */
const ADDRESS_PATTERN = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const MAX_RECIPIENTS = 50;

export interface MessageTag {
  Name: string;
  Value: string;
}

/** A validated send request, one message (SendEmail, or one entry of SendBulkEmail). */
export interface OutgoingMessage {
  from: string;
  to: readonly string[];
  cc: readonly string[];
  bcc: readonly string[];
  subject: string;
  tags: readonly MessageTag[];
  configurationSetName?: string;
  tenantName?: string;
  operation: 'SendEmail' | 'SendBulkEmail';
  sourceIp: string;
  callerIdentity: string;
  /** The raw message carries a virus (the EICAR test string): SES rejects it after accepting it. */
  containsVirus?: boolean;
  /** Headers the request added (SendEmail `Content.Simple.Headers`, SendBulkEmail's default and replacement ones). */
  headers?: readonly { Name: string; Value: string }[];
}

/** An accepted message as the simulator keeps it for inspection: what SES would have put on the wire. */
export interface AcceptedMessage {
  messageId: string;
  sentAt: number;
  from: string;
  to: readonly string[];
  subject: string;
  tags: readonly MessageTag[];
  headers: readonly { Name: string; Value: string }[];
  tenantName?: string;
}

/** What a send touches at request level (SendBulkEmail checks these once for every entry). */
interface SendContext {
  configurationSet?: ConfigurationSetState;
  tenant?: TenantState;
}

/** Per-entry statuses of SendBulkEmail (aws-facts §2.1). */
export type BulkStatus =
  | 'SUCCESS'
  | 'MESSAGE_REJECTED'
  | 'CONFIGURATION_SET_NOT_FOUND'
  | 'ACCOUNT_THROTTLED'
  | 'ACCOUNT_DAILY_QUOTA_EXCEEDED'
  | 'ACCOUNT_SENDING_PAUSED'
  | 'CONFIGURATION_SET_SENDING_PAUSED'
  | 'INVALID_PARAMETER';

/** A scheduled event as plain data (see {@link SesSimulator.exportPending}). */
export interface PendingEvent {
  at: number;
  mail: MailContext;
  /** null: the Send record (or the Reject record when `reject`). */
  outcome: Outcome | null;
  reject?: boolean;
  destinations: readonly EventDestination[];
  tenantName?: string;
}

interface Pending {
  at: number;
  seq: number;
  factory: SesRecordFactory;
  outcome: Outcome | null;
  reject?: boolean;
  destinations: readonly EventDestination[];
  tenantName?: string;
}

/**
 * The SES account the simulator plays: configuration sets and their event destinations, tenants and their
 * resources, reputation entity statuses, suppression lists, the send quota; and the events of every accepted
 * message, published after the model's delays. Pure request → response methods; the HTTP layer is in server.ts.
 */
export class SesSimulator {
  readonly state: SimulatorState;
  readonly accountId: string;
  readonly region: string;
  maxSendRate: number;
  max24HourSend: number;
  private readonly model: TrafficModel;
  private readonly rng: SeededRandom;
  private readonly timeFactor: number;
  private readonly now: () => number;
  private tokens: number;
  private tokensAt: number;
  private readonly sentTimes: number[] = [];
  private readonly pending = new TimeHeap<Pending>();
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly buffers = new Map<EventSink, PublishedRecord[]>();
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly accepted: AcceptedMessage[] = [];
  /** The account's email identities (domains). */
  readonly identities: EmailIdentities;
  /** Counts for tests and the start banner. */
  readonly stats = { accepted: 0, published: 0, publishFailed: 0 };

  constructor(private readonly opts: SesSimulatorOptions = {}) {
    this.state = opts.state ?? emptyState();
    this.accountId = opts.accountId ?? '123456789012';
    this.region = opts.region ?? 'us-east-1';
    this.maxSendRate = opts.maxSendRate ?? 50;
    this.max24HourSend = opts.max24HourSend ?? 200_000;
    this.model = opts.model ?? createTrafficModel();
    this.rng = new SeededRandom(opts.seed ?? Date.now());
    this.timeFactor = opts.timeFactor ?? 1;
    this.now = opts.now ?? Date.now;
    this.tokens = this.maxSendRate;
    this.tokensAt = this.now();
    this.identities = new EmailIdentities(
      this.state,
      this.accountId,
      (domain) => opts.identityStatus?.(domain),
      this.now,
      () => this.changed(),
    );
  }

  /** The most recent accepted messages, newest last (the sender's headers included). */
  acceptedMessages(): readonly AcceptedMessage[] {
    return this.accepted;
  }

  private changed(): void {
    this.opts.onStateChange?.();
  }

  // ----- account ------------------------------------------------------------------------------------------------

  getAccount(): Record<string, unknown> {
    return {
      DedicatedIpAutoWarmupEnabled: false,
      EnforcementStatus: 'HEALTHY',
      ProductionAccessEnabled: true,
      SendingEnabled: this.state.accountSendingEnabled,
      SendQuota: {
        Max24HourSend: this.max24HourSend,
        MaxSendRate: this.maxSendRate,
        SentLast24Hours: this.sentLast24Hours(),
      },
      SuppressionAttributes: { SuppressedReasons: this.state.accountSuppressedReasons },
    };
  }

  putAccountSendingAttributes(enabled: boolean): void {
    this.state.accountSendingEnabled = enabled;
    this.changed();
  }

  private sentLast24Hours(): number {
    const since = this.now() - 24 * 3600_000;
    while (this.sentTimes.length > 0 && (this.sentTimes[0] ?? 0) < since) this.sentTimes.shift();
    return this.sentTimes.length;
  }

  /** Token bucket of MaxSendRate recipients per second, one second of burst. */
  private takeTokens(n: number): boolean {
    const now = this.now();
    this.tokens = Math.min(this.maxSendRate, this.tokens + ((now - this.tokensAt) / 1000) * this.maxSendRate);
    this.tokensAt = now;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  // ----- configuration sets -------------------------------------------------------------------------------------

  configurationSetArn(name: string): string {
    return `arn:aws:ses:${this.region}:${this.accountId}:configuration-set/${name}`;
  }

  createConfigurationSet(name: string, options: Record<string, unknown>): void {
    if (this.state.configurationSets[name]) {
      throw new SesApiError('AlreadyExistsException', `Configuration set <${name}> already exists.`);
    }
    const sending = options.SendingOptions as { SendingEnabled?: boolean } | undefined;
    const { SendingOptions: _s, SuppressionOptions, ConfigurationSetName: _n, ...rest } = options;
    this.state.configurationSets[name] = {
      name,
      createdAt: this.now(),
      sendingEnabled: sending?.SendingEnabled ?? true,
      options: rest,
      suppressionOptions: SuppressionOptions as ConfigurationSetState['suppressionOptions'],
      eventDestinations: [],
    };
    this.changed();
  }

  private configurationSet(name: string): ConfigurationSetState {
    const cs = this.state.configurationSets[name];
    if (!cs) throw new SesApiError('NotFoundException', `Configuration set <${name}> does not exist.`);
    return cs;
  }

  getConfigurationSet(name: string): Record<string, unknown> {
    const cs = this.configurationSet(name);
    return {
      ConfigurationSetName: cs.name,
      ...cs.options,
      SendingOptions: { SendingEnabled: cs.sendingEnabled },
      ...(cs.suppressionOptions ? { SuppressionOptions: cs.suppressionOptions } : {}),
    };
  }

  deleteConfigurationSet(name: string): void {
    this.configurationSet(name);
    delete this.state.configurationSets[name];
    const arn = this.configurationSetArn(name);
    for (const t of Object.values(this.state.tenants)) t.resources = t.resources.filter((r) => r.arn !== arn);
    this.changed();
  }

  listConfigurationSets(): string[] {
    return Object.keys(this.state.configurationSets).sort();
  }

  putConfigurationSetSendingOptions(name: string, enabled: boolean): void {
    this.configurationSet(name).sendingEnabled = enabled;
    this.changed();
  }

  createEventDestination(setName: string, destName: string, destination: EventDestination): void {
    const cs = this.configurationSet(setName);
    if (cs.eventDestinations.some((d) => d.name === destName)) {
      throw new SesApiError('AlreadyExistsException', `Event destination <${destName}> already exists.`);
    }
    cs.eventDestinations.push({ name: destName, destination });
    this.changed();
  }

  updateEventDestination(setName: string, destName: string, destination: EventDestination): void {
    const cs = this.configurationSet(setName);
    const d = cs.eventDestinations.find((x) => x.name === destName);
    if (!d) throw new SesApiError('NotFoundException', `Event destination <${destName}> does not exist.`);
    d.destination = destination;
    this.changed();
  }

  getEventDestinations(setName: string): Record<string, unknown>[] {
    return this.configurationSet(setName).eventDestinations.map((d) => ({
      Name: d.name,
      Enabled: d.destination.Enabled ?? false,
      ...d.destination,
    }));
  }

  deleteEventDestination(setName: string, destName: string): void {
    const cs = this.configurationSet(setName);
    const before = cs.eventDestinations.length;
    cs.eventDestinations = cs.eventDestinations.filter((d) => d.name !== destName);
    if (cs.eventDestinations.length === before) {
      throw new SesApiError('NotFoundException', `Event destination <${destName}> does not exist.`);
    }
    this.changed();
  }

  // ----- tenants and reputation entities ------------------------------------------------------------------------

  createTenant(
    name: string,
    tags: TenantState['tags'],
    suppressionAttributes?: TenantState['suppressionAttributes'],
  ): Record<string, unknown> {
    if (this.state.tenants[name]) throw new SesApiError('AlreadyExistsException', `Tenant <${name}> already exists.`);
    const id = `tn-${this.rng.hex(17)}`;
    const t: TenantState = {
      name,
      id,
      arn: `arn:aws:ses:${this.region}:${this.accountId}:tenant/${name}/${id}`,
      createdAt: this.now(),
      tags,
      suppressionAttributes,
      resources: [],
    };
    this.state.tenants[name] = t;
    this.changed();
    return this.tenantView(t);
  }

  private tenant(name: string): TenantState {
    const t = this.state.tenants[name];
    if (!t) throw new SesApiError('NotFoundException', `Tenant <${name}> does not exist.`);
    return t;
  }

  tenantView(t: TenantState): Record<string, unknown> {
    return {
      TenantName: t.name,
      TenantId: t.id,
      TenantArn: t.arn,
      CreatedTimestamp: t.createdAt / 1000,
      Tags: t.tags,
      SendingStatus: this.sendingStatusAggregate(t.arn),
      ...(t.suppressionAttributes ? { SuppressionAttributes: t.suppressionAttributes } : {}),
    };
  }

  getTenant(name: string): Record<string, unknown> {
    return this.tenantView(this.tenant(name));
  }

  listTenants(filter: Record<string, string> | undefined): Record<string, unknown>[] {
    return Object.values(this.state.tenants)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((t) => this.tenantView(t))
      .filter((t) => !filter?.SENDING_STATUS || t.SendingStatus === filter.SENDING_STATUS)
      .filter((t) => !filter?.TENANT_NAME_CONTAINS || String(t.TenantName).includes(filter.TENANT_NAME_CONTAINS))
      .map(({ Tags: _t, SuppressionAttributes: _s, ...info }) => info);
  }

  deleteTenant(name: string): void {
    const t = this.tenant(name);
    delete this.state.tenants[name];
    delete this.state.customerStatus[t.arn];
    delete this.state.suppression[`tenant:${name}`];
    this.changed();
  }

  createTenantResourceAssociation(tenantName: string, resourceArn: string): void {
    const t = this.tenant(tenantName);
    const type = resourceTypeOf(resourceArn);
    if (!type)
      throw new SesApiError('BadRequestException', `Resource ARN <${resourceArn}> is not a supported resource.`);
    if (type === 'CONFIGURATION_SET') this.configurationSet(resourceArn.slice(resourceArn.lastIndexOf('/') + 1));
    if (t.resources.some((r) => r.arn === resourceArn)) {
      throw new SesApiError(
        'AlreadyExistsException',
        `Resource <${resourceArn}> is already associated with the tenant.`,
      );
    }
    t.resources.push({ arn: resourceArn, type, associatedAt: this.now() });
    this.changed();
  }

  deleteTenantResourceAssociation(tenantName: string, resourceArn: string): void {
    const t = this.tenant(tenantName);
    const before = t.resources.length;
    t.resources = t.resources.filter((r) => r.arn !== resourceArn);
    if (t.resources.length === before) throw new SesApiError('NotFoundException', 'The association does not exist.');
    this.changed();
  }

  listTenantResources(tenantName: string, resourceType?: string): Record<string, unknown>[] {
    return this.tenant(tenantName)
      .resources.filter((r) => !resourceType || r.type === resourceType)
      .map((r) => ({ ResourceType: r.type, ResourceArn: r.arn }));
  }

  /** Known reputation entities: tenants and configuration sets, by ARN. */
  private requireEntity(reference: string): void {
    const known =
      Object.values(this.state.tenants).some((t) => t.arn === reference) ||
      Object.keys(this.state.configurationSets).some((n) => this.configurationSetArn(n) === reference);
    if (!known) throw new SesApiError('NotFoundException', `Reputation entity <${reference}> does not exist.`);
  }

  /** DISABLED if the customer-managed status is DISABLED (the AWS-managed status is always ENABLED here). */
  private sendingStatusAggregate(reference: string): string {
    const s = this.state.customerStatus[reference]?.status;
    return s === 'DISABLED' ? 'DISABLED' : s === 'REINSTATED' ? 'REINSTATED' : 'ENABLED';
  }

  getReputationEntity(type: string, reference: string): Record<string, unknown> {
    this.requireEntity(reference);
    const customer = this.state.customerStatus[reference];
    const created = Object.values(this.state.tenants).find((t) => t.arn === reference)?.createdAt ?? this.now();
    return {
      ReputationEntityReference: reference,
      ReputationEntityType: type,
      ReputationManagementPolicy:
        this.state.reputationPolicy[reference] ?? `arn:aws:ses:${this.region}:aws:reputation-policy/none`,
      CustomerManagedStatus: {
        Status: customer?.status ?? 'ENABLED',
        ...(customer?.cause ? { Cause: customer.cause } : {}),
        LastUpdatedTimestamp: (customer?.updatedAt ?? created) / 1000,
      },
      AwsSesManagedStatus: { Status: 'ENABLED', LastUpdatedTimestamp: created / 1000 },
      SendingStatusAggregate: this.sendingStatusAggregate(reference),
      ReputationImpact: 'LOW',
    };
  }

  updateReputationEntityCustomerManagedStatus(reference: string, status: string): void {
    this.requireEntity(reference);
    if (!['ENABLED', 'REINSTATED', 'DISABLED'].includes(status)) {
      throw new SesApiError('BadRequestException', `Invalid sending status <${status}>.`);
    }
    this.state.customerStatus[reference] = { status, updatedAt: this.now() };
    this.changed();
  }

  /** Reputation entities of every tenant and configuration set, filtered as ListReputationEntities filters. */
  listReputationEntities(filter: Record<string, string> | undefined): Record<string, unknown>[] {
    const refs = [
      ...Object.values(this.state.tenants).map((t) => t.arn),
      ...Object.keys(this.state.configurationSets).map((n) => this.configurationSetArn(n)),
    ].sort();
    return refs
      .map((ref) => this.getReputationEntity('RESOURCE', ref))
      .filter((e) => !filter?.ENTITY_TYPE || e.ReputationEntityType === filter.ENTITY_TYPE)
      .filter((e) => !filter?.REPUTATION_IMPACT || e.ReputationImpact === filter.REPUTATION_IMPACT)
      .filter((e) => !filter?.SENDING_STATUS || e.SendingStatusAggregate === filter.SENDING_STATUS)
      .filter(
        (e) =>
          !filter?.ENTITY_REFERENCE_PREFIX ||
          String(e.ReputationEntityReference).startsWith(filter.ENTITY_REFERENCE_PREFIX),
      );
  }

  /** Tenants a resource (e.g. a configuration set ARN) is associated with. */
  listResourceTenants(resourceArn: string): Record<string, unknown>[] {
    return Object.values(this.state.tenants).flatMap((t) =>
      t.resources
        .filter((r) => r.arn === resourceArn)
        .map((r) => ({
          TenantName: t.name,
          TenantId: t.id,
          ResourceArn: r.arn,
          AssociatedTimestamp: r.associatedAt / 1000,
        })),
    );
  }

  putTenantSuppressionAttributes(tenantName: string, reasons?: string[], scope?: string): void {
    this.tenant(tenantName).suppressionAttributes = { SuppressedReasons: reasons, SuppressionScope: scope };
    this.changed();
  }

  putConfigurationSetSuppressionOptions(name: string, options: Record<string, unknown>): void {
    this.configurationSet(name).suppressionOptions = options as ConfigurationSetState['suppressionOptions'];
    this.changed();
  }

  updateReputationEntityPolicy(reference: string, policy: string): void {
    this.requireEntity(reference);
    this.state.reputationPolicy[reference] = policy;
    this.changed();
  }

  // ----- suppression --------------------------------------------------------------------------------------------

  private listKey(tenantName?: string): string {
    if (tenantName === undefined) return 'account';
    this.tenant(tenantName);
    return `tenant:${tenantName}`;
  }

  putSuppressedDestination(address: string, reason: 'BOUNCE' | 'COMPLAINT', tenantName?: string): void {
    const key = this.listKey(tenantName);
    this.state.suppression[key] ??= {};
    this.state.suppression[key][address] = { address, reason, updatedAt: this.now() };
    this.changed();
  }

  getSuppressedDestination(address: string, tenantName?: string): Record<string, unknown> {
    const e = this.state.suppression[this.listKey(tenantName)]?.[address];
    if (!e) throw new SesApiError('NotFoundException', `Email address <${address}> is not on the suppression list.`);
    return {
      EmailAddress: e.address,
      Reason: e.reason,
      LastUpdateTime: e.updatedAt / 1000,
      ...(e.messageId ? { Attributes: { MessageId: e.messageId, FeedbackId: e.feedbackId } } : {}),
      ...(tenantName ? { TenantName: tenantName } : {}),
    };
  }

  deleteSuppressedDestination(address: string, tenantName?: string): void {
    const list = this.state.suppression[this.listKey(tenantName)];
    if (!list?.[address]) {
      throw new SesApiError('NotFoundException', `Email address <${address}> is not on the suppression list.`);
    }
    delete list[address];
    this.changed();
  }

  listSuppressedDestinations(q: {
    tenantName?: string;
    reasons?: string[];
    start?: number;
    end?: number;
  }): Record<string, unknown>[] {
    return Object.values(this.state.suppression[this.listKey(q.tenantName)] ?? {})
      .filter((e) => !q.reasons?.length || q.reasons.includes(e.reason))
      .filter((e) => (q.start === undefined || e.updatedAt >= q.start) && (q.end === undefined || e.updatedAt <= q.end))
      .sort((a, b) => a.address.localeCompare(b.address))
      .map((e) => ({ EmailAddress: e.address, Reason: e.reason, LastUpdateTime: e.updatedAt / 1000 }));
  }

  /**
   * Suppression precedence (aws-facts §2.4): a tenant with scope TENANT checks only its own list; otherwise the
   * account list.
   */
  private suppressedOn(address: string, tenant?: TenantState): 'ACCOUNT' | 'TENANT' | null {
    if (tenant?.suppressionAttributes?.SuppressionScope === 'TENANT') {
      return this.state.suppression[`tenant:${tenant.name}`]?.[address] ? 'TENANT' : null;
    }
    return this.state.suppression.account?.[address] ? 'ACCOUNT' : null;
  }

  /** Auto-suppression after a hard bounce or a complaint, on the list the tenant's scope names. */
  private autoSuppress(address: string, reason: 'BOUNCE' | 'COMPLAINT', tenantName?: string, messageId?: string): void {
    if (domainOf(address) === SIMULATOR_DOMAIN) return; // SES never suppresses simulator addresses (aws-facts §2.7)
    const tenant = tenantName ? this.state.tenants[tenantName] : undefined;
    const tenantScope = tenant?.suppressionAttributes?.SuppressionScope === 'TENANT';
    const reasons = tenantScope
      ? (tenant?.suppressionAttributes?.SuppressedReasons ?? [])
      : this.state.accountSuppressedReasons;
    if (!reasons.includes(reason)) return;
    const key = tenantScope ? `tenant:${tenantName}` : 'account';
    this.state.suppression[key] ??= {};
    const entry: SuppressionEntry = { address, reason, updatedAt: this.now(), messageId };
    this.state.suppression[key][address] = entry;
    this.changed();
  }

  // ----- sending ------------------------------------------------------------------------------------------------

  /** Request-level checks shared by SendEmail and SendBulkEmail; throws as SES does. */
  resolveSendContext(configurationSetName?: string, tenantName?: string): SendContext {
    const ctx: SendContext = {};
    if (tenantName !== undefined) {
      ctx.tenant = this.tenant(tenantName);
      if (this.sendingStatusAggregate(ctx.tenant.arn) === 'DISABLED') {
        throw new SesApiError('SendingPausedException', `Sending is paused for tenant <${tenantName}>.`);
      }
    }
    if (configurationSetName !== undefined) {
      ctx.configurationSet = this.state.configurationSets[configurationSetName];
      const arn = this.configurationSetArn(configurationSetName);
      if (ctx.tenant && ctx.configurationSet && !ctx.tenant.resources.some((r) => r.arn === arn)) {
        throw new SesApiError(
          'BadRequestException',
          `Configuration set <${configurationSetName}> is not associated with tenant <${tenantName}>.`,
        );
      }
    }
    return ctx;
  }

  /** SendEmail: accepts one message or throws the SES exception. */
  sendEmail(msg: OutgoingMessage): string {
    const ctx = this.resolveSendContext(msg.configurationSetName, msg.tenantName);
    const status = this.checkMessage(msg, ctx);
    if (status !== 'SUCCESS') throw bulkStatusError(status, msg);
    return this.accept(msg, ctx);
  }

  /** SendBulkEmail: every entry gets its own status; the call itself succeeds (aws-facts §2.1). */
  sendBulkEmail(entries: readonly OutgoingMessage[]): { Status: BulkStatus; MessageId?: string; Error?: string }[] {
    const first = entries[0];
    if (!first) throw new SesApiError('BadRequestException', 'BulkEmailEntries must not be empty.');
    if (entries.length > 50)
      throw new SesApiError('BadRequestException', 'BulkEmailEntries must have at most 50 entries.');
    const ctx = this.resolveSendContext(first.configurationSetName, first.tenantName);
    return entries.map((msg) => {
      const status = this.checkMessage(msg, ctx);
      if (status !== 'SUCCESS') return { Status: status, Error: bulkStatusError(status, msg).message };
      return { Status: status, MessageId: this.accept(msg, ctx) };
    });
  }

  /** Message-level checks, in SES's order: set exists, sending enabled, parameters, quota, rate. */
  private checkMessage(msg: OutgoingMessage, ctx: SendContext): BulkStatus {
    if (msg.configurationSetName !== undefined && !ctx.configurationSet) return 'CONFIGURATION_SET_NOT_FOUND';
    if (!this.state.accountSendingEnabled) return 'ACCOUNT_SENDING_PAUSED';
    if (ctx.configurationSet && !ctx.configurationSet.sendingEnabled) return 'CONFIGURATION_SET_SENDING_PAUSED';
    for (const t of msg.tags) if (!TAG_PATTERN.test(t.Name) || !TAG_PATTERN.test(t.Value)) return 'INVALID_PARAMETER';
    const all = [...msg.to, ...msg.cc, ...msg.bcc];
    if (all.length === 0 || all.length > MAX_RECIPIENTS) return 'INVALID_PARAMETER';
    if (!ADDRESS_PATTERN.test(addressOf(msg.from)) || all.some((a) => !ADDRESS_PATTERN.test(a)))
      return 'MESSAGE_REJECTED';
    const counted = all.filter((a) => domainOf(a) !== SIMULATOR_DOMAIN).length; // simulator mail: not in the quota
    if (this.sentLast24Hours() + counted > this.max24HourSend) return 'ACCOUNT_DAILY_QUOTA_EXCEEDED';
    if (!this.takeTokens(all.length)) return 'ACCOUNT_THROTTLED';
    const now = this.now();
    for (let i = 0; i < counted; i++) this.sentTimes.push(now);
    return 'SUCCESS';
  }

  /** Accepts a checked message: its id, its Send event now, and its later events on schedule. */
  private accept(msg: OutgoingMessage, ctx: SendContext): string {
    const sentAt = this.now();
    const messageId = sesId(sentAt, this.rng);
    const all = [...msg.to, ...msg.cc, ...msg.bcc];
    const tags: Record<string, string> = {};
    for (const t of msg.tags) tags[t.Name] = t.Value;
    const fromAddress = addressOf(msg.from);
    const factory = new SesRecordFactory({
      messageId,
      sentAt,
      source: fromAddress,
      fromHeader: msg.from,
      fromDomain: domainOf(fromAddress),
      sendingAccountId: this.accountId,
      region: this.region,
      destination: all,
      subject: msg.subject,
      configurationSet: msg.configurationSetName,
      tenantName: msg.tenantName,
      operation: msg.operation,
      sourceIp: msg.sourceIp,
      callerIdentity: msg.callerIdentity,
      outgoingIp: `54.240.${this.rng.range(0, 63)}.${this.rng.range(1, 254)}`,
      emailTags: tags,
    });
    this.stats.accepted++;
    this.accepted.push({
      messageId,
      sentAt,
      from: msg.from,
      to: all,
      subject: msg.subject,
      tags: msg.tags,
      headers: msg.headers ?? [],
      tenantName: msg.tenantName,
    });
    if (this.accepted.length > (this.opts.keepMessages ?? 1000)) this.accepted.shift();
    const destinations = (ctx.configurationSet?.eventDestinations ?? [])
      .map((d) => d.destination)
      .filter((d) => d.Enabled !== false);
    this.schedule({ at: sentAt, factory, outcome: null, destinations, tenantName: msg.tenantName });
    if (msg.containsVirus) {
      // SES accepted the message, found a virus and stopped: a Reject record, nothing delivered (aws-facts §1.3).
      this.schedule({
        at: sentAt + 200,
        factory,
        outcome: null,
        reject: true,
        destinations,
        tenantName: msg.tenantName,
      });
      return messageId;
    }
    const deliverable: string[] = [];
    for (const address of all) {
      const scope = this.suppressedOn(address, ctx.tenant);
      if (scope) {
        this.schedule({ at: sentAt, factory, outcome: suppressionBounce(address, scope), destinations });
      } else {
        deliverable.push(address);
      }
    }
    const outcomes = simulateOutcomes(
      {
        recipients: deliverable,
        sender: this.opts.senderBehaviour?.({ tenantName: msg.tenantName, tags }),
        messageKind: tags.message_kind,
        links: [`https://www.${domainOf(fromAddress)}/?utm_source=ses`],
      },
      this.model,
      this.rng,
    );
    for (const o of outcomes) {
      this.schedule({
        at: sentAt + Math.round(o.afterMs * this.timeFactor),
        factory,
        outcome: o,
        destinations,
        tenantName: msg.tenantName,
      });
    }
    return messageId;
  }

  // ----- event publishing ---------------------------------------------------------------------------------------

  private schedule(p: Omit<Pending, 'seq'>): void {
    if (this.closed) return;
    this.pending.push({ ...p, seq: this.seq++ });
    this.arm();
  }

  private arm(): void {
    const next = this.pending.peek();
    if (!next || this.closed) return;
    if (this.timer && next.at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next.at;
    this.timer = setTimeout(() => this.releaseDue(), Math.max(0, next.at - this.now()));
    this.timer.unref();
  }

  private releaseDue(): void {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.now();
    while (this.pending.size > 0 && this.pending.peek()!.at <= now) this.publish(this.pending.pop()!);
    this.arm();
  }

  private publish(p: Pending): void {
    const record = p.outcome
      ? p.factory.outcomeRecord(p.outcome, p.at, this.rng)
      : p.reject
        ? p.factory.rejectRecord()
        : p.factory.sendRecord();
    if (
      p.outcome?.kind === 'bounce' &&
      p.outcome.bounceType === 'Permanent' &&
      p.outcome.bounceSubType !== 'OnAccountSuppressionList' &&
      p.outcome.bounceSubType !== 'OnTenantSuppressionList'
    ) {
      this.autoSuppress(p.outcome.recipient, 'BOUNCE', p.tenantName, p.factory.ctx.messageId);
    } else if (p.outcome?.kind === 'complaint') {
      this.autoSuppress(p.outcome.recipient, 'COMPLAINT', p.tenantName, p.factory.ctx.messageId);
    }
    const eventType = String(record.eventType);
    const matching = MATCHING_TYPE[eventType];
    const tags = p.factory.ctx.emailTags;
    const published: PublishedRecord = {
      data: `${JSON.stringify(record)}\n`,
      partitionKey: tags.tenant ?? p.factory.ctx.tenantName ?? 'unknown',
      eventType,
    };
    for (const dest of p.destinations) {
      if (matching && dest.MatchingEventTypes && !dest.MatchingEventTypes.includes(matching)) continue;
      const sink = this.opts.sinks?.(dest);
      if (!sink) continue;
      let buf = this.buffers.get(sink);
      if (!buf) {
        buf = [];
        this.buffers.set(sink, buf);
      }
      buf.push(published);
    }
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      void this.flushBuffers();
    }, 25);
  }

  private flushBuffers(): Promise<void> {
    const work: Promise<void>[] = [];
    for (const [sink, records] of this.buffers) {
      if (records.length === 0) continue;
      this.buffers.set(sink, []);
      const p = sink
        .put(records)
        .then(() => {
          this.stats.published += records.length;
        })
        .catch((err: unknown) => {
          this.stats.publishFailed += records.length;
          this.opts.onPublishError?.(records.length, err instanceof Error ? err.message : String(err));
        });
      const tracked = p.finally(() => this.inFlight.delete(tracked));
      this.inFlight.add(tracked);
      work.push(tracked);
    }
    return Promise.all(work).then(() => undefined);
  }

  /** Events scheduled and not yet published. */
  get pendingEvents(): number {
    return this.pending.size;
  }

  /**
   * Publishes now every event whose time has come, or with `all` every scheduled event (stamped with its scheduled
   * time), and waits until the sinks accepted them. For tests and a clean shutdown.
   */
  async flushEvents(opts: { all?: boolean } = {}): Promise<void> {
    const now = this.now();
    while (this.pending.size > 0 && (opts.all || this.pending.peek()!.at <= now)) this.publish(this.pending.pop()!);
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    await this.flushBuffers();
    await Promise.all([...this.inFlight]);
    this.arm();
  }

  /**
   * Takes every scheduled event out of the queue as plain data (to save at shutdown and reschedule at the next
   * start with {@link importPending}): events not yet due survive a restart.
   */
  exportPending(): PendingEvent[] {
    const out: PendingEvent[] = [];
    for (let p = this.pending.pop(); p; p = this.pending.pop()) {
      out.push({
        at: p.at,
        mail: p.factory.ctx,
        outcome: p.outcome,
        reject: p.reject,
        destinations: p.destinations,
        tenantName: p.tenantName,
      });
    }
    return out;
  }

  /** Reschedules events saved by {@link exportPending}; those already due are published at once. */
  importPending(events: readonly PendingEvent[]): void {
    const factories = new Map<string, SesRecordFactory>();
    for (const e of events) {
      let factory = factories.get(e.mail.messageId);
      if (!factory) {
        factory = new SesRecordFactory(e.mail);
        factories.set(e.mail.messageId, factory);
      }
      this.schedule({
        at: e.at,
        factory,
        outcome: e.outcome,
        reject: e.reject,
        destinations: e.destinations,
        tenantName: e.tenantName,
      });
    }
  }

  /** Stops scheduling; pending events are dropped unless flushed or exported first. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.timer = null;
    this.flushTimer = null;
  }
}

/** The address of `Name <address>` or of a bare address. */
export function addressOf(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1] ?? from;
}

function resourceTypeOf(arn: string): string | null {
  if (/:configuration-set\/[^/]+$/.test(arn)) return 'CONFIGURATION_SET';
  if (/:identity\/[^/]+$/.test(arn)) return 'EMAIL_IDENTITY';
  if (/:template\/[^/]+$/.test(arn)) return 'EMAIL_TEMPLATE';
  return null;
}

/** The SendEmail exception for a status SendBulkEmail would report per entry. */
function bulkStatusError(status: BulkStatus, msg: OutgoingMessage): SesApiError {
  switch (status) {
    case 'CONFIGURATION_SET_NOT_FOUND':
      return new SesApiError('NotFoundException', `Configuration set <${msg.configurationSetName}> does not exist.`);
    case 'ACCOUNT_SENDING_PAUSED':
      return new SesApiError('SendingPausedException', 'Sending is paused for this account.');
    case 'CONFIGURATION_SET_SENDING_PAUSED':
      return new SesApiError(
        'SendingPausedException',
        `Sending is paused for this configuration set <${msg.configurationSetName}>.`,
      );
    case 'INVALID_PARAMETER':
      return new SesApiError(
        'BadRequestException',
        'Invalid message: tags must use only ASCII letters, digits, _ and -, and a message has 1 to 50 recipients.',
      );
    case 'MESSAGE_REJECTED':
      return new SesApiError('MessageRejected', 'Illegal address.');
    case 'ACCOUNT_DAILY_QUOTA_EXCEEDED':
      return new SesApiError('LimitExceededException', 'Daily message quota exceeded.');
    case 'ACCOUNT_THROTTLED':
      return new SesApiError('TooManyRequestsException', 'Maximum sending rate exceeded.');
    default:
      return new SesApiError('InternalServiceErrorException', 'Unexpected status.');
  }
}
