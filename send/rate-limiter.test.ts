import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from './rate-limiter';

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

  it('counts recipients, not calls', async () => {
    const { limiter, now } = clocked(10);
    await limiter.acquire(6);
    const first = Math.floor(now() / 1000);
    await limiter.acquire(6);
    expect(Math.floor(now() / 1000)).toBe(first + 1);
  });

  it('lets a message with more recipients than the limit take an empty second alone', async () => {
    const { limiter, now } = clocked(5);
    await limiter.acquire(1);
    const first = Math.floor(now() / 1000);
    await limiter.acquire(8);
    expect(Math.floor(now() / 1000)).toBe(first + 1);
    await limiter.acquire(1);
    expect(Math.floor(now() / 1000)).toBe(first + 2);
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
