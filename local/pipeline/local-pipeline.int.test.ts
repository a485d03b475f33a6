import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetTenantCommand,
  SendingPausedException,
  UpdateReputationEntityCustomerManagedStatusCommand,
} from '@aws-sdk/client-sesv2';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryRowSink } from '../firehose/row-sink';
import { textMail } from '../ses-simulator/text-mail.test-support';
import type { RunningPipeline } from './local-pipeline';
import type { PipelineService } from './service';
import { startTestPipeline, stopPipelineAfterAll } from './test-pipeline.test-support';

const dataDir = mkdtempSync(join(tmpdir(), 'sesflow-pipeline-'));
const rows = new MemoryRowSink();
const extensionStarted: string[] = [];
let pipeline: RunningPipeline;

const extension: PipelineService = {
  name: 'probe-extension',
  async start(ctx) {
    extensionStarted.push(ctx.endpoints.ses ?? 'no ses');
    return { stop: async () => void extensionStarted.push('stopped') };
  },
};

/** A one-line mail from globex to the simulator's success address, through globex's configuration set. */
const globexSend = (tags?: { Name: string; Value: string }[]) =>
  textMail({ from: 'news@mail.globex-example.com', configurationSet: 'globex-events', tenant: 'globex', tags });

beforeAll(async () => {
  pipeline = await startTestPipeline(dataDir, {
    historyMessages: 300,
    rowSink: () => rows,
    extensions: [extension],
  });
});

stopPipelineAfterAll(() => pipeline, dataDir);

describe('startLocalPipeline', () => {
  it('starts every service in order, extensions before live traffic, and writes endpoints.json', () => {
    expect(pipeline.services).toEqual([
      'dynamodb',
      'fauxqs',
      'kinesis',
      'firehose',
      'ses-simulator',
      'demo-tenants',
      'dns-server',
      'history',
      'probe-extension',
      'lake-compaction',
      'traffic',
    ]);
    expect(extensionStarted[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const endpoints = JSON.parse(readFileSync(join(dataDir, 'endpoints.json'), 'utf8'));
    expect(endpoints.ses).toBe(pipeline.ctx.endpoints.ses);
    // The demo tenants' DNS server, for the sender-auth checks (`sesflow tenants check` reads it here).
    expect(endpoints.dns).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(existsSync(join(dataDir, 'history-seeded'))).toBe(true);
  });

  it('loads the history through the Firehose into rows for the demo tenants, none in the future', () => {
    const tenants = new Set(rows.rows.map((r) => r.tenant_id));
    expect(tenants).toEqual(new Set(['acme', 'globex', 'initech', 'umbrella', 'hooli']));
    expect(rows.rows.filter((r) => r.event_type === 'send').length).toBeGreaterThan(250);
    expect(Math.max(...rows.rows.map((r) => r.event_time))).toBeLessThanOrEqual(Date.now());
    expect(rows.errors).toHaveLength(0);
  });

  it('onboards demo tenants in the simulator, and a send by a demo tenant reaches the rows', async () => {
    const ses = pipeline.ctx.clients.ses!;
    const tenant = await ses.send(new GetTenantCommand({ TenantName: 'globex' }));
    expect(tenant.Tenant?.SendingStatus).toBe('ENABLED');
    const res = await ses.send(
      globexSend([
        { Name: 'tenant', Value: 'globex' },
        { Name: 'campaign', Value: 'probe' },
      ]),
    );
    const sim = pipeline.ctx.shared.sesSimulator!;
    await sim.simulator.flushEvents({ all: true });
    await pipeline.ctx.shared.firehose!.flush();
    const mine = rows.rows.filter((r) => r.message_id === res.MessageId);
    expect(mine.map((r) => r.event_type).sort()).toEqual(['delivery', 'send']);
    expect(mine.every((r) => r.tenant_id === 'globex' && r.campaign_id === 'probe')).toBe(true);

    await ses.send(
      new UpdateReputationEntityCustomerManagedStatusCommand({
        ReputationEntityType: 'RESOURCE',
        ReputationEntityReference: tenant.Tenant!.TenantArn!,
        SendingStatus: 'DISABLED',
      }),
    );
    await expect(ses.send(globexSend())).rejects.toBeInstanceOf(SendingPausedException);
  });
});
