import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SESv2Client, SendBulkEmailCommand } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsLakeStore } from '../ingest/fs-lake-store';
import { LakeWriter } from '../ingest/lake-writer';
import { openLake } from '../queries/duckdb-lake';
import { type LocalFirehose, startLocalFirehose } from './firehose/server';
import { onboardDemoTenant } from './pipeline/demo-tenants';
import { resolveSinks } from './ses-simulator/event-sinks';
import { type SesSimulatorServer, startSesSimulator } from './ses-simulator/server';
import { textMail } from './ses-simulator/text-mail.test-support';

const lakeDir = mkdtempSync(join(tmpdir(), 'sesflow-chain-'));
let fh: LocalFirehose;
let sim: SesSimulatorServer;
let ses: SESv2Client;
let firehose: FirehoseClient;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

beforeAll(async () => {
  let n = 0;
  fh = await startLocalFirehose({
    port: 0,
    sinkFor: (stream) => new LakeWriter({ store: new FsLakeStore(lakeDir), stream }),
    streams: ['sesflow-events'],
    bufferIntervalMs: 50,
    // Every seventh record fails once: the simulator must resend it, as SES does, and lose nothing.
    injectFailures: () => (n++ % 7 === 3 ? 'ServiceUnavailableException' : null),
  });
  firehose = new FirehoseClient({ endpoint: fh.endpoint, region: 'us-east-1', credentials });
  sim = await startSesSimulator({
    port: 0,
    seed: 4,
    timeFactor: 0.00001,
    maxSendRate: 10_000,
    sinks: resolveSinks({ firehose }),
  });
  ses = new SESv2Client({ endpoint: sim.endpoint, region: 'us-east-1', credentials });
  await onboardDemoTenant(ses, {
    tenant: 'globex',
    configurationSet: 'globex-events',
    deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/sesflow-events',
    accountId: '123456789012',
    region: 'us-east-1',
  });
});

afterAll(async () => {
  ses?.destroy();
  firehose?.destroy();
  await sim?.close();
  await fh?.close();
  rmSync(lakeDir, { recursive: true, force: true });
});

describe('SES simulator -> local Firehose -> shared transform -> lake writer -> lake', () => {
  it('lands every accepted recipient as a send row with the right tenant, campaign and event time', async () => {
    const tags = [
      { Name: 'tenant', Value: 'globex' },
      { Name: 'campaign', Value: 'autumn-launch' },
      { Name: 'message_kind', Value: 'marketing' },
    ];
    const one = await ses.send(
      textMail({
        from: 'Globex <news@mail.globex-example.com>',
        to: ['complaint@simulator.amazonses.com'],
        subject: 'Launch',
        text: 'x',
        configurationSet: 'globex-events',
        tenant: 'globex',
        tags,
      }),
    );
    const bulk = await ses.send(
      new SendBulkEmailCommand({
        FromEmailAddress: 'news@mail.globex-example.com',
        ConfigurationSetName: 'globex-events',
        TenantName: 'globex',
        DefaultContent: { Template: { TemplateContent: { Subject: 'Launch' } } },
        DefaultEmailTags: tags,
        BulkEmailEntries: Array.from({ length: 40 }, (_, i) => ({
          Destination: {
            ToAddresses: [`reader${i}@${['gmail.com', 'yahoo.com', 'icloud.com', 'contoso.com'][i % 4]}`],
          },
        })),
      }),
    );
    const accepted = [one.MessageId!, ...bulk.BulkEmailEntryResults!.map((r) => r.MessageId!)];
    expect(accepted.every(Boolean)).toBe(true);

    await sim.simulator.flushEvents({ all: true });
    await fh.flush();

    const lake = await openLake(lakeDir);
    try {
      const sends = await lake.query<{ message_id: string }>(
        "SELECT DISTINCT message_id FROM events WHERE event_type = 'send'",
      );
      expect(new Set(sends.map((r) => r.message_id))).toEqual(new Set(accepted));
      const [wrong] = await lake.query<{ n: bigint }>(
        `SELECT count(*) AS n FROM events WHERE tenant_id <> 'globex' OR tenant_source <> 'tag'
           OR campaign_id <> 'autumn-launch' OR configuration_set <> 'globex-events' OR event_time < mail_time`,
      );
      expect(Number(wrong!.n)).toBe(0);
      const complaint = await lake.query<{ is_simulator: boolean; counts_toward_complaint_rate: boolean }>(
        "SELECT is_simulator, counts_toward_complaint_rate FROM events WHERE message_id = ? AND event_type = 'complaint'",
        [one.MessageId!],
      );
      expect(complaint).toEqual([{ is_simulator: true, counts_toward_complaint_rate: false }]);
      const [outcomes] = await lake.query<{ n: bigint }>(
        "SELECT count(DISTINCT message_id) AS n FROM events WHERE event_type IN ('delivery', 'bounce')",
      );
      expect(Number(outcomes!.n)).toBe(41);
    } finally {
      lake.close();
    }
    expect(existsSync(join(lakeDir, 'errors'))).toBe(false);
    expect(sim.simulator.stats.publishFailed).toBe(0);
  });
});
