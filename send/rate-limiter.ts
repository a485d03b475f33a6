import { GetAccountCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { sleep } from '../lib/retry';
import { keys } from '../lib/table-design';
import { SendError } from './errors';

/**
 * Send capacity, taken before SES is called, in recipients (SES's MaxSendRate counts recipients per second). Both
 * calls wait until the capacity they grant may be used, so the caller sends as soon as they return.
 */
export interface SendRateLimiter {
  /** All `n` at once (one message's recipients go in one call). */
  acquire(n: number): Promise<void>;
  /** Between 1 and `n`: what the current second has left (a bulk call sends that many entries, then asks again). */
  acquireUpTo(n: number): Promise<number>;
  /** The current limit in recipients per second. */
  limit(): Promise<number>;
}

export { sleep } from '../lib/retry';

/**
 * The account's MaxSendRate from GetAccount (SendQuota, a double: aws-facts §2.5), cached for `ttlMs` so a quota
 * raise is seen within minutes without a GetAccount per send.
 */
export class AccountSendRate {
  private cached: { rate: number; at: number } | null = null;
  private inFlight: Promise<number> | null = null;

  constructor(
    private readonly ses: SESv2Client,
    private readonly ttlMs = 300_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<number> {
    if (this.cached && this.now() - this.cached.at < this.ttlMs) return this.cached.rate;
    this.inFlight ??= this.ses
      .send(new GetAccountCommand({}))
      .then((out) => {
        const rate = out.SendQuota?.MaxSendRate;
        if (typeof rate !== 'number' || !(rate > 0)) throw new SendError('GetAccount returned no MaxSendRate');
        this.cached = { rate, at: this.now() };
        return rate;
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }
}

export interface DynamoDbRateLimiterOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  /** What shares the limit: the SES account and region (every sender of the account must use the same scope). */
  scope: string;
  /** Recipients per second: a number, or a provider such as `AccountSendRate.get`. */
  rate: number | (() => Promise<number>);
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told of every grant that is used: the epoch second whose window it came from and its recipients (metrics, tests). */
  onGrant?: (second: number, n: number) => void;
}

const isConditionFailure = (err: unknown) => err instanceof Error && err.name === 'ConditionalCheckFailedException';

/**
 * A send-rate limit shared by every process that sends for the account: one DynamoDB item per second
 * (`RATE#<scope>` / `<epoch second>`, expiring after a minute through `ttl`) counts the recipients granted in that
 * second. A grant is one `ADD` (no read first, so any number of workers share it without locks):
 * - `acquire(n)` adds on condition that the count stays at or under the limit, otherwise waits for the next second
 *   (a message with more recipients than the limit takes an empty second, or after three busy seconds one that is
 *   not full: it cannot wait for ever);
 * - `acquireUpTo(n)` adds unconditionally and keeps what fitted under the limit: the second fills up exactly, and the
 *   part that did not fit is asked for again in the next second. (Counting it anyway is harmless: the second is
 *   full either way.)
 *
 * The count the ADD returns is the grant's place in its second, and the grant waits until its first slot's time
 * (`slot / limit` into the second) before it returns: grants are spread through the second instead of bursting at
 * its start, which is how SES meters MaxSendRate (a bucket refilled continuously), so the sends it lets through are
 * rarely throttled, and none is released so late in its second that it reaches SES in the next one.
 */
export class DynamoDbRateLimiter implements SendRateLimiter {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: DynamoDbRateLimiterOptions) {
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? sleep;
  }

  async limit(): Promise<number> {
    const r = typeof this.opts.rate === 'number' ? this.opts.rate : await this.opts.rate();
    // MaxSendRate is a double (e.g. 14.0); a fractional part cannot be granted within one second.
    return Math.max(1, Math.floor(r));
  }

  async acquire(n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 1) throw new SendError(`cannot acquire ${n} sends`);
    const limit = await this.limit();
    for (let tries = 1; ; tries++) {
      const now = this.now();
      const second = Math.floor(now / 1000);
      // More recipients than the limit: only an empty second, or after a few busy seconds any second not yet full
      // (other workers may never leave one empty).
      const max = n <= limit ? limit - n : tries > 3 ? limit - 1 : 0;
      let count: number;
      try {
        count = await this.addToWindow(second, n, max);
      } catch (err) {
        if (!isConditionFailure(err))
          throw new SendError('the send rate limiter could not update its window', { cause: err });
        // This second is full: wait for the next one (a little jitter spreads the workers that all waited).
        await this.waitForNextSecond(second);
        continue;
      }
      // A grant that came back after its second ended is void (its capacity stays spent): used now, it would add to
      // the next second's own grants. Seen when DynamoDB answers slowly under load.
      if (this.isPast(second)) continue;
      this.opts.onGrant?.(second, n);
      await this.waitForSlot(second, count - n, limit);
      return;
    }
  }

  private isPast(second: number): boolean {
    return Math.floor(this.now() / 1000) > second;
  }

  /**
   * Waits for the time of the grant's first slot. Not its last: a bulk grant goes out in one call, and released at
   * its last slot (late in the second) it reached SES in the next second, on top of that second's own grants (seen
   * as 30 recipients in one second at a limit of 20). From its first slot, what a grant sends is at most what is
   * left of its second, and SES's bucket (a second of burst) has room for it.
   */
  private async waitForSlot(second: number, firstSlot: number, limit: number): Promise<void> {
    const at = second * 1000 + Math.floor((Math.min(Math.max(0, firstSlot), limit - 1) * 1000) / limit);
    const wait = at - this.now();
    if (wait > 0) await this.sleep(wait);
  }

  async acquireUpTo(n: number): Promise<number> {
    if (!Number.isInteger(n) || n < 1) throw new SendError(`cannot acquire ${n} sends`);
    const limit = await this.limit();
    for (;;) {
      const second = Math.floor(this.now() / 1000);
      let count: number;
      try {
        count = await this.addToWindow(second, n);
      } catch (err) {
        throw new SendError('the send rate limiter could not update its window', { cause: err });
      }
      const before = count - n;
      if (this.isPast(second)) continue; // came back too late to be used (see acquire)
      if (before < limit) {
        const granted = Math.min(n, limit - before);
        this.opts.onGrant?.(second, granted);
        await this.waitForSlot(second, before, limit);
        return granted;
      }
      await this.waitForNextSecond(second);
    }
  }

  /**
   * Adds `n` to the window of `second` and returns its new count; with `max`, only if the count was at most `max`
   * (else DynamoDB's condition failure is thrown).
   */
  private async addToWindow(second: number, n: number, max?: number): Promise<number> {
    const out = await this.opts.doc.send(
      new UpdateCommand({
        TableName: this.opts.tableName,
        Key: keys.rateWindow(this.opts.scope, second),
        UpdateExpression: 'ADD #c :n SET #t = :ttl',
        ...(max === undefined ? {} : { ConditionExpression: 'attribute_not_exists(#c) OR #c <= :max' }),
        ExpressionAttributeNames: { '#c': 'granted', '#t': 'ttl' },
        ExpressionAttributeValues: { ':n': n, ':ttl': second + 60, ...(max === undefined ? {} : { ':max': max }) },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(out.Attributes?.granted ?? n);
  }

  /** Sleeps to the start of the next second, with a little jitter to spread the workers that all waited. */
  private async waitForNextSecond(second: number): Promise<void> {
    await this.sleep(Math.max(0, (second + 1) * 1000 - this.now() + Math.floor(Math.random() * 5)));
  }
}

/** A limiter for one process (tests, `sesflow start` without DynamoDB): the same per-second windows, in memory. */
export class MemoryRateLimiter implements SendRateLimiter {
  private readonly windows = new Map<number, number>();

  constructor(
    private readonly rate: number,
    private readonly now: () => number = Date.now,
    private readonly sleeper: (ms: number) => Promise<void> = sleep,
  ) {}

  async limit(): Promise<number> {
    return Math.max(1, Math.floor(this.rate));
  }

  async acquire(n: number): Promise<void> {
    const limit = await this.limit();
    for (;;) {
      const { now, second, used } = this.current();
      if (used === 0 || used + n <= limit) {
        await this.take(second, used, n, limit, now);
        return;
      }
      await this.sleeper((second + 1) * 1000 - now);
    }
  }

  /** The time now, its second and what that second has granted so far. */
  private current(): { now: number; second: number; used: number } {
    const now = this.now();
    const second = Math.floor(now / 1000);
    return { now, second, used: this.windows.get(second) ?? 0 };
  }

  /** Books `count` in the window of `second` (`used` already there) and waits for the grant's first slot. */
  private async take(second: number, used: number, count: number, limit: number, now: number): Promise<void> {
    this.windows.set(second, used + count);
    for (const s of this.windows.keys()) if (s < second - 5) this.windows.delete(s);
    const at = second * 1000 + Math.floor((Math.min(used, limit - 1) * 1000) / limit);
    if (at > now) await this.sleeper(at - now);
  }

  async acquireUpTo(n: number): Promise<number> {
    const limit = await this.limit();
    for (;;) {
      const { now, second, used } = this.current();
      if (used < limit) {
        const granted = Math.min(n, limit - used);
        await this.take(second, used, granted, limit, now);
        return granted;
      }
      await this.sleeper((second + 1) * 1000 - now);
    }
  }
}
