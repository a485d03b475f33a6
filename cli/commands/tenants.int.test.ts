import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetTenantCommand } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../dashboards/adapters/api-key-authenticator';
import { createTableInput } from '../../lib/table-design';
import { type LocalDnsServer, startDnsServer } from '../../local/dns-server/server';
import { type SesSimulatorServer, startSesSimulator } from '../../local/ses-simulator';
import { createLocalClients, type LocalClients } from '../../local/stack/clients';
import { startDynamoDbLocal } from '../../local/stack/dynamodb-local';
import type { RunningStandIn } from '../../local/stack/stand-in';
import { TenantRegistry } from '../../send/registry';
import { runCli } from './run-cli.test-support';

const hasJava = !spawnSync('java', ['-version'], { stdio: 'ignore' }).error;
const TABLE = 'sesflow-cli-tenants';
let ddb: RunningStandIn;
let sim: SesSimulatorServer;
let dns: LocalDnsServer;
let clients: LocalClients;
let dataDir: string;

beforeAll(async () => {
  if (!hasJava) return;
  [ddb, sim, dns] = await Promise.all([
    startDynamoDbLocal(),
    startSesSimulator({ port: 0, identityStatus: (d) => (d === 'pending.example' ? { dkim: 'PENDING' } : undefined) }),
    // The checks' DNS: a zone with the DMARC record of one test domain only.
    startDnsServer({
      records: [{ name: '_dmarc.ready.example', type: 'TXT', value: 'v=DMARC1; p=none; rua=mailto:d@ready.example' }],
    }),
  ]);
  clients = createLocalClients({ dynamodb: ddb.endpoint, ses: sim.endpoint });
  await clients.dynamodb!.send(new CreateTableCommand(createTableInput(TABLE)));
  // What `sesflow start` leaves for the other commands.
  dataDir = mkdtempSync(join(tmpdir(), 'sesflow-tenants-cli-'));
  writeFileSync(
    join(dataDir, 'endpoints.json'),
    JSON.stringify({
      dynamodb: ddb.endpoint,
      ses: sim.endpoint,
      dns: dns.address,
      unsubscribe: 'http://127.0.0.1:8081/v1/unsubscribe',
      resources: { table: TABLE, eventsStream: 'sesflow-events' },
    }),
  );
});

afterAll(async () => {
  clients?.destroy();
  await sim?.close();
  await dns?.close();
  await ddb?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Runs `sesflow tenants …` in process; returns the exit code and what it printed. */
function tenants(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCli(['tenants', '--data-dir', dataDir, ...args]);
}

describe.skipIf(!hasJava)('sesflow tenants against the local stack', () => {
  it('creates (onboards) a tenant, twice without change, and lists it', async () => {
    const first = await tenants('create', 'acme', '--domain', 'acme.example', '--policy', 'strict');
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^tenant acme: created SES tenant, configuration set, event destination, 2 association/);
    const again = await tenants('create', 'acme', '--domain', 'acme.example', '--policy', 'strict');
    expect(again.out).toMatch(/^tenant acme: already onboarded, nothing changed/);
    const t = await clients.ses!.send(new GetTenantCommand({ TenantName: 'acme' }));
    expect(t.Tenant?.TenantName).toBe('acme');

    const list = await tenants('list', '--format', 'json');
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.out) as {
      tenantId: string;
      status: string;
      policy: string;
      sendingDomains: string[];
    }[];
    expect(rows).toEqual([
      expect.objectContaining({
        tenantId: 'acme',
        status: 'active',
        policy: 'strict',
        sendingDomains: ['acme.example'],
      }),
    ]);
    const table = await tenants('list');
    expect(table.out).toMatch(/acme\s+active/);
  });

  it('issues a key printed once, which the registry finds by hash, then revokes it', async () => {
    const issued = await tenants('key', 'issue', 'acme', '--label', 'ci', '--format', 'json');
    expect(issued.code).toBe(0);
    const { key, keyId } = JSON.parse(issued.out) as { key: string; keyId: string };
    const registry = new TenantRegistry(clients.documentClient!, TABLE);
    expect(await registry.lookupKey(hashApiKey(key))).toEqual({ tenantId: 'acme', keyId });

    const listed = await tenants('key', 'list', 'acme');
    expect(listed.out).toContain(keyId);
    expect(listed.out).not.toContain(key);

    const revoked = await tenants('key', 'revoke', 'acme', keyId, '--reason', 'leaked');
    expect(revoked.out).toBe(`key ${keyId} of tenant acme revoked\n`);
    expect(await registry.lookupKey(hashApiKey(key))).toBeNull();
  });

  it('sets what the Email API requires of a tenant beside its key (OAuth clients, TLS subjects), audited', async () => {
    const on = await tenants('auth', 'acme', '--oauth-client', 'acme-app', '--mtls-subject', 'acme-client');
    expect(on.err).toBe('');
    expect(on.out).toBe('tenant acme: x-api-key required; OAuth clients: acme-app; mutual TLS subjects: acme-client\n');
    const registry = new TenantRegistry(clients.documentClient!, TABLE);
    expect(await registry.getTenant('acme')).toMatchObject({
      oauthClientIds: ['acme-app'],
      mtlsSubjects: ['acme-client'],
    });
    const off = await tenants('auth', 'acme');
    expect(off.out).toBe(
      'tenant acme: x-api-key required; OAuth clients: not required; mutual TLS subjects: not required\n',
    );
    expect((await registry.listAudit('acme')).filter((a) => a.action === 'set-authentication')).toHaveLength(2);
  });

  it('suspends a tenant by hand (gate and SES both closed), and lifts it', async () => {
    await tenants('create', 'suspco', '--domain', 'suspco.example');
    const s = await tenants('suspend', 'suspco', '--reason', 'unpaid invoices');
    expect(s.err).toBe('');
    expect(s.out).toMatch(/^tenant suspco is suspended since \d{4}-\d\d-\d\dT[\d:.]+Z: unpaid invoices\n$/);
    const registry = new TenantRegistry(clients.documentClient!, TABLE);
    expect(await registry.getTenant('suspco')).toMatchObject({ status: 'suspended', statusReason: 'unpaid invoices' });
    const t = await clients.ses!.send(new GetTenantCommand({ TenantName: 'suspco' }));
    expect(t.Tenant?.SendingStatus).toBe('DISABLED');
    expect((await tenants('suspend', 'suspco', '--reason', 'again')).err).toContain(
      'tenant suspco is already suspended',
    );

    const u = await tenants('unsuspend', 'suspco', '--reason', 'paid');
    expect(u.out).toMatch(/^tenant suspco is active since .*: paid\n$/);
    const after = await clients.ses!.send(new GetTenantCommand({ TenantName: 'suspco' }));
    expect(after.Tenant?.SendingStatus).toBe('ENABLED');
    const audit = await tenants('audit', 'suspco');
    expect(audit.out).toMatch(/suspend\s+sesflow tenants suspend\s+active\s+suspended\s+unpaid invoices/);
    expect((await registry.listAudit('suspco')).map((a) => [a.action, a.fromState, a.toState])).toEqual([
      ['onboard', 'active', 'active'],
      // Onboarding checks the domains at once (no SES identity here: blocked), and audits that first result.
      ['sender-auth', 'active', 'active'],
      ['suspend', 'active', 'suspended'],
      ['unsuspend', 'suspended', 'active'],
    ]);
  });

  it('checks the sending domains at onboarding and on demand (tenants check, table and json)', async () => {
    const { CreateEmailIdentityCommand } = await import('@aws-sdk/client-sesv2');
    for (const d of ['ready.example', 'pending.example']) {
      await clients.ses!.send(new CreateEmailIdentityCommand({ EmailIdentity: d }));
    }
    const created = await tenants('create', 'checked', '--domain', 'ready.example,pending.example');
    expect(created.out).toContain('sender readiness: at risk');
    expect(created.out).toContain('pending.example: no DMARC record at _dmarc.pending.example');
    const table = await tenants('check', 'checked');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^tenant checked: at risk \(AWS: HEALTHY\)\n/);
    expect(table.out).toMatch(/pending\.example\s+dkim\s+risk\s+DKIM is pending in SES/);
    expect(table.out).toMatch(/ready\.example\s+dmarc\s+pass/);
    const json = JSON.parse((await tenants('check', 'checked', '--format', 'json')).out) as {
      verdict: string;
      domains: { domain: string; verdict: string }[];
    };
    expect(json.domains.map((d) => [d.domain, d.verdict])).toEqual([
      ['pending.example', 'at risk'],
      ['ready.example', 'at risk'],
    ]);
    const unknown = await tenants('check', 'ghost');
    expect(unknown.code).not.toBe(0);
    expect(unknown.err.trim()).toMatch(/tenant ghost is not registered$/);
  });

  it('says clearly what is wrong, in one line, with a non-zero exit', async () => {
    const cases: [string[], string][] = [
      [['create', 'b@d', '--domain', 'x.example'], 'tenant id "b@d" is not valid'],
      [['create', 'ok', '--domain', 'x.example', '--policy', 'lax'], 'unknown policy lax'],
      [['key', 'issue', 'ghost'], 'tenant ghost is not registered'],
      [['key', 'revoke', 'acme', 'key_nope'], 'tenant acme has no key key_nope'],
      [['list', '--format', 'xml'], '--format must be table or json'],
      [['unsuspend', 'acme', '--reason', 'x'], 'tenant acme is not suspended'],
      [['suspend', 'acme', '--reason', ' '], 'needs a reason'],
      [['--endpoint', 'localhost:1', 'list'], '--endpoint must be an http(s) URL'],
      [['--endpoint', 'http://127.0.0.1:9', 'list'], 'cannot reach http://127.0.0.1:9'],
      [['--table', 'missing', 'list'], 'table missing does not exist'],
    ];
    for (const [args, message] of cases) {
      const r = await tenants(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err, args.join(' ')).toContain(message);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('without a running stack, says how to get one', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sesflow-tenants-empty-'));
    try {
      const { code, err } = await runCli(['tenants', '--data-dir', empty, 'list']);
      expect(code).toBe(1);
      expect(err).toContain('no DynamoDB endpoint: start the local stack (`sesflow start`)');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
