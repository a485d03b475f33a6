import { describe, expect, it } from 'vitest';
import { CHECKED_WRITERS, parseLakeFileName } from '../ingest/lake-schema';
import { partitionMayHoldDuplicates } from './duckdb-lake';

const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';
const file = (writer: string, stamp: string) => `${writer}-${stamp}-${uuid}.parquet`;
const ingest = (stamp: string) => file(CHECKED_WRITERS.ingest, stamp);
const compacted = (stamp: string) => file(CHECKED_WRITERS.compacted, stamp);

describe('parseLakeFileName', () => {
  it('reads the writer and stamp of a Firehose-style name, and nothing else', () => {
    expect(parseLakeFileName(file('sesflow-events', '2026-11-25-06-00-01'))).toEqual({
      writer: 'sesflow-events',
      stamp: '2026-11-25-06-00-01',
    });
    expect(parseLakeFileName('part-0.parquet')).toBeNull();
    expect(parseLakeFileName(`${CHECKED_WRITERS.ingest}-2026-11-25-06-00-01-nouuid.parquet`)).toBeNull();
  });
});

describe('partitionMayHoldDuplicates', () => {
  it('files of checking writers only, none older than the compaction: clean', () => {
    expect(partitionMayHoldDuplicates([ingest('2026-11-25-06-00-01'), ingest('2026-11-25-06-00-02')])).toBe(false);
    expect(partitionMayHoldDuplicates([compacted('2026-11-25-06-00-01')])).toBe(false);
    expect(partitionMayHoldDuplicates([compacted('2026-11-25-06-00-01'), ingest('2026-11-25-07-00-00')])).toBe(false);
  });

  it('a Firehose object or an unknown name makes the partition suspect', () => {
    expect(
      partitionMayHoldDuplicates([ingest('2026-11-25-06-00-01'), file('sesflow-events', '2026-11-25-06-00-02')]),
    ).toBe(true);
    expect(partitionMayHoldDuplicates(['data_0.parquet'])).toBe(true);
  });

  it('leftovers of a compaction that crashed before deleting its inputs make it suspect', () => {
    // An input as old as the compacted file, or a second compacted file.
    expect(partitionMayHoldDuplicates([compacted('2026-11-25-06-00-05'), ingest('2026-11-25-06-00-05')])).toBe(true);
    expect(partitionMayHoldDuplicates([compacted('2026-11-25-06-00-05'), compacted('2026-11-25-08-00-00')])).toBe(true);
  });
});
