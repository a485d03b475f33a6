import {
  CreateDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  FirehoseClient,
  InvalidArgumentException,
  PutRecordBatchCommand,
  PutRecordCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalisedEvent } from '../../ingest/normalise';
import { testBounce, testEvent } from '../../ingest/test-events';
import { MemoryRowSink } from './row-sink';
import { type LocalFirehose, startLocalFirehose } from './server';

/** A sink whose first flush fails; like the lake writer, it keeps the unwritten rows for the next flush. */
class FragileSink extends MemoryRowSink {
  private held: NormalisedEvent[] = [];
  failures = 1;
  override addRows(rows: readonly NormalisedEvent[]): void {
    this.held.push(...rows);
  }
  override async flush(): Promise<void> {
    if (this.failures-- > 0) throw new Error('disk full');
    this.rows.push(...this.held);
    this.held = [];
  }
}
const fragile = new FragileSink();
const problems: string[] = [];
const sinks = new Map<string, MemoryRowSink>([['fragile', fragile]]);
const sinkFor = (name: string) => {
  let s = sinks.get(name);
  if (!s) {
    s = new MemoryRowSink();
    sinks.set(name, s);
  }
  return s;
};
let fh: LocalFirehose;
let client: FirehoseClient;

beforeAll(async () => {
  fh = await startLocalFirehose({
    port: 0,
    sinkFor,
    streams: ['events', 'flaky', 'fragile'],
    onProblem: (line) => problems.push(line),
    bufferIntervalMs: 60_000,
    injectFailures: (stream, i) => (stream === 'flaky' && i % 2 === 1 ? 'ServiceUnavailableException' : null),
  });
  client = new FirehoseClient({
    endpoint: fh.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client?.destroy();
  await fh?.close();
});

const line = (o: unknown) => Buffer.from(`${JSON.stringify(o)}\n`);

describe('local Firehose through @aws-sdk/client-firehose', () => {
  it('runs buffered records through the shared transform into rows, and failed records into errors', async () => {
    const bounce = testBounce('Permanent', 'General', [{ emailAddress: 'reader@inbox.test' }]);
    (bounce.bounce as Record<string, unknown>).timestamp = '2026-05-01T10:00:03.000Z';
    const res = await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'events',
        Records: [{ Data: line(bounce) }, { Data: Buffer.from('{"not":"ses"') }],
      }),
    );
    expect(res.FailedPutCount).toBe(0);
    expect(res.RequestResponses?.every((r) => r.RecordId)).toBe(true);
    const sink = sinks.get('events')!;
    expect(sink.rows).toHaveLength(0); // still buffered: the interval is a minute
    await fh.flush();
    expect(sink.rows).toHaveLength(1);
    expect(sink.rows[0]!.tenant_id).toBe('tenant-a');
    expect(sink.rows[0]!.campaign_id).toBe('spring');
    expect(sink.rows[0]!.event_type).toBe('bounce');
    expect(sink.rows[0]!.event_time).toBe(Date.parse('2026-05-01T10:00:03.000Z'));
    expect(sink.errors).toHaveLength(1);
    expect(sink.errors[0]!.errorType).toBe('parse-failed');
    expect(Buffer.from(sink.errors[0]!.rawData, 'base64').toString()).toBe('{"not":"ses"');
  });

  it('reports injected per-entry failures in request order with FailedPutCount', async () => {
    const rec = line(
      testEvent('Delivery', 'delivery', {
        timestamp: '2026-05-01T10:00:02.000Z',
        processingTimeMillis: 2000,
        recipients: ['reader@inbox.test'],
        smtpResponse: '250 ok',
        reportingMTA: 'a8-12.smtp-out.amazonses.com',
      }),
    );
    const res = await client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: 'flaky', Records: [0, 1, 2, 3].map(() => ({ Data: rec })) }),
    );
    expect(res.FailedPutCount).toBe(2);
    expect(res.RequestResponses?.map((r) => r.ErrorCode ?? 'ok')).toEqual([
      'ok',
      'ServiceUnavailableException',
      'ok',
      'ServiceUnavailableException',
    ]);
    await fh.flush();
    expect(sinks.get('flaky')!.rows).toHaveLength(2);
  });

  it('retries a failed sink flush without handing the rows over twice', async () => {
    const rec = line(testBounce('Permanent', 'General'));
    await client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'fragile', Records: [{ Data: rec }] }));
    await fh.flush();
    expect(fragile.rows).toHaveLength(0);
    expect(problems.some((p) => p.includes('fragile') && p.includes('disk full'))).toBe(true);
    await fh.flush();
    expect(fragile.rows).toHaveLength(1);
    await fh.flush();
    expect(fragile.rows).toHaveLength(1);
  });

  it('rejects more than 500 records, a record over 1,000 KiB and a request over 4 MiB', async () => {
    const small = { Data: Buffer.from('{}\n') };
    await expect(
      client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'events', Records: Array(501).fill(small) })),
    ).rejects.toBeInstanceOf(InvalidArgumentException);
    const big = { Data: Buffer.alloc(1000 * 1024 + 1, 0x20) };
    await expect(
      client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'events', Records: [big] })),
    ).rejects.toBeInstanceOf(InvalidArgumentException);
    const nearMax = { Data: Buffer.alloc(900 * 1024, 0x20) };
    await expect(
      client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'events', Records: Array(5).fill(nearMax) })),
    ).rejects.toBeInstanceOf(InvalidArgumentException);
  });

  it('creates and describes streams, and refuses an unknown one', async () => {
    const created = await client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'search' }));
    expect(created.DeliveryStreamARN).toBe('arn:aws:firehose:us-east-1:123456789012:deliverystream/search');
    const d = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'search' }));
    expect(d.DeliveryStreamDescription?.DeliveryStreamStatus).toBe('ACTIVE');
    await expect(
      client.send(new PutRecordCommand({ DeliveryStreamName: 'nope', Record: { Data: Buffer.from('{}') } })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
