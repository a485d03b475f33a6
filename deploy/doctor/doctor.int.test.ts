import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteConfigurationSetEventDestinationCommand } from '@aws-sdk/client-sesv2';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main';
import type { RunningPipeline } from '../../local/pipeline';
import { startTestPipeline, stopPipelineAfterAll } from '../../local/pipeline/test-pipeline.test-support';
import { reputationPipelineService } from '../../local/services/reputation';
import { type Finding, listTenantConfigurationSets } from './checks';

const dataDir = mkdtempSync(join(tmpdir(), 'sesflow-doctor-'));
let pipeline: RunningPipeline;

/** Runs `sesflow doctor` in-process; returns its exit code and what it printed. */
async function doctor(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    const code = await main(['node', 'sesflow', 'doctor', '--data-dir', dataDir, ...args]);
    return { code, out };
  } finally {
    spy.mockRestore();
    process.exitCode = undefined;
  }
}

beforeAll(async () => {
  pipeline = await startTestPipeline(dataDir, {
    tenants: 3,
    historyMessages: 300,
    extensions: [reputationPipelineService({ idleMs: 50 })],
  });
  // The reputation consumer has read everything the history put on the stream.
  await pipeline.ctx.shared.reputationPoller!.drain(60_000);
}, 180_000);

stopPipelineAfterAll(() => pipeline, dataDir);

describe('sesflow doctor on the local pipeline', () => {
  it('finds nothing wrong with a healthy pipeline and exits 0', async () => {
    const { code, out } = await doctor('--minutes', '1440');
    expect(out).toContain(`sesflow doctor: the local pipeline in ${dataDir}`);
    for (const tenant of ['acme', 'globex', 'initech']) {
      expect(out).toMatch(new RegExp(`configuration set \\S+ \\(tenant ${tenant}\\) publishes all 10 event types`));
      expect(out).toMatch(new RegExp(`tenant ${tenant}: \\d+ events in the last 1440 min, the latest`));
    }
    expect(out).toContain('dead-letter queue sesflow-reporting-dlq is empty');
    expect(out).toMatch(/consumer reputation on sesflow-ses-events is caught up \(2 shards\)/);
    expect(out).toContain('healthy: no problem found');
    expect(out).not.toContain('PROBLEM');
    expect(code).toBe(0);
  });

  it('says in plain words what is wrong: a lost event destination, a dead letter, a lagging consumer', async () => {
    const { ses, sqs } = pipeline.ctx.clients;
    const sets = await listTenantConfigurationSets(ses!);
    const globexSet = sets.get('globex')![0]!;
    await ses!.send(
      new DeleteConfigurationSetEventDestinationCommand({
        ConfigurationSetName: globexSet,
        EventDestinationName: 'lake-firehose',
      }),
    );
    const { QueueUrl } = await sqs!.send(new GetQueueUrlCommand({ QueueName: 'sesflow-reporting-dlq' }));
    await sqs!.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"reason":"refused by External Reporting"}' }));
    // A second consumer that never checkpointed: it would start from the oldest record on the stream.
    writeFileSync(join(dataDir, 'audit-export-consumer.json'), '{}\n');

    // Ten minutes from now, the oldest unread record is at least ten minutes old.
    const at = new Date(Date.now() + 10 * 60_000).toISOString();
    const { code, out } = await doctor('--minutes', '1440', '--max-lag', '60', '--at', at);
    expect(code).toBe(1);
    expect(out).toContain(
      `PROBLEM  configuration set ${globexSet} (tenant globex) publishes no events to Firehose stream sesflow-events: the lake misses them`,
    );
    expect(out).toMatch(/configuration set \S+ \(tenant acme\) publishes all 10 event types/);
    expect(out).toContain('PROBLEM  dead-letter queue sesflow-reporting-dlq holds 1 message(s)');
    expect(out).toMatch(
      /PROBLEM +consumer audit-export on sesflow-ses-events is \d+ s behind on \d of 2 shards \(limit 60 s\)/,
    );
    expect(out).toMatch(/ok +consumer reputation on sesflow-ses-events is caught up/);
    expect(out).toMatch(/3 problems found/);
    rmSync(join(dataDir, 'audit-export-consumer.json'));
  });

  it('names every tenant with no recent events, as JSON on request', async () => {
    const at = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const { code, out } = await doctor('--minutes', '30', '--at', at, '--format', 'json');
    const report = JSON.parse(out) as { target: string; findings: Finding[] };
    const quiet = report.findings.filter((f) => f.check === 'recent events' && f.severity === 'problem');
    expect(quiet.map((f) => f.message.split(':')[0]).sort()).toEqual([
      'tenant acme',
      'tenant globex',
      'tenant initech',
    ]);
    expect(quiet[0]!.message).toContain('no events in the lake in the last 30 min');
    expect(code).toBe(1);
  });

  it('refuses bad options with a one-line error', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect((await doctor('--minutes', 'soon')).code).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toBe('sesflow: --minutes must be a number\n');
      expect((await doctor('--stage', 'prod')).code).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toContain('either --stage (AWS) or --data-dir (local)');
    } finally {
      err.mockRestore();
    }
  });
});
