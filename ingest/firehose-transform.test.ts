import type { FirehoseTransformationEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { RESPONSE_BUDGET_BYTES, transformFirehoseBatch } from './firehose-transform';
import { handler } from './handler';
import { testBounce, testEvent, testMail, testOpen } from './test-events';

function batch(datas: (string | Buffer)[], arrival = Date.UTC(2026, 6, 1, 0, 0, 0)): FirehoseTransformationEvent {
  return {
    invocationId: 'inv-1',
    deliveryStreamArn: 'arn:aws:firehose:us-east-1:111122223333:deliverystream/events',
    region: 'us-east-1',
    records: datas.map((d, i) => ({
      recordId: `rec-${i}`,
      approximateArrivalTimestamp: arrival,
      data: (typeof d === 'string' ? Buffer.from(d, 'utf8') : d).toString('base64'),
    })),
  };
}

const decode = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('utf8');

describe('Firehose transformation contract', () => {
  const good = `${JSON.stringify(testBounce('Permanent', 'General'))}\n`;
  const multi = JSON.stringify(
    testEvent('Send', 'send', {}, testMail({ destination: ['a@x.test', 'b@y.test', 'c@z.test'] })),
  );

  it('returns every recordId once, in order, Ok or ProcessingFailed, never Dropped', () => {
    const { result, stats } = transformFirehoseBatch(batch([good, '{"truncated":', multi, '[1,2]']));
    expect(result.records.map((r) => r.recordId)).toEqual(['rec-0', 'rec-1', 'rec-2', 'rec-3']);
    expect(result.records.map((r) => r.result)).toEqual(['Ok', 'ProcessingFailed', 'Ok', 'ProcessingFailed']);
    expect(stats).toMatchObject({ records: 4, ok: 2, failed: 2, rows: 4 });
  });

  it('emits base64 NDJSON, one line per row, each ending with a newline', () => {
    const { result } = transformFirehoseBatch(batch([multi]));
    const text = decode(result.records[0]!.data);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.recipient)).toEqual(['a@x.test', 'b@y.test', 'c@z.test']);
    expect(lines[0].event_time).toBe('2026-05-01T10:00:00.000Z');
  });

  it('partitions by the event time, not the arrival time', () => {
    const { result } = transformFirehoseBatch(batch([good], Date.UTC(2026, 11, 31, 23)));
    expect(result.records[0]!.metadata?.partitionKeys).toEqual({ dt: '2026-05-01', hour: '10' });
  });

  it('a failed record carries its reason and the original bytes', () => {
    const { result, stats } = transformFirehoseBatch(batch(['{"eventType":"Bounce","mail":{}}']));
    const envelope = JSON.parse(decode(result.records[0]!.data));
    expect(envelope.errorType).toBe('schema-invalid');
    expect(envelope.reason).toBe('missing mail.messageId');
    expect(decode(envelope.rawData)).toBe('{"eventType":"Bounce","mail":{}}');
    expect(stats.failures[0]).toMatchObject({ recordId: 'rec-0', errorType: 'schema-invalid' });
  });

  it('fails invalid UTF-8 rather than silently replacing bytes', () => {
    const bad = Buffer.concat([
      Buffer.from('{"eventType":"Send","mail":{"messageId":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}}'),
    ]);
    const { result } = transformFirehoseBatch(batch([bad]));
    expect(result.records[0]!.result).toBe('ProcessingFailed');
    expect(JSON.parse(decode(result.records[0]!.data)).errorType).toBe('invalid-utf8');
  });

  it('keeps the response under the Lambda limit: records past the budget fail with a reason, none go missing', () => {
    const destination = Array.from({ length: 50 }, (_, i) => `reader-${i}@inbox-${i}.test`);
    const big = JSON.stringify(testEvent('Send', 'send', {}, testMail({ destination })));
    const count = Math.ceil(RESPONSE_BUDGET_BYTES / (big.length * 20)) + 20;
    const { result } = transformFirehoseBatch(batch(Array.from({ length: count }, () => big)));
    expect(result.records).toHaveLength(count);
    const size = result.records.reduce((n, r) => n + (r.data?.length ?? 0) + r.recordId.length + 100, 0);
    expect(size).toBeLessThan(6 * 1024 * 1024);
    const failedRecs = result.records.filter((r) => r.result === 'ProcessingFailed');
    expect(failedRecs.length).toBeGreaterThan(0);
    expect(JSON.parse(decode(failedRecs[0]!.data)).errorType).toBe('response-budget');
  });

  it('the Lambda handler returns the same contract', async () => {
    const out = await handler(batch([good, JSON.stringify(testOpen('Mozilla/5.0'))]));
    expect(out.records.map((r) => r.result)).toEqual(['Ok', 'Ok']);
    expect(JSON.parse(decode(out.records[1]!.data).trim()).machine_open).toBe(true);
  });
});
