import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { checkConsumerLag } from './checks';

/** A Kinesis client answering ListShards, GetShardIterator and GetRecords from a script of pages. */
function fakeKinesis(pages: { Records?: { ApproximateArrivalTimestamp: Date }[]; MillisBehindLatest?: number }[]) {
  let page = 0;
  return {
    async send(command: { constructor: { name: string } }) {
      switch (command.constructor.name) {
        case 'ListShardsCommand':
          return { Shards: [{ ShardId: 'shardId-000000000000' }] };
        case 'GetShardIteratorCommand':
          return { ShardIterator: 'it-0' };
        default: {
          const p = pages[page++] ?? { Records: [], MillisBehindLatest: 0 };
          return {
            Records: p.Records ?? [],
            MillisBehindLatest: p.MillisBehindLatest,
            NextShardIterator: `it-${page}`,
          };
        }
      }
    },
  } as unknown as KinesisClient;
}

const consumers = [{ consumer: 'reputation', positions: new Map([['shardId-000000000000', '123']]) }];
const now = Date.UTC(2026, 11, 7, 12);

describe('checkConsumerLag', () => {
  it('counts a consumer behind when GetRecords answers empty pages with MillisBehindLatest above zero', async () => {
    const kinesis = fakeKinesis([
      { MillisBehindLatest: 900_000 },
      { MillisBehindLatest: 900_000 },
      { MillisBehindLatest: 900_000 },
      { MillisBehindLatest: 900_000 },
      { MillisBehindLatest: 900_000 },
    ]);
    const [f] = await checkConsumerLag(kinesis, 'sesflow-dev-ses-events', consumers, { maxLagMs: 300_000, now });
    expect([f!.severity, f!.message]).toEqual([
      'problem',
      'consumer reputation on sesflow-dev-ses-events is 900 s behind on 1 of 1 shards (limit 300 s)',
    ]);
  });

  it('follows empty pages to the first record and measures its age', async () => {
    const kinesis = fakeKinesis([
      { MillisBehindLatest: 60_000 },
      { Records: [{ ApproximateArrivalTimestamp: new Date(now - 400_000) }], MillisBehindLatest: 60_000 },
    ]);
    const [f] = await checkConsumerLag(kinesis, 's', consumers, { maxLagMs: 300_000, now });
    expect(f!.message).toBe('consumer reputation on s is 400 s behind on 1 of 1 shards (limit 300 s)');
  });

  it('calls an empty page with MillisBehindLatest 0 caught up', async () => {
    const [f] = await checkConsumerLag(fakeKinesis([{ MillisBehindLatest: 0 }]), 's', consumers, {
      maxLagMs: 300_000,
      now,
    });
    expect([f!.severity, f!.message]).toEqual(['ok', 'consumer reputation on s is caught up (1 shards)']);
  });
});
