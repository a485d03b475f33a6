import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutSuppressedDestinationCommand } from '@aws-sdk/client-sesv2';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SesV2TenantControl } from '../../enrich/reputation/sesv2-tenant-control';
import { MemoryRowSink } from '../../local/firehose/row-sink';
import type { RunningPipeline } from '../../local/pipeline/local-pipeline';
import { startTestPipeline, stopPipelineAfterAll } from '../../local/pipeline/test-pipeline.test-support';
import { emailApiPipelineService, type LocalEmailApi } from '../../local/services/email-api';
import type { SesSimulatorServer } from '../../local/ses-simulator/server';
import { MANUAL_PAUSE_REASON } from '../../tenants/lifecycle';
import { DynamoDbTenantStore } from '../../tenants/tenant-service';
import { MARKETING_MESSAGE } from './marketing-message.test-support';

// The Email API and the bulk worker inside the local pipeline: DynamoDB Local (registry, message and job items, rate
// limiter), fauxqs (job queue + DLQ), the SES simulator, and the local Firehose into an in-memory row sink.
const dataDir = mkdtempSync(join(tmpdir(), 'sesflow-email-api-'));
const rows = new MemoryRowSink();
let pipeline: RunningPipeline;
let api: LocalEmailApi;
let sim: SesSimulatorServer;
let keys: Record<string, string>;
const logLines: string[] = [];

async function call(method: string, path: string, opts: { key?: string | null; body?: unknown } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.key !== null) headers['x-api-key'] = opts.key ?? keys.acme!;
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as Record<string, unknown> };
}

async function flushEvents(): Promise<void> {
  await sim.simulator.flushEvents({ all: true });
  await pipeline.ctx.shared.firehose!.flush();
}

async function waitForJob(jobId: string, done: (j: Record<string, unknown>) => boolean, key = keys.acme) {
  for (let i = 0; i < 600; i++) {
    const res = await call('GET', `/v1/batches/${jobId}`, { key });
    if (done(res.json)) return res.json;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `job ${jobId} did not get there: ${JSON.stringify((await call('GET', `/v1/batches/${jobId}`)).json)}`,
  );
}

beforeAll(async () => {
  pipeline = await startTestPipeline(dataDir, {
    tenants: [{ name: 'acme' }, { name: 'globex' }, { name: 'umbrella' }],
    maxSendRate: 200,
    rowSink: () => rows,
    log: (line) => logLines.push(line),
    // A chunk with entries to retry comes back after 2 s (10 s in sesflow start).
    extensions: [emailApiPipelineService({ port: 0, visibilityTimeoutSeconds: 2 })],
  });
  api = pipeline.ctx.shared.emailApi!;
  sim = pipeline.ctx.shared.sesSimulator!;
  keys = JSON.parse(readFileSync(join(dataDir, 'email-api-keys.json'), 'utf8'));
  // On the account's suppression list before the first send (the sender reads the list once a minute).
  await pipeline.ctx.clients.ses!.send(
    new PutSuppressedDestinationCommand({ EmailAddress: 'gone@example.org', Reason: 'BOUNCE' }),
  );
}, 120_000);

stopPipelineAfterAll(() => pipeline, dataDir);

const MESSAGE = MARKETING_MESSAGE;

describe('Email API over HTTP (sesflow start)', () => {
  it('issues one demo key per tenant, kept in a 0600 file; the registry knows the key by its hash only', async () => {
    expect(Object.keys(keys).sort()).toEqual(['acme', 'globex', 'umbrella']);
    const scan = JSON.stringify(await api.send.registry.listKeys('acme'));
    expect(scan).toContain('key_');
    expect(scan).not.toContain(keys.acme);
  });

  it('row 12: no key in the banner links or the log, which name the key file instead', () => {
    const printed = [...pipeline.ctx.links.flatMap((l) => [l.label, l.url]), ...logLines].join('\n');
    expect(Object.keys(keys).length).toBeGreaterThan(0);
    for (const key of Object.values(keys)) expect(printed).not.toContain(key);
    expect(pipeline.ctx.links.map((l) => l.url)).toContain(join(dataDir, 'email-api-keys.json'));
  });

  it("sends one message as the key's tenant, and its Send event reaches the lake rows with tenant and campaign", async () => {
    const res = await call('POST', '/v1/messages', { body: MESSAGE });
    expect(res.status).toBe(200);
    const messageId = String(res.json.messageId);
    expect(res.json).toMatchObject({ status: 'sent', suppressed: [] });
    const status = await call('GET', `/v1/messages/${messageId}`);
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ messageId, tenantId: 'acme', status: 'sent', recipients: 1 });
    await flushEvents();
    const send = rows.rows.find((r) => r.message_id === messageId && r.event_type === 'send');
    expect(send).toMatchObject({
      tenant_id: 'acme',
      campaign_id: 'spring-launch',
      message_kind: 'marketing',
      configuration_set: 'acme-events',
      recipient: 'reader@example.org',
    });
  });

  it("answers 403 for another tenant's message, 401 without or with a wrong key, 400 with one line", async () => {
    const sent = await call('POST', '/v1/messages', { body: MESSAGE });
    const forbidden = await call('GET', `/v1/messages/${sent.json.messageId}`, { key: keys.globex });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json).toEqual({ error: 'this key cannot see that message' });
    expect((await call('POST', '/v1/messages', { key: null, body: MESSAGE })).status).toBe(401);
    expect((await call('POST', '/v1/messages', { key: 'sfk_not-a-key', body: MESSAGE })).status).toBe(401);
    const bad = await call('POST', '/v1/messages', { body: { ...MESSAGE, campaign: 'spring launch' } });
    expect(bad.status).toBe(400);
    expect(bad.text).toBe('{"error":"campaign: may contain only letters, digits, _ and - (1 to 256 characters)"}');
    // A from address outside the tenant's sending domains is the caller's mistake too.
    const foreign = await call('POST', '/v1/messages', { body: { ...MESSAGE, from: 'x@mail.globex-example.com' } });
    expect(foreign.status).toBe(400);
    expect(String(foreign.json.error)).toMatch(/not a sending domain of tenant acme/);
  });

  it('runs a bulk job through SQS: sent, suppressed, and entries over the quota retried by SQS until sent', async () => {
    // Room for 3 more recipients today: the other 3 get ACCOUNT_DAILY_QUOTA_EXCEEDED (retryable later).
    const account = sim.simulator.getAccount() as { SendQuota: { SentLast24Hours: number } };
    const quota = sim.simulator.max24HourSend;
    sim.simulator.max24HourSend = account.SendQuota.SentLast24Hours + 3;
    const destinations = [
      'r1@example.org',
      'gone@example.org',
      'r2@example.org',
      'r3@example.org',
      'success@simulator.amazonses.com', // mailbox simulator: not counted in the quota
      'r4@example.org',
      'r5@example.org',
      'r6@example.org',
    ].map((to, i) => ({ to, replacements: { n: String(i) } }));
    const res = await call('POST', '/v1/batches', {
      body: {
        from: 'news@mail.acme-example.com',
        subject: 'Hi {{n}}',
        text: 'Entry {{n}}',
        campaign: 'bulk-1',
        destinations,
      },
    });
    expect(res.status).toBe(202);
    const jobId = String(res.json.jobId);
    // First delivery: 4 sent (3 + the simulator address), 1 suppressed, 3 left for SQS to retry.
    const first = await waitForJob(jobId, (j) => Number(j.sent) + Number(j.suppressed) === 5);
    expect(first).toMatchObject({ status: 'in_progress', sent: 4, suppressed: 1, failed: 0, pending: 3 });
    sim.simulator.max24HourSend = quota;
    const done = await waitForJob(jobId, (j) => j.status === 'completed');
    expect(done).toMatchObject({ destinations: 8, sent: 7, suppressed: 1, failed: 0, pending: 0, failures: [] });
    expect(api.poller.stats().failed).toBeGreaterThanOrEqual(1);
    // Each recipient was sent once: 7 Send rows for the job's campaign, 7 distinct recipients.
    await flushEvents();
    const sends = rows.rows.filter((r) => r.campaign_id === 'bulk-1' && r.event_type === 'send');
    expect(sends.map((r) => r.recipient).sort()).toEqual(
      ['r1', 'r2', 'r3', 'r4', 'r5', 'r6']
        .map((r) => `${r}@example.org`)
        .concat('success@simulator.amazonses.com')
        .sort(),
    );
    expect(sends.every((r) => r.tenant_id === 'acme')).toBe(true);
    // A bulk message's status is readable by its tenant, and names the job.
    const one = await call('GET', `/v1/messages/${sends[0]!.message_id}`);
    expect(one.json).toMatchObject({ tenantId: 'acme', jobId, status: 'sent' });
    expect((await call('GET', `/v1/batches/${jobId}`, { key: keys.globex })).status).toBe(403);
  });

  it('refuses a paused tenant: 409 with why and since when, for one message and for a batch at submission, nothing sent', async () => {
    const doc = pipeline.ctx.clients.documentClient!;
    const tenants = new DynamoDbTenantStore(
      doc,
      pipeline.ctx.resources.table,
      new SesV2TenantControl(pipeline.ctx.clients.ses!),
    );
    const pausedAt = new Date();
    await tenants.setPaused('umbrella', true, 'officer@example.com', 'complaints from a purchased list', pausedAt);
    const accepted = sim.simulator.stats.accepted;
    const one = await call('POST', '/v1/messages', {
      key: keys.umbrella,
      body: { ...MESSAGE, from: 'news@mail.umbrella-example.com' },
    });
    expect(one.status).toBe(409);
    // The officer's words are an internal note: the tenant sees the neutral reason, never the note.
    expect(one.json.error).toBe(
      `tenant umbrella is paused since ${pausedAt.toISOString()}: ${MANUAL_PAUSE_REASON}; sending is refused until a resume`,
    );
    expect(one.json.error).not.toContain('purchased list');
    const batch = await call('POST', '/v1/batches', {
      key: keys.umbrella,
      body: {
        from: 'news@mail.umbrella-example.com',
        subject: 's',
        text: 't',
        destinations: [{ to: 'a@example.org' }, { to: 'b@example.org' }],
      },
    });
    expect(batch.status).toBe(409);
    expect(batch.json).toEqual({ error: one.json.error });
    expect(sim.simulator.stats.accepted).toBe(accepted);
  });

  it('creates the job queue with a DLQ redrive policy', async () => {
    const out = await pipeline.ctx.clients.sqs!.send(
      new GetQueueAttributesCommand({ QueueUrl: api.queueUrl, AttributeNames: ['RedrivePolicy'] }),
    );
    expect(JSON.parse(out.Attributes!.RedrivePolicy!)).toMatchObject({ maxReceiveCount: 5 });
  });
});
