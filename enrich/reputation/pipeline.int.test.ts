import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendEmailCommand, SendingPausedException } from '@aws-sdk/client-sesv2';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryRowSink } from '../../local/firehose/row-sink';
import type { KinesisPoller } from '../../local/kinesis-poller';
import type { RunningPipeline } from '../../local/pipeline/local-pipeline';
import { startTestPipeline, stopPipelineAfterAll } from '../../local/pipeline/test-pipeline.test-support';
import { reputationPipelineService } from '../../local/services/reputation';
import type { DynamoDbTenantRepository } from '../../tenants/dynamodb-tenant-repository';
import { assertTenantMaySend, resumeTenant } from './actuate';
import { TenantPausedError } from './errors';
import { SesV2TenantControl } from './sesv2-tenant-control';

// The live path inside the local pipeline: SES records from the Firehose's Kinesis fan-out, through the local event
// source stand-in, into DynamoDB Local; the pause reaches the send gate and the SES simulator.
const dataDir = mkdtempSync(join(tmpdir(), 'sesflow-rep-pipeline-'));
const rows = new MemoryRowSink();
let pipeline: RunningPipeline;
let poller: KinesisPoller;
let status: DynamoDbTenantRepository;

const send = (tenant: string) =>
  pipeline.ctx.clients.ses!.send(
    new SendEmailCommand({
      FromEmailAddress: `news@mail.${tenant}-example.com`,
      Destination: { ToAddresses: ['someone@example.org'] },
      Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 'b' } } } },
      ConfigurationSetName: `${tenant}-events`,
      TenantName: tenant,
      EmailTags: [{ Name: 'tenant', Value: tenant }],
    }),
  );

beforeAll(async () => {
  pipeline = await startTestPipeline(dataDir, {
    // A clean tenant and one whose list bounces at 8 % (hard), sending side by side over the past day.
    tenants: [{ name: 'acme' }, { name: 'globex' }, { name: 'umbrella', sender: { hardBounceRate: 0.08 } }],
    historyMessages: 3000,
    rowSink: () => rows,
    extensions: [reputationPipelineService({ idleMs: 20 })],
  });
  poller = pipeline.ctx.shared.reputationPoller!;
  status = pipeline.ctx.shared.tenantStatus!;
  await poller.drain(60_000);
}, 120_000);

stopPipelineAfterAll(() => pipeline, dataDir);

describe('reputation in the local pipeline', () => {
  it('consumes every fanned-out SES record from the stream', () => {
    const fh = pipeline.ctx.shared.firehose!;
    const fanned = [...fh.streams.values()].reduce((n, s) => n + s.stats.fannedOut, 0);
    expect(fanned).toBeGreaterThan(0);
    expect(poller.stats().reduce((n, s) => n + s.records, 0)).toBe(fanned);
  });

  it('pauses the tenant bouncing at 8 %, never the clean ones, and its next send is refused with a clear error', async () => {
    const umbrella = await status.getState('umbrella');
    expect(umbrella.status).toBe('paused');
    expect(umbrella.statusReason).toMatch(/bounce rate/);
    for (const clean of ['acme', 'globex']) expect((await status.getState(clean)).status).not.toBe('paused');

    // The send gate (what send/ checks before SES) and SES itself both refuse.
    const refused = await assertTenantMaySend(status, 'umbrella').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TenantPausedError);
    expect((refused as Error).message).toContain(`tenant umbrella is paused since ${umbrella.statusSince}`);
    await expect(send('umbrella')).rejects.toBeInstanceOf(SendingPausedException);
    await expect(send('acme')).resolves.toHaveProperty('MessageId');

    const audit = await status.listAudit('umbrella');
    expect(audit.map((a) => a.action)).toEqual(['auto-pause']);
    expect(audit[0]!.evidence?.counts.hardBounces).toBeGreaterThan(0);
  });

  it('resume is audited, switches SES sending back on, and the tenant may send again', async () => {
    const ses = new SesV2TenantControl(pipeline.ctx.clients.ses!);
    await resumeTenant({ status, ses }, 'umbrella', 'officer@example.test', 'list cleaned', new Date());
    await expect(assertTenantMaySend(status, 'umbrella')).resolves.toBeUndefined();
    await expect(send('umbrella')).resolves.toHaveProperty('MessageId');
    const audit = await status.listAudit('umbrella');
    expect(audit.map((a) => a.action)).toEqual(['auto-pause', 'resume']);
    expect(audit[1]).toMatchObject({ actor: 'officer@example.test', note: 'list cleaned', toState: 'active' });
    const sim = pipeline.ctx.shared.sesSimulator!;
    expect(sim.simulator.stats.published).toBeGreaterThan(0);
  });
});
