import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRowSink } from '../../local/firehose/row-sink';
import type { RunningPipeline } from '../../local/pipeline/local-pipeline';
import { startTestPipeline } from '../../local/pipeline/test-pipeline.test-support';
import { LOCAL_REPORTING_KEY_FILE, pushPipelineService } from '../../local/services/push';
import { buildRecords, toReportingRecord } from './record';

// External Reporting inside the local pipeline: SES records from the Firehose's Kinesis fan-out, through the record
// producer (state in DynamoDB Local) and the reporting queue on fauxqs, to the local receiver.
const dataDir = mkdtempSync(join(tmpdir(), 'sesflow-push-pipeline-'));
const rows = new MemoryRowSink();
let pipeline: RunningPipeline;
let previousPort: string | undefined;

beforeAll(async () => {
  previousPort = process.env.SESFLOW_PORT_REPORTING;
  process.env.SESFLOW_PORT_REPORTING = '0';
  pipeline = await startTestPipeline(dataDir, {
    tenants: [{ name: 'acme' }, { name: 'globex' }],
    historyMessages: 800,
    rowSink: () => rows,
    extensions: [pushPipelineService()],
  });
  const producer = pipeline.ctx.shared.pushProducer!;
  const pusher = pipeline.ctx.shared.pushPusher!;
  await producer.drain(90_000);
  await pusher.drain(90_000);
}, 180_000);

afterAll(async () => {
  await pipeline?.stop();
  if (previousPort === undefined) delete process.env.SESFLOW_PORT_REPORTING;
  else process.env.SESFLOW_PORT_REPORTING = previousPort;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('External Reporting in the local pipeline', () => {
  it('every message and recipient of the history reaches the receiver as the record its events make', () => {
    const receiver = pipeline.ctx.shared.reportingReceiver!;
    const expected = [...buildRecords(rows.rows).values()].map(toReportingRecord);
    expect(expected.length).toBeGreaterThan(500);
    const held = receiver.records();
    expect(held.size).toBe(expected.length);
    for (const r of expected) expect(held.get(r.record_id)?.record).toEqual(r);
    expect(new Set(expected.map((r) => r.status)).size).toBeGreaterThanOrEqual(4);
  });

  it('publishes the receiver in endpoints.json and its key in the data directory, for `sesflow push`', async () => {
    const receiver = pipeline.ctx.shared.reportingReceiver!;
    const endpoints = JSON.parse(readFileSync(join(dataDir, 'endpoints.json'), 'utf8')) as { reporting?: string };
    expect(endpoints.reporting).toBe(receiver.url);
    const key = readFileSync(join(dataDir, LOCAL_REPORTING_KEY_FILE), 'utf8').trim();
    const r = await fetch(`${receiver.url}/_local/stats`, { headers: { 'x-api-key': key } });
    expect(r.status).toBe(200);
  });
});
