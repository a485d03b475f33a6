import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSenderAuth, demoZoneRecords } from '../../local/dns-server/demo-zone';
import { type LocalDnsServer, startDnsServer } from '../../local/dns-server/server';
import { MemoryRowSink } from '../../local/firehose/row-sink';
import type { RunningPipeline } from '../../local/pipeline/local-pipeline';
import { startTestPipeline, stopPipelineAfterAll } from '../../local/pipeline/test-pipeline.test-support';
import { emailApiPipelineService } from '../../local/services/email-api';
import { senderAuthPipelineService } from '../../local/services/sender-auth';
import { DynamoDbTenantRepository } from '../../tenants/dynamodb-tenant-repository';
import { type CheckDeps, checkTenant } from './check-tenant';
import { ResolverDnsSource } from './dns-record-source';

// The checks inside the local pipeline: SES identities on the SES simulator, DNS from the local dns2 server through
// node's dns.Resolver, results and audit in DynamoDB Local. The third demo tenant (initech) has no DMARC record and
// its DKIM CNAMEs unpublished (SES: PENDING).
const dataDir = mkdtempSync(join(tmpdir(), 'sesflow-sender-auth-'));
let pipeline: RunningPipeline;
let deps: CheckDeps;

beforeAll(async () => {
  pipeline = await startTestPipeline(dataDir, {
    tenants: [{ name: 'acme' }, { name: 'globex' }, { name: 'initech' }],
    rowSink: () => new MemoryRowSink(),
    extensions: [emailApiPipelineService({ port: 0 }), senderAuthPipelineService({ everyMs: 0 })],
  });
  deps = pipeline.ctx.shared.senderAuth!.deps;
}, 120_000);

stopPipelineAfterAll(() => pipeline, dataDir);

describe('sender-auth checks (sesflow start)', () => {
  it('at start: the demo tenant without DMARC and with pending DKIM is at risk with its reasons; the others are ready', async () => {
    const initech = await deps.store.get('initech');
    expect(initech?.verdict).toBe('at risk');
    expect(initech?.reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mail\.initech-example\.com: DKIM is pending in SES/),
        'mail.initech-example.com: no DMARC record at _dmarc.mail.initech-example.com: Gmail and Yahoo require one of bulk senders',
      ]),
    );
    // SPF through the custom MAIL FROM still aligns: DMARC would pass once published.
    expect(initech?.domains[0]?.spfAligned).toBe(true);
    expect(initech?.awsVerdict).toBe('HEALTHY');
    const acme = await deps.store.get('acme');
    expect(acme?.verdict).toBe('ready');
    // acme publishes DMARC at its organisational domain only: sp= applies to its sending subdomain.
    expect(acme?.domains[0]?.dmarc).toMatchObject({ name: '_dmarc.acme-example.com', policy: 'none' });
    expect((await deps.store.get('globex'))?.verdict).toBe('ready');
    expect((await deps.store.list()).map((r) => r.tenantId).sort()).toEqual(['acme', 'globex', 'initech']);
  });

  it('audits a change of verdict once: publishing the DMARC record makes the next check say so', async () => {
    const registry = new DynamoDbTenantRepository(pipeline.ctx.clients.documentClient!, pipeline.ctx.resources.table);
    const before = (await registry.listAudit('initech')).filter((a) => a.action === 'sender-auth');
    expect(before).toHaveLength(1);
    expect(before[0]?.reason).toMatch(/^sender readiness not checked -> at risk: /);
    // Same facts: stored again, nothing audited.
    await checkTenant(deps, 'initech');
    expect((await registry.listAudit('initech')).filter((a) => a.action === 'sender-auth')).toHaveLength(1);
    const dns = pipeline.ctx.shared.dnsServer!;
    const setups = demoSenderAuth(
      ['acme', 'globex', 'initech'].map((name) => ({ name, fromDomain: `mail.${name}-example.com` })),
    );
    const records = demoZoneRecords(setups, () => [], 'us-east-1');
    dns.setRecords([
      ...records,
      {
        name: '_dmarc.mail.initech-example.com',
        type: 'TXT',
        value: 'v=DMARC1; p=none; rua=mailto:d@initech-example.com',
      },
    ]);
    const after = await checkTenant(deps, 'initech');
    expect(after.reasons.some((r) => r.includes('DMARC'))).toBe(false);
    expect(after.verdict).toBe('at risk'); // DKIM is still pending
    const audit = (await registry.listAudit('initech')).filter((a) => a.action === 'sender-auth');
    expect(audit).toHaveLength(2);
  });
});

describe('DNS through the protocol', () => {
  let server: LocalDnsServer;
  beforeAll(async () => {
    server = await startDnsServer({
      records: [
        { name: 'bounce.example.test', type: 'TXT', value: `v=spf1 include:amazonses.com ${'a'.repeat(300)} ~all` },
        { name: 'bounce.example.test', type: 'MX', value: 'feedback-smtp.us-east-1.amazonses.com' },
        { name: 'tok._domainkey.example.test', type: 'CNAME', value: 'tok.dkim.amazonses.com' },
      ],
    });
  });
  afterAll(() => server.close());

  it('reads TXT (joined from 255-octet strings), MX and CNAME; an unknown name is no record, not a failure', async () => {
    const facts = await new ResolverDnsSource([server.address]).facts({
      domain: 'example.test',
      fromDomain: 'example.test',
      dkimTokens: ['tok'],
      mailFromDomain: 'bounce.example.test',
    });
    expect(facts.mailFromTxt[0]).toMatch(/^v=spf1 include:amazonses\.com a{300} ~all$/);
    expect(facts.mailFromMx).toEqual(['feedback-smtp.us-east-1.amazonses.com']);
    expect(facts.dkim).toEqual([{ name: 'tok._domainkey.example.test', targets: ['tok.dkim.amazonses.com'] }]);
    expect(facts.dmarc).toEqual([]);
    expect(facts.failures).toEqual([]);
  });

  it('a server that does not answer is a failure the evaluator sees, not an empty answer', async () => {
    const silent = await startDnsServer({ records: [] });
    await silent.close();
    const facts = await new ResolverDnsSource([silent.address], { timeoutMs: 200, tries: 1 }).facts({
      domain: 'example.test',
      fromDomain: 'example.test',
      dkimTokens: [],
      mailFromDomain: null,
    });
    expect(facts.failures.map((f) => f.name)).toEqual(['_dmarc.example.test']);
  });
});
