import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSuppressedDestinationCommand } from '@aws-sdk/client-sesv2';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryRowSink } from '../../local/firehose/row-sink';
import type { RunningPipeline } from '../../local/pipeline/local-pipeline';
import { startTestPipeline, stopPipelineAfterAll } from '../../local/pipeline/test-pipeline.test-support';
import { emailApiPipelineService } from '../../local/services/email-api';
import type { SesSimulatorServer } from '../../local/ses-simulator/server';
import { MARKETING_MESSAGE } from './marketing-message.test-support';

// One-click unsubscribe end to end: the Email API adds the headers to marketing mail (the SES simulator keeps them
// with the message), the endpoint puts the recipient on the tenant's SES suppression list, the next send skips them,
// and the unsubscribe reaches the lake as a Subscription record, once.
const dataDir = mkdtempSync(join(tmpdir(), 'sesflow-unsubscribe-'));
const rows = new MemoryRowSink();
let pipeline: RunningPipeline;
let api: NonNullable<RunningPipeline['ctx']['shared']['emailApi']>;
let sim: SesSimulatorServer;
let key: string;

const MARKETING = MARKETING_MESSAGE;

async function send(body: unknown) {
  const res = await fetch(`${api.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function storedHeaders(messageId: string): Promise<Record<string, string>> {
  const res = await fetch(`${sim.endpoint}/_sesflow/messages`);
  const { Messages } = (await res.json()) as {
    Messages: { messageId: string; headers: { Name: string; Value: string }[] }[];
  };
  const m = Messages.find((x) => x.messageId === messageId);
  return Object.fromEntries((m?.headers ?? []).map((h) => [h.Name, h.Value]));
}

/** An RFC 8058 one-click POST, as a mailbox provider sends it. */
const oneClick = (url: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });

beforeAll(async () => {
  pipeline = await startTestPipeline(dataDir, {
    tenants: [{ name: 'acme' }],
    rowSink: () => rows,
    extensions: [emailApiPipelineService({ port: 0 })],
  });
  api = pipeline.ctx.shared.emailApi!;
  sim = pipeline.ctx.shared.sesSimulator!;
  key = (JSON.parse(readFileSync(join(dataDir, 'email-api-keys.json'), 'utf8')) as Record<string, string>).acme!;
}, 120_000);

stopPipelineAfterAll(() => pipeline, dataDir);

describe('one-click unsubscribe through the Email API', () => {
  it('marketing mail carries List-Unsubscribe (HTTPS-style link with a token) and List-Unsubscribe-Post', async () => {
    const sent = await send(MARKETING);
    expect(sent.status).toBe(200);
    const headers = await storedHeaders(String(sent.json.messageId));
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(headers['List-Unsubscribe']).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/v1\/unsubscribe\?token=[A-Za-z0-9_-]+>$/);
    // The address is not readable in the link.
    expect(headers['List-Unsubscribe']).not.toContain('reader');
    // Transactional mail goes without.
    const receipt = await send({ ...MARKETING, messageKind: 'transactional', to: ['buyer@example.org'] });
    expect(await storedHeaders(String(receipt.json.messageId))).toEqual({});
  });

  it('a marketing message to several recipients is refused with one line (each needs their own link)', async () => {
    const res = await send({ ...MARKETING, to: ['a@example.org', 'b@example.org'] });
    expect(res.status).toBe(400);
    expect(String(res.json.error)).toMatch(/^a marketing message goes to one recipient/);
  });

  it('the one-click POST suppresses the recipient (idempotent), and the next send to them is skipped', async () => {
    const sent = await send(MARKETING);
    const url = /^<([^>]+)>$/.exec((await storedHeaders(String(sent.json.messageId)))['List-Unsubscribe']!)![1]!;
    const first = await oneClick(url);
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('unsubscribed\n');
    const again = await oneClick(url);
    expect(again.status).toBe(200);
    expect(await again.text()).toBe('already unsubscribed\n');
    const listed = await pipeline.ctx.clients.ses!.send(
      new GetSuppressedDestinationCommand({ EmailAddress: 'reader@example.org', TenantName: 'acme' }),
    );
    expect(listed.SuppressedDestination?.EmailAddress).toBe('reader@example.org');
    const next = await send(MARKETING);
    expect(next.status).toBe(200);
    expect(next.json).toEqual({ messageId: null, status: 'suppressed', suppressed: ['reader@example.org'] });
    // Recorded for the reports as a Subscription event, once although it was posted twice.
    await pipeline.ctx.shared.firehose!.flush();
    const subs = rows.rows.filter((r) => r.event_type === 'subscription' && r.recipient === 'reader@example.org');
    expect(new Set(subs.map((r) => r.event_id)).size).toBe(1);
    expect(subs[0]).toMatchObject({ tenant_id: 'acme', campaign_id: 'spring-launch' });
  });

  it('a bad or missing token is a one-line 400; a GET shows a page and unsubscribes nobody', async () => {
    const bad = await oneClick(`${api.url}/v1/unsubscribe?token=${'A'.repeat(60)}`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe('the unsubscribe link is not valid\n');
    const none = await oneClick(`${api.url}/v1/unsubscribe`);
    expect(none.status).toBe(400);
    expect(await none.text()).toBe('the unsubscribe link has no token\n');
    const sent = await send({ ...MARKETING, to: ['other@example.org'] });
    const url = /^<([^>]+)>$/.exec((await storedHeaders(String(sent.json.messageId)))['List-Unsubscribe']!)![1]!;
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post"');
    expect((await send({ ...MARKETING, to: ['other@example.org'] })).json.status).toBe('sent');
  });
});
