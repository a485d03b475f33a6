import { describe, expect, it } from 'vitest';
import { DynamoDbRateLimiter, MemoryRateLimiter } from './rate-limiter';

/** A fake clock the limiter's sleeps advance. */
function clocked(rate: number) {
  let now = 10_000_250; // a quarter into a second
  const limiter = new MemoryRateLimiter(
    rate,
    () => now,
    async (ms) => {
      now += ms;
    },
  );
  return { limiter, now: () => now };
}

describe('MemoryRateLimiter', () => {
  it('grants at most the limit in any calendar second, spread through the second', async () => {
    const { limiter, now } = clocked(10);
    const grants: number[] = [];
    for (let i = 0; i < 35; i++) {
      await limiter.acquire(1);
      grants.push(now());
    }
    const perSecond = new Map<number, number>();
    for (const t of grants) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(10);
    // From the second full second on, grants are 100 ms apart (10 per second, evenly).
    const later = grants.filter((t) => t >= 10_001_000 && t < 10_002_000);
    expect(later).toHaveLength(10);
    expect(later.slice(1).map((t, i) => t - later[i]!)).toEqual(Array(9).fill(100));
  });

  // Each case: a limit, the recipients of each acquire in turn, and the second each is granted in (from the first's).
  it.each([
    ['counts recipients, not calls', 10, [6, 6], [0, 1]],
    ['lets a message with more recipients than the limit take an empty second alone', 5, [1, 8, 1], [0, 1, 2]],
  ])('%s', async (_name, rate, acquires, seconds) => {
    const { limiter, now } = clocked(rate);
    const granted: number[] = [];
    for (const n of acquires) {
      await limiter.acquire(n);
      granted.push(Math.floor(now() / 1000));
    }
    expect(granted.map((s) => s - granted[0]!)).toEqual(seconds);
  });

  it('releases a grant at its first slot, not its last: a bulk grant leaves early enough to reach SES in its second', async () => {
    const { limiter, now } = clocked(10);
    await limiter.acquire(3); // slots 0-2 of this second
    expect(await limiter.acquireUpTo(20)).toBe(7); // slots 3-9
    // Released at slot 3 (300 ms into the second); at its last slot (900 ms) a call's latency carried it over.
    expect(now() % 1000).toBe(300);
  });

  it('acquireUpTo grants what the second has left, and the rest in the next second', async () => {
    const { limiter, now } = clocked(10);
    await limiter.acquire(7);
    const first = Math.floor(now() / 1000);
    expect(await limiter.acquireUpTo(8)).toBe(3);
    expect(Math.floor(now() / 1000)).toBe(first);
    expect(await limiter.acquireUpTo(5)).toBe(5);
    expect(Math.floor(now() / 1000)).toBe(first + 1);
    expect(await limiter.acquireUpTo(50)).toBe(5);
    expect(await limiter.acquireUpTo(50)).toBe(10);
    expect(Math.floor(now() / 1000)).toBe(first + 2);
  });
});

describe('DynamoDbRateLimiter', () => {
  /** A stand-in for the document client: one counter per window key, answering after `latency()` ms of fake time. */
  function fakeTable(clock: { now: number }, latency: () => number) {
    const counts = new Map<string, number>();
    const doc = {
      async send(cmd: { input: { Key: Record<string, string>; ExpressionAttributeValues: Record<string, number> } }) {
        const key = JSON.stringify(cmd.input.Key);
        const granted = (counts.get(key) ?? 0) + cmd.input.ExpressionAttributeValues[':n']!;
        counts.set(key, granted);
        clock.now += latency();
        return { Attributes: { granted } };
      },
    };
    return doc as unknown as ConstructorParameters<typeof DynamoDbRateLimiter>[0]['doc'];
  }

  /** A 10-a-second limiter on the fake table, sleeping on the fake clock and recording each grant. */
  function limiterAt(clock: { now: number }, grants: [number, number][], latency: () => number) {
    return new DynamoDbRateLimiter({
      doc: fakeTable(clock, latency),
      tableName: 't',
      scope: 's',
      rate: 10,
      now: () => clock.now,
      sleep: async (ms) => {
        clock.now += ms;
      },
      onGrant: (second, n) => grants.push([second, n]),
    });
  }

  it('voids a grant that came back after its second ended, and takes capacity in the current one', async () => {
    const clock = { now: 20_000_900 };
    const latencies = [300, 5]; // the first answer arrives 200 ms into the next second
    const grants: [number, number][] = [];
    const limiter = limiterAt(clock, grants, () => latencies.shift() ?? 5);
    await limiter.acquire(4);
    expect(grants).toEqual([[20_001, 4]]);
    expect(Math.floor(clock.now / 1000)).toBe(20_001);
  });

  it('acquireUpTo keeps what fitted in the window and reports it', async () => {
    const clock = { now: 30_000_100 };
    const grants: [number, number][] = [];
    const limiter = limiterAt(clock, grants, () => 1);
    expect(await limiter.acquireUpTo(7)).toBe(7);
    expect(await limiter.acquireUpTo(7)).toBe(3);
    expect(clock.now % 1000).toBe(700); // released at its first slot (slot 7 of 10)
    expect(await limiter.acquireUpTo(7)).toBe(7);
    expect(grants).toEqual([
      [30_000, 7],
      [30_000, 3],
      [30_001, 7],
    ]);
  });
});
