import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsRecord } from '../../lib/sqs-event.test-support';
import { type ReportingReceiver, startReportingReceiver } from '../../local/reporting-receiver/server';
import { packRecords } from './batches';
import { syntheticRecords } from './test-events';

const KEY = 'handler-test-key-0123456789';
let receiver: ReportingReceiver;

beforeAll(async () => {
  receiver = await startReportingReceiver({ apiKeys: [KEY], rejectTenants: ['tenant-1'] });
  process.env.SESFLOW_REPORTING_URL = receiver.url;
  process.env.SESFLOW_REPORTING_API_KEY = KEY;
  // No SQS call is made unless a batch is refused: the refused one's queue is unreachable, so it fails and is retried.
  process.env.SESFLOW_PUSH_QUEUE_URL = 'http://127.0.0.1:9/000000000000/records';
  process.env.SESFLOW_PUSH_DLQ_URL = 'http://127.0.0.1:9/000000000000/records-dlq';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  process.env.AWS_ENDPOINT_URL_SQS = 'http://127.0.0.1:9';
  process.env.SESFLOW_PUSH_MAX_ATTEMPTS = '1';
});

afterAll(async () => {
  await receiver.close();
});

const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

function sqsEvent(bodies: string[]): SQSEvent {
  return { Records: bodies.map((body, i) => sqsRecord(`m-${i}`, `r-${i}`, body, 'records')) };
}

describe('push Lambda handler', () => {
  it('acknowledges delivered batches and reports the one it could not settle as a batch item failure', async () => {
    const { handler } = await import('../push.handler');
    const good = packRecords(syntheticRecords(20, { tenants: 1, prefix: 'h' }), { maxRecords: 10, maxBytes: 1e6 });
    // tenant-1 is refused by the receiver, and the DLQ is unreachable here: that message must not be acknowledged.
    const refused = packRecords(
      syntheticRecords(4, { tenants: 2, prefix: 'x' }).filter((r) => r.tenant_id === 'tenant-1'),
      { maxRecords: 10, maxBytes: 1e6 },
    );
    const out = await handler(sqsEvent([...good.map((b) => b.body), refused[0]!.body]), context);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-2' }]);
    expect(receiver.records().size).toBe(20);
  });
});
