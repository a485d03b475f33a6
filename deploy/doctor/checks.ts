import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import {
  type EventDestination,
  GetConfigurationSetEventDestinationsCommand,
  paginateListTenantResources,
  paginateListTenants,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';
import { GetQueueAttributesCommand, GetQueueUrlCommand, QueueDoesNotExist, type SQSClient } from '@aws-sdk/client-sqs';
import { describeError } from '../../lib/errors';
import { ALL_EVENT_TYPES } from '../../send/onboarding';

/** Every event type SES publishes (aws-facts §1.1): onboarding's list (send/onboarding.ts). */
export { ALL_EVENT_TYPES };

export type Severity = 'ok' | 'info' | 'warning' | 'problem';
export type CheckName = 'event destinations' | 'recent events' | 'dead letters' | 'consumer lag';

/** One finding, in plain words. Only `problem` makes `sesflow doctor` exit 1. */
export interface Finding {
  check: CheckName;
  severity: Severity;
  message: string;
}

const finding = (check: CheckName, severity: Severity, message: string): Finding => ({ check, severity, message });

// ---------------------------------------------------------------- event destinations

export interface DestinationExpectations {
  /** Name of the Firehose delivery stream every configuration set must publish to (the lake). */
  eventsStream: string;
  /** Whether an EventBridge destination is required too (AWS: it feeds the reputation and push consumers). */
  requireEventBridge: boolean;
}

/** A tenant and the configuration sets associated with it in SES. */
export async function listTenantConfigurationSets(ses: SESv2Client): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for await (const page of paginateListTenants({ client: ses }, {})) {
    for (const t of page.Tenants ?? []) {
      if (!t.TenantName) continue;
      const sets: string[] = [];
      for await (const res of paginateListTenantResources(
        { client: ses },
        { TenantName: t.TenantName, Filter: { RESOURCE_TYPE: 'CONFIGURATION_SET' } },
      )) {
        for (const r of res.TenantResources ?? []) {
          const name = r.ResourceArn?.split(':configuration-set/')[1];
          if (name) sets.push(name);
        }
      }
      out.set(t.TenantName, sets);
    }
  }
  return out;
}

/**
 * Each tenant's configuration sets publish every event type to the lake's Firehose stream (and, where required, to
 * EventBridge). A tenant without a configuration set, a missing or disabled destination, or missing event types is a
 * problem: those events never reach the lake, the reputation policy or External Reporting.
 */
export async function checkEventDestinations(
  ses: SESv2Client,
  tenants: ReadonlyMap<string, readonly string[]>,
  expect: DestinationExpectations,
): Promise<Finding[]> {
  const check = 'event destinations';
  if (tenants.size === 0) return [finding(check, 'warning', 'SES has no tenants yet: nothing to check')];
  const out: Finding[] = [];
  for (const [tenant, sets] of tenants) {
    if (sets.length === 0) {
      out.push(finding(check, 'problem', `tenant ${tenant} has no configuration set: its mail publishes no events`));
      continue;
    }
    for (const set of sets) {
      const where = `configuration set ${set} (tenant ${tenant})`;
      let destinations: EventDestination[];
      try {
        destinations =
          (await ses.send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: set })))
            .EventDestinations ?? [];
      } catch (err) {
        out.push(finding(check, 'problem', `${where}: could not read its event destinations: ${describeError(err)}`));
        continue;
      }
      const problems: string[] = [];
      const firehose = destinations.filter((d) =>
        d.KinesisFirehoseDestination?.DeliveryStreamArn?.endsWith(`:deliverystream/${expect.eventsStream}`),
      );
      const wanted: { kind: string; list: typeof destinations; consequence: string }[] = [
        { kind: `Firehose stream ${expect.eventsStream}`, list: firehose, consequence: 'the lake misses them' },
      ];
      if (expect.requireEventBridge) {
        wanted.push({
          kind: 'EventBridge',
          list: destinations.filter((d) => d.EventBridgeDestination),
          consequence: 'reputation and External Reporting never see them',
        });
      }
      for (const w of wanted) {
        const enabled = w.list.filter((d) => d.Enabled);
        if (w.list.length === 0) {
          problems.push(`publishes no events to ${w.kind}: ${w.consequence}`);
        } else if (enabled.length === 0) {
          problems.push(`its ${w.kind} destination ${w.list[0]?.Name} is disabled: ${w.consequence}`);
        } else {
          const types = new Set(enabled.flatMap((d) => d.MatchingEventTypes ?? []));
          const missing = ALL_EVENT_TYPES.filter((t) => !types.has(t));
          if (missing.length) problems.push(`does not publish ${missing.join(', ')} to ${w.kind}`);
        }
      }
      if (problems.length === 0) {
        out.push(finding(check, 'ok', `${where} publishes all ${ALL_EVENT_TYPES.length} event types`));
      } else {
        for (const p of problems) out.push(finding(check, 'problem', `${where} ${p}`));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- recent events per tenant

/** What the lake (or the live counters) saw of one tenant since a time. */
export interface TenantActivity {
  /** Events since the time asked for. */
  events: number;
  /** Event time of the latest of them (epoch ms), when the source knows it. */
  lastEventMs: number | null;
}

export interface RecentEventsSource {
  /** Where the figures come from, for the findings ("the lake", "the live counters"). */
  describe: string;
  activitySince(sinceMs: number, tenants: readonly string[]): Promise<Map<string, TenantActivity>>;
}

/** Why a tenant may rightly send nothing (paused or suspended), or null. */
export type QuietReason = (tenant: string) => Promise<string | null>;

const ago = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${(s / 3600).toFixed(1)} h ago`;
};

/**
 * Every tenant has events in the last `minutes`. A tenant with none is a problem unless it is paused or suspended
 * (then it is told as information); events with no tenant (`unknown`: no tenant tag and no mapping) are a warning.
 */
export async function checkRecentEvents(
  source: RecentEventsSource,
  tenants: readonly string[],
  opts: { minutes: number; now: number; quietReason?: QuietReason },
): Promise<Finding[]> {
  const check = 'recent events';
  const since = opts.now - opts.minutes * 60_000;
  let activity: Map<string, TenantActivity>;
  try {
    activity = await source.activitySince(since, tenants);
  } catch (err) {
    return [finding(check, 'problem', `could not read ${source.describe}: ${describeError(err)}`)];
  }
  const out: Finding[] = [];
  const all = [...new Set([...tenants, ...[...activity.keys()].filter((t) => t !== 'unknown')])].sort();
  for (const tenant of all) {
    const a = activity.get(tenant);
    if (a && a.events > 0) {
      const last = a.lastEventMs === null ? '' : `, the latest ${ago(opts.now - a.lastEventMs)}`;
      out.push(finding(check, 'ok', `tenant ${tenant}: ${a.events} events in the last ${opts.minutes} min${last}`));
      continue;
    }
    const quiet = opts.quietReason ? await opts.quietReason(tenant).catch(() => null) : null;
    if (quiet) {
      out.push(
        finding(check, 'info', `tenant ${tenant}: no events in the last ${opts.minutes} min, as expected (${quiet})`),
      );
    } else {
      out.push(
        finding(
          check,
          'problem',
          `tenant ${tenant}: no events in ${source.describe} in the last ${opts.minutes} min (is it sending? are its events published?)`,
        ),
      );
    }
  }
  const unknown = activity.get('unknown');
  if (unknown && unknown.events > 0) {
    out.push(
      finding(
        check,
        'warning',
        `${unknown.events} events in the last ${opts.minutes} min have no tenant (no tenant tag, no configuration set mapping)`,
      ),
    );
  }
  if (all.length === 0) out.push(finding(check, 'warning', 'no tenants and no events: nothing to check'));
  return out;
}

// ---------------------------------------------------------------- dead-letter queues

/** Each dead-letter queue exists and is empty; a message waiting in one is a problem (see OPERATIONS.md, redrive). */
export async function checkDeadLetterQueues(sqs: SQSClient, queueNames: readonly string[]): Promise<Finding[]> {
  const check = 'dead letters';
  const out: Finding[] = [];
  for (const name of queueNames) {
    try {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      const visible = Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0);
      const inFlight = Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
      const total = visible + inFlight;
      if (total > 0) {
        out.push(
          finding(
            check,
            'problem',
            `dead-letter queue ${name} holds ${total} message(s): inspect, fix the cause, redrive`,
          ),
        );
      } else {
        out.push(finding(check, 'ok', `dead-letter queue ${name} is empty`));
      }
    } catch (err) {
      if (err instanceof QueueDoesNotExist || (err as { name?: string }).name === 'QueueDoesNotExist') {
        out.push(finding(check, 'problem', `dead-letter queue ${name} does not exist`));
      } else {
        out.push(finding(check, 'problem', `could not read dead-letter queue ${name}: ${describeError(err)}`));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- consumer lag

/** A stream consumer and where it stands on each shard (the last sequence number it handled, or none yet). */
export interface ConsumerPosition {
  consumer: string;
  positions: ReadonlyMap<string, string>;
}

/** GetRecords pages followed past empty ones before trusting MillisBehindLatest alone. */
const MAX_EMPTY_PAGES = 5;

/**
 * How far each consumer is behind the stream: per shard, the first record after its checkpoint (or the oldest
 * record, without one) is read with GetShardIterator + GetRecords; the lag is that record's age. No record after
 * the checkpoint means caught up. A lag above `maxLagMs` is a problem: pauses and pushes come late.
 */
export async function checkConsumerLag(
  kinesis: KinesisClient,
  streamName: string,
  consumers: readonly ConsumerPosition[],
  opts: { maxLagMs: number; now: number },
): Promise<Finding[]> {
  const check = 'consumer lag';
  let shardIds: string[];
  try {
    const listed = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
    shardIds = (listed.Shards ?? []).map((s) => s.ShardId!).filter(Boolean);
  } catch (err) {
    return [finding(check, 'problem', `could not list the shards of stream ${streamName}: ${describeError(err)}`)];
  }
  if (consumers.length === 0) {
    return [finding(check, 'warning', `no consumer checkpoint found for stream ${streamName}: lag not measured`)];
  }
  const out: Finding[] = [];
  for (const c of consumers) {
    let worst = 0;
    let behindShards = 0;
    let unreadable: string | null = null;
    for (const shardId of shardIds) {
      const position = c.positions.get(shardId);
      try {
        const { ShardIterator } = await kinesis.send(
          new GetShardIteratorCommand({
            StreamName: streamName,
            ShardId: shardId,
            ShardIteratorType: position ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON',
            StartingSequenceNumber: position,
          }),
        );
        // A page can be empty while records lie further on (MillisBehindLatest > 0): follow a few pages, and if
        // none holds a record, the shard is still as far behind as Kinesis says.
        let iterator = ShardIterator;
        let lag: number | null = null;
        for (let page = 0; page < MAX_EMPTY_PAGES && iterator; page++) {
          const got = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1 }));
          const first = got.Records?.[0];
          const behind = got.MillisBehindLatest ?? 0;
          if (first) {
            lag = Math.max(opts.now - (first.ApproximateArrivalTimestamp?.getTime() ?? opts.now), behind);
            break;
          }
          if (behind === 0) break;
          lag = behind;
          iterator = got.NextShardIterator;
        }
        if (lag === null) continue;
        behindShards++;
        worst = Math.max(worst, lag);
      } catch (err) {
        unreadable = `${shardId}: ${describeError(err)}`;
      }
    }
    const where = `consumer ${c.consumer} on ${streamName}`;
    if (unreadable) out.push(finding(check, 'problem', `${where}: could not read shard ${unreadable}`));
    if (behindShards === 0) {
      if (!unreadable) out.push(finding(check, 'ok', `${where} is caught up (${shardIds.length} shards)`));
    } else if (worst > opts.maxLagMs) {
      out.push(
        finding(
          check,
          'problem',
          `${where} is ${Math.round(worst / 1000)} s behind on ${behindShards} of ${shardIds.length} shards (limit ${Math.round(opts.maxLagMs / 1000)} s)`,
        ),
      );
    } else {
      out.push(
        finding(
          check,
          'ok',
          `${where} is ${Math.round(worst / 1000)} s behind (limit ${Math.round(opts.maxLagMs / 1000)} s)`,
        ),
      );
    }
  }
  return out;
}
