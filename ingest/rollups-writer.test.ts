import { describe, expect, it } from 'vitest';
import { dayClosed, rawListingDigest, rollupBuildName, rollupKey } from './rollups-writer';

const raw = [
  { key: 'events/dt=2026-05-01/hour=00/a.parquet', size: 100, version: '1' },
  { key: 'events/dt=2026-05-01/hour=01/b.parquet', size: 200, version: '2' },
];

describe('rollup builds', () => {
  it('name a build by its listing time and digest; later listings sort after earlier ones', () => {
    const a = rollupBuildName(raw, new Date('2026-05-02T00:00:00.999Z'));
    const b = rollupBuildName(raw, new Date('2026-05-02T00:00:01.000Z'));
    expect(a).toMatch(/^sesflow~rollup-2026-05-02-00-00-00-999-[0-9a-f]{16}\.parquet$/);
    expect(a < b).toBe(true);
    expect(rollupKey('daily', '2026-05-01', a)).toBe(`rollups/daily/dt=2026-05-01/${a}`);
  });

  it('digest every file key, size and version: any change of the listing makes another digest', () => {
    const d = rawListingDigest(raw);
    expect(rawListingDigest(raw.map((o) => ({ ...o })))).toBe(d);
    expect(rawListingDigest([raw[0]!])).not.toBe(d);
    expect(rawListingDigest([raw[0]!, { ...raw[1]!, version: '3' }])).not.toBe(d);
    expect(rawListingDigest([raw[0]!, { ...raw[1]!, size: 201 }])).not.toBe(d);
    expect(rawListingDigest([raw[0]!, { ...raw[1]!, key: 'events/dt=2026-05-01/hour=01/c.parquet' }])).not.toBe(d);
    // Fields cannot run into each other.
    expect(rawListingDigest([{ key: 'k1', size: 23, version: '4' }])).not.toBe(
      rawListingDigest([{ key: 'k12', size: 3, version: '4' }]),
    );
  });

  it('roll a day up once its last hour has ended, not before', () => {
    expect(dayClosed('2026-05-01', new Date('2026-05-01T23:59:59.999Z'))).toBe(false);
    expect(dayClosed('2026-05-01', new Date('2026-05-02T00:00:00.000Z'))).toBe(true);
  });
});
