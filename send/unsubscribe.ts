import { createHmac } from 'node:crypto';
import type { TenantProfile } from './ports';
import { openUnsubscribeToken } from './unsubscribe-token';

/** The tenant's suppression list, as the unsubscribe endpoint uses it (SesSuppressionList fits). */
export interface TenantSuppression {
  /** When the address went on the tenant's list; null when it is not on it. */
  listedAt(tenantName: string, address: string): Promise<Date | null>;
  suppress(tenantName: string, address: string): Promise<void>;
}

/** Where an unsubscribe is recorded for the reports: the events stream, as an SES-format Subscription record. */
export interface UnsubscribeEventSink {
  publish(record: Record<string, unknown>): Promise<void>;
}

export interface UnsubscribeDeps {
  secret: string;
  tenants: { getTenant(tenantId: string): Promise<TenantProfile | null> };
  suppression: TenantSuppression;
  events: UnsubscribeEventSink | null;
  now?: () => number;
}

export interface UnsubscribeOutcome {
  tenantId: string;
  /** `unsubscribed` now, or `already` (on the list before this request: nothing changed). */
  status: 'unsubscribed' | 'already';
}

/**
 * The record the reports count: SES's Subscription event shape (aws-facts §1.3: `contactList`, `timestamp`, `source`,
 * new and old topic preferences), so the lake, the queries and the reports treat it as SES's own. Its message id is a
 * keyed digest of tenant and recipient (the SES message id is not known when the link is made) and its time is when
 * the address went on the list: the record of one unsubscribe is the same record however often it is published, so
 * the lake's event id counts it once.
 */
export function unsubscribeRecord(
  claim: { tenantId: string; recipient: string; campaign: string | null },
  profile: Pick<TenantProfile, 'sesTenantName' | 'configurationSet'>,
  secret: string,
  at: Date,
): Record<string, unknown> {
  const iso = at.toISOString();
  const tags: Record<string, string[]> = {
    tenant: [claim.tenantId],
    message_kind: ['marketing'],
    'ses:tenant-name': [profile.sesTenantName],
    'ses:configuration-set': [profile.configurationSet],
  };
  if (claim.campaign) tags.campaign = [claim.campaign];
  return {
    eventType: 'Subscription',
    mail: {
      timestamp: iso,
      messageId: `unsubscribe-${createHmac('sha256', secret).update(`${claim.tenantId}\n${claim.recipient.toLowerCase()}`).digest('hex').slice(0, 40)}`,
      destination: [claim.recipient],
      tags,
    },
    subscription: {
      contactList: null,
      timestamp: iso,
      source: 'OneClickUnsubscribe',
      newTopicPreferences: { unsubscribeAll: true, topicSubscriptionStatus: [] },
      oldTopicPreferences: { unsubscribeAll: false, topicSubscriptionStatus: [] },
    },
  };
}

/**
 * One-click unsubscribe (RFC 8058): opens the token (a bad or expired one throws a one-line error), puts the recipient
 * on the tenant's SES suppression list and records the unsubscribe for the reports. Idempotent, and safe to retry
 * after a crash: the list is written first (a second put changes nothing), then the record, whose id depends only on
 * tenant, recipient and the time the address went on the list, so a repeat adds nothing to the counts.
 */
export async function unsubscribe(deps: UnsubscribeDeps, token: string): Promise<UnsubscribeOutcome> {
  const now = new Date((deps.now ?? Date.now)());
  const claim = openUnsubscribeToken(token, deps.secret, now.getTime());
  const profile = await deps.tenants.getTenant(claim.tenantId);
  if (!profile) return { tenantId: claim.tenantId, status: 'already' }; // an offboarded tenant sends nothing more
  let listedAt = await deps.suppression.listedAt(profile.sesTenantName, claim.recipient);
  const status = listedAt ? 'already' : 'unsubscribed';
  if (!listedAt) {
    await deps.suppression.suppress(profile.sesTenantName, claim.recipient);
    listedAt = (await deps.suppression.listedAt(profile.sesTenantName, claim.recipient)) ?? now;
  }
  await deps.events?.publish(unsubscribeRecord(claim, profile, deps.secret, listedAt));
  return { tenantId: claim.tenantId, status };
}
