import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

/** The simulator's account-level state, kept in memory and optionally saved as JSON. Times are epoch ms. */

/** An event destination as CreateConfigurationSetEventDestination takes it and the state file keeps it. */
export const EventDestinationSchema = z.looseObject({
  Enabled: z.boolean().optional(),
  MatchingEventTypes: z.array(z.string()).optional(),
  KinesisFirehoseDestination: z
    .looseObject({ DeliveryStreamArn: z.string(), IamRoleArn: z.string().optional() })
    .optional(),
  EventBridgeDestination: z.looseObject({ EventBusArn: z.string() }).optional(),
  SnsDestination: z.looseObject({ TopicArn: z.string() }).optional(),
  CloudWatchDestination: z.unknown().optional(),
  PinpointDestination: z.unknown().optional(),
});
export type EventDestination = z.infer<typeof EventDestinationSchema>;

/** What every named SES resource the simulator keeps has: its name and when it was created (epoch ms). */
const NAMED = { name: z.string(), createdAt: z.number() };

const ConfigurationSetSchema = z.object({
  ...NAMED,
  sendingEnabled: z.boolean(),
  /** Everything else CreateConfigurationSet was given (TrackingOptions, DeliveryOptions, …), echoed by Get. */
  options: z.record(z.string(), z.unknown()),
  suppressionOptions: z.looseObject({ SuppressedReasons: z.array(z.string()).optional() }).optional(),
  eventDestinations: z.array(z.object({ name: z.string(), destination: EventDestinationSchema })),
});
export type ConfigurationSetState = z.infer<typeof ConfigurationSetSchema>;

const TenantSchema = z.object({
  ...NAMED,
  id: z.string(),
  arn: z.string(),
  tags: z.array(z.object({ Key: z.string(), Value: z.string() })),
  suppressionAttributes: z
    .object({ SuppressedReasons: z.array(z.string()).optional(), SuppressionScope: z.string().optional() })
    .optional(),
  resources: z.array(z.object({ arn: z.string(), type: z.string(), associatedAt: z.number() })),
});
export type TenantState = z.infer<typeof TenantSchema>;

const StatusRecordSchema = z.object({ status: z.string(), cause: z.string().optional(), updatedAt: z.number() });

const SuppressionSchema = z.object({
  address: z.string(),
  reason: z.enum(['BOUNCE', 'COMPLAINT']),
  updatedAt: z.number(),
  messageId: z.string().optional(),
  feedbackId: z.string().optional(),
});
export type SuppressionEntry = z.infer<typeof SuppressionSchema>;

const IdentitySchema = z.object({
  ...NAMED,
  dkimSigningEnabled: z.boolean(),
  dkimTokens: z.array(z.string()),
  mailFromDomain: z.string().nullable(),
  behaviorOnMxFailure: z.string(),
});
export type IdentityState = z.infer<typeof IdentitySchema>;

export const SimulatorStateSchema = z.object({
  version: z.literal(1),
  accountSendingEnabled: z.boolean(),
  accountSuppressedReasons: z.array(z.string()),
  configurationSets: z.record(z.string(), ConfigurationSetSchema),
  tenants: z.record(z.string(), TenantSchema),
  /** Customer-managed sending status by reputation entity reference (a resource ARN). */
  customerStatus: z.record(z.string(), StatusRecordSchema),
  /** Reputation policy ARN by entity reference. */
  reputationPolicy: z.record(z.string(), z.string()),
  /** Suppression lists: key `account` or `tenant:<name>`, then address (case-sensitive, as SES stores them). */
  suppression: z.record(z.string(), z.record(z.string(), SuppressionSchema)),
  /** Email identities (domains) by name; absent in state files saved before identities existed. */
  identities: z.record(z.string(), IdentitySchema).default({}),
});
export type SimulatorState = z.infer<typeof SimulatorStateSchema>;

export function emptyState(): SimulatorState {
  return {
    version: 1,
    accountSendingEnabled: true,
    accountSuppressedReasons: ['BOUNCE', 'COMPLAINT'],
    configurationSets: {},
    tenants: {},
    customerStatus: {},
    reputationPolicy: {},
    suppression: {},
    identities: {},
  };
}

/** Loads saved state; a missing file gives an empty state, an unreadable one is an error naming the file. */
export function loadState(file: string): SimulatorState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw err;
  }
  const parsed = SimulatorStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is not a valid SES simulator state file`);
  return parsed.data;
}

/** Saves atomically (write then rename), so a crash never leaves half a file. */
export function saveState(file: string, state: SimulatorState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, file);
}

/** The saved queue of scheduled events: checked loosely (it is our own file), then trusted. */
const PendingFileSchema = z.array(
  z.looseObject({
    at: z.number(),
    mail: z.looseObject({ messageId: z.string(), sentAt: z.number(), destination: z.array(z.string()) }),
    outcome: z.looseObject({ kind: z.string(), recipient: z.string() }).nullable(),
    reject: z.boolean().optional(),
    destinations: z.array(EventDestinationSchema),
    tenantName: z.string().optional(),
  }),
);

/** Reads saved pending events; a missing file gives none, a damaged one is an error naming the file. */
export function loadPendingEvents<T>(file: string): T[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const parsed = PendingFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is not a valid SES simulator pending-events file`);
  return parsed.data as unknown as T[];
}

export function savePendingEvents(file: string, events: readonly unknown[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(events));
  renameSync(tmp, file);
}
