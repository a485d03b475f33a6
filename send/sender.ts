import { domainToASCII } from 'node:url';
import { type BulkEmailEntry, type SESv2Client, SendBulkEmailCommand, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { assertProfileMaySend } from '../tenants/lifecycle';
import { fromAddressOf } from './address';
import { InvalidMessageError, UnknownTenantError } from './errors';
import { buildEmailTags } from './message-tags';
import type { BulkEntryOutcome, BulkSend, Sender, SendMessage, SendOutcome, TenantProfile } from './ports';
import { type SendRateLimiter, sleep } from './rate-limiter';
import { backoffDelay, DEFAULT_RETRY, isRetryableSesError, isThrottlingError, type RetryPolicy } from './retry';
import type { SuppressionList } from './suppression-list';
import { isMarketing, listUnsubscribeHeaders, type UnsubscribeLinkConfig } from './unsubscribe-token';

/** SES: at most 50 recipients per message, and 50 entries per SendBulkEmail call (aws-facts §2.1). */
export const MAX_RECIPIENTS = 50;
export const MAX_BULK_ENTRIES = 50;

/** Per-entry SendBulkEmail statuses worth retrying at once (with backoff): SES throttled or hiccupped. */
const RETRY_NOW = new Set(['ACCOUNT_THROTTLED', 'TRANSIENT_FAILURE']);
/** Statuses that may succeed later, but not within this call (a quota that resets, an unknown fault). */
const RETRY_LATER = new Set(['ACCOUNT_DAILY_QUOTA_EXCEEDED', 'FAILED']);

/** The send gate over a profile (tenants/lifecycle.ts): a paused or suspended tenant is refused, with the reason it may see. */
export { assertProfileMaySend };

/**
 * The address of a From header (`Name <address>` or a bare address), read by the same RFC 5322 parser that validates
 * it (send/address.ts): a header with two `<…>` parts is not one mailbox and has no address.
 */
export function addressOf(from: string): string {
  return fromAddressOf(from)?.address ?? '';
}

/** The from address must be in one of the tenant's sending domains (or a subdomain of one). */
export function assertFromDomain(profile: TenantProfile, from: string): void {
  const parsed = fromAddressOf(from);
  if (!parsed) throw new InvalidMessageError('the from header is not one valid mailbox');
  const domain = parsed.domain;
  const ok = profile.sendingDomains.some((d) => {
    const sending = domainToASCII(d) || d.toLowerCase();
    return domain === sending || domain.endsWith(`.${sending}`);
  });
  if (!ok) {
    throw new InvalidMessageError(
      `from domain ${domain} is not a sending domain of tenant ${profile.tenantId} (${profile.sendingDomains.join(', ') || 'none'})`,
    );
  }
}

/** Where the sender reads tenant profiles (the TenantRegistry fits). */
export interface TenantProfiles {
  getTenant(tenantId: string): Promise<TenantProfile | null>;
}

export interface SesSenderDeps {
  /**
   * SESv2 client. Give it `maxAttempts: 1`: the sender retries throttling itself, through the rate limiter; the
   * SDK's own retries would send again without taking capacity.
   */
  ses: SESv2Client;
  tenants: TenantProfiles;
  limiter: SendRateLimiter;
  suppression: SuppressionList;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** One-click unsubscribe links for marketing mail (none: marketing mail goes without them). */
  unsubscribe?: UnsubscribeLinkConfig | null;
  now?: () => number;
}

/** A name for an error in an entry outcome: the SES exception's name (never its text: it may carry addresses). */
const errorName = (err: unknown): string => (err instanceof Error ? err.name : 'Error');

/**
 * Whether an entry that failed with `err` may succeed if sent again later: throttling, SES's server faults and
 * network failures may; SES's refusal of the request (a client fault) will not.
 */
function retryableLater(err: unknown): boolean {
  if (isThrottlingError(err)) return true;
  const fault = (err as { $fault?: string } | null)?.$fault;
  return fault !== 'client';
}

/**
 * Sends through SESv2 for one tenant at a time: `ConfigurationSetName` and `TenantName` from the tenant's profile,
 * EmailTags `tenant`, `campaign`, `message_kind` (validated first). Before SES is called: the gate (a paused or
 * suspended tenant is refused), the from domain, and the suppression lists (suppressed recipients are skipped and
 * reported). Every call takes capacity from the shared rate limiter; throttling (TooManyRequestsException,
 * LimitExceededException, per-entry ACCOUNT_THROTTLED / TRANSIENT_FAILURE) is retried with exponential backoff and
 * full jitter. A bulk send never throws once SES has been called: every destination gets an outcome.
 */
export class SesSender implements Sender {
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly deps: SesSenderDeps) {
    this.retry = deps.retry ?? DEFAULT_RETRY;
    this.sleep = deps.sleep ?? sleep;
    this.random = deps.random ?? Math.random;
  }

  /** The tenant's profile if it may send now; throws UnknownTenantError or TenantPausedError. */
  async profileMaySend(tenantId: string): Promise<TenantProfile> {
    const profile = await this.deps.tenants.getTenant(tenantId);
    if (!profile?.configurationSet || !profile.sesTenantName) throw new UnknownTenantError(tenantId);
    assertProfileMaySend(profile);
    return profile;
  }

  /** The checks a send makes before SES, without sending: the tenant may send now, from this domain. */
  async assertMaySend(tenantId: string, from: string): Promise<void> {
    assertFromDomain(await this.profileMaySend(tenantId), from);
  }

  /** List-Unsubscribe and List-Unsubscribe-Post for one recipient (RFC 8058). */
  private unsubscribeHeaders(tenantId: string, recipient: string, campaign: string | undefined) {
    return listUnsubscribeHeaders(
      this.deps.unsubscribe!,
      { tenantId, recipient, campaign: campaign ?? null },
      (this.deps.now ?? Date.now)(),
    );
  }

  private backoff(retry: number): Promise<void> {
    return this.sleep(backoffDelay(retry, this.retry, this.random));
  }

  async send(message: SendMessage): Promise<SendOutcome> {
    const tags = buildEmailTags({
      tenant: message.tenantId,
      campaign: message.campaign,
      messageKind: message.messageKind,
    });
    if (message.html === undefined && message.text === undefined) {
      throw new InvalidMessageError('a message needs an html or a text body');
    }
    const all = [...message.to, ...(message.cc ?? []), ...(message.bcc ?? [])];
    if (all.length === 0) throw new InvalidMessageError('a message needs at least one recipient');
    if (all.length > MAX_RECIPIENTS) {
      throw new InvalidMessageError(`a message has at most ${MAX_RECIPIENTS} recipients (SES), not ${all.length}`);
    }
    const marketing = isMarketing(message.messageKind) && !!this.deps.unsubscribe;
    if (marketing && all.length > 1) {
      throw new InvalidMessageError(
        'a marketing message goes to one recipient, since its unsubscribe link names them: send one message each, or a batch',
      );
    }
    const profile = await this.profileMaySend(message.tenantId);
    assertFromDomain(profile, message.from);
    const skipped = await this.deps.suppression.suppressed(profile.sesTenantName, all);
    const keep = (list: readonly string[] | undefined) => (list ?? []).filter((a) => !skipped.has(a));
    const to = keep(message.to);
    const cc = keep(message.cc);
    const bcc = keep(message.bcc);
    const suppressed = all.filter((a) => skipped.has(a));
    const count = to.length + cc.length + bcc.length;
    if (count === 0) return { messageId: '', suppressed };
    const command = new SendEmailCommand({
      FromEmailAddress: message.from,
      Destination: {
        ToAddresses: to,
        ...(cc.length ? { CcAddresses: cc } : {}),
        ...(bcc.length ? { BccAddresses: bcc } : {}),
      },
      ...(message.replyTo?.length ? { ReplyToAddresses: message.replyTo } : {}),
      Content: {
        Simple: {
          Subject: { Data: message.subject, Charset: 'UTF-8' },
          Body: {
            ...(message.html !== undefined ? { Html: { Data: message.html, Charset: 'UTF-8' } } : {}),
            ...(message.text !== undefined ? { Text: { Data: message.text, Charset: 'UTF-8' } } : {}),
          },
          ...(marketing ? { Headers: this.unsubscribeHeaders(message.tenantId, all[0]!, message.campaign) } : {}),
        },
      },
      EmailTags: tags,
      ConfigurationSetName: profile.configurationSet,
      TenantName: profile.sesTenantName,
    });
    for (let attempt = 1; ; attempt++) {
      await this.deps.limiter.acquire(count);
      try {
        const out = await this.deps.ses.send(command);
        return { messageId: out.MessageId ?? '', suppressed };
      } catch (err) {
        if (!isRetryableSesError(err) || attempt >= this.retry.maxAttempts) throw err;
        await this.backoff(attempt);
      }
    }
  }

  async sendBulk(job: BulkSend): Promise<BulkEntryOutcome[]> {
    const tags = buildEmailTags({ tenant: job.tenantId, campaign: job.campaign, messageKind: job.messageKind });
    if (job.html === undefined && job.text === undefined) {
      throw new InvalidMessageError('a message needs an html or a text body');
    }
    if (job.destinations.length === 0) return [];
    const profile = await this.profileMaySend(job.tenantId);
    assertFromDomain(profile, job.from);
    const skipped = await this.deps.suppression.suppressed(
      profile.sesTenantName,
      job.destinations.map((d) => d.to),
    );
    const outcomes: (BulkEntryOutcome | undefined)[] = job.destinations.map((d) =>
      skipped.has(d.to) ? { to: d.to, status: 'suppressed' } : undefined,
    );
    let queue = job.destinations.map((_, i) => i).filter((i) => !outcomes[i]);
    const attempts = new Map<number, number>();
    // Calls of at most a quarter of a second's capacity (and 50): SES sees a steady flow, not a burst per second.
    const batchSize = Math.min(MAX_BULK_ENTRIES, Math.ceil((await this.deps.limiter.limit()) / 4));
    while (queue.length > 0) {
      // As many entries as the rate limit has left this second: one SendBulkEmail call.
      const n = await this.deps.limiter.acquireUpTo(Math.min(batchSize, queue.length));
      const batch = queue.slice(0, n);
      queue = queue.slice(n);
      const again: number[] = [];
      let retry = 0;
      for (const i of await this.sendBatch(profile, job, tags, batch, outcomes)) {
        const attempt = (attempts.get(i) ?? 1) + 1;
        if (attempt > this.retry.maxAttempts) continue; // its outcome stays a retryable failure
        attempts.set(i, attempt);
        again.push(i);
        retry = Math.max(retry, attempt - 1);
      }
      if (again.length > 0) {
        await this.backoff(retry);
        queue = [...again, ...queue];
      }
    }
    return outcomes.map((o, i) => o ?? { to: job.destinations[i]!.to, status: 'failed', error: 'NOT_SENT' });
  }

  private bulkCommand(
    profile: TenantProfile,
    job: BulkSend,
    tags: { Name: string; Value: string }[],
    indices: readonly number[],
  ): SendBulkEmailCommand {
    const marketing = isMarketing(job.messageKind) && !!this.deps.unsubscribe;
    const entries: BulkEmailEntry[] = indices.map((i) => {
      const d = job.destinations[i]!;
      return {
        Destination: { ToAddresses: [d.to] },
        // Each entry's own link: SES puts replacement headers on that entry's message only.
        ...(marketing ? { ReplacementHeaders: this.unsubscribeHeaders(job.tenantId, d.to, job.campaign) } : {}),
        ReplacementEmailContent: {
          ReplacementTemplate: { ReplacementTemplateData: JSON.stringify(d.replacements ?? {}) },
        },
      };
    });
    return new SendBulkEmailCommand({
      FromEmailAddress: job.from,
      DefaultContent: {
        Template: {
          TemplateContent: {
            Subject: job.subject,
            ...(job.html !== undefined ? { Html: job.html } : {}),
            ...(job.text !== undefined ? { Text: job.text } : {}),
          },
          TemplateData: '{}',
        },
      },
      BulkEmailEntries: entries,
      DefaultEmailTags: tags,
      ConfigurationSetName: profile.configurationSet,
      TenantName: profile.sesTenantName,
    });
  }

  /**
   * One SendBulkEmail call for `indices`: fills their outcomes, and returns the entries to send again now (SES
   * throttled them, or the whole call failed in a way worth retrying); their outcome meanwhile is a retryable failure.
   * Earlier calls' messages are sent whatever happens to this one.
   */
  private async sendBatch(
    profile: TenantProfile,
    job: BulkSend,
    tags: { Name: string; Value: string }[],
    indices: readonly number[],
    outcomes: (BulkEntryOutcome | undefined)[],
  ): Promise<number[]> {
    let results: { Status?: string; MessageId?: string }[];
    try {
      const out = await this.deps.ses.send(this.bulkCommand(profile, job, tags, indices));
      results = out.BulkEmailEntryResults ?? [];
    } catch (err) {
      const error = errorName(err);
      const retryable = retryableLater(err);
      for (const i of indices) outcomes[i] = { to: job.destinations[i]!.to, status: 'failed', error, retryable };
      return isRetryableSesError(err) ? [...indices] : [];
    }
    const again: number[] = [];
    indices.forEach((i, j) => {
      const r = results[j];
      const to = job.destinations[i]!.to;
      const status = r?.Status ?? 'FAILED';
      if (status === 'SUCCESS' && r?.MessageId) {
        outcomes[i] = { to, status: 'sent', messageId: r.MessageId };
      } else if (RETRY_NOW.has(status)) {
        again.push(i);
        outcomes[i] = { to, status: 'failed', error: status, retryable: true };
      } else {
        outcomes[i] = { to, status: 'failed', error: status, retryable: RETRY_LATER.has(status) };
      }
    });
    return again;
  }
}
