import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTableInput, keys } from '../lib/table-design';
import { createLocalClients, type LocalClients } from '../local/stack/clients';
import { startDynamoDbLocal } from '../local/stack/dynamodb-local';
import type { RunningStandIn } from '../local/stack/stand-in';
import { DynamoDbTenantRepository } from './dynamodb-tenant-repository';
import { TransitionRefusedError } from './errors';
import { assertTenantMaySend, MANUAL_PAUSE_REASON } from './lifecycle';
import { DynamoDbTenantStore } from './tenant-service';

const TABLE = 'sesflow-dash-test';
let ddb: RunningStandIn;
let clients: LocalClients;
let store: DynamoDbTenantStore;
const sesCalls: [string, boolean][] = [];

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  clients = createLocalClients({ dynamodb: ddb.endpoint });
  await clients.dynamodb!.send(new CreateTableCommand(createTableInput(TABLE)));
  store = new DynamoDbTenantStore(clients.documentClient!, TABLE, {
    setSending: async (tenant, enabled) => {
      sesCalls.push([tenant, enabled]);
    },
  });
  // A tenant with a profile only (no decision yet) and one the reputation engine warned.
  await clients.documentClient!.send(
    new PutCommand({ TableName: TABLE, Item: { ...keys.tenantProfile('acme'), gsi1pk: 'TENANTS', gsi1sk: 'acme' } }),
  );
  // Registered (profile active, as the send registry writes it) and warned by the reputation engine.
  await clients.documentClient!.send(
    new PutCommand({
      TableName: TABLE,
      Item: { ...keys.tenantProfile('initech'), gsi1pk: 'TENANTS', gsi1sk: 'initech', status: 'active' },
    }),
  );
  await new DynamoDbTenantRepository(clients.documentClient!, TABLE).recordDecision(
    'initech',
    {
      state: 'warning',
      reasons: ['bounce rate 2.5 % over the warning threshold'],
      evidence: { window: { from: '2026-04-24T10:00:00.000Z', to: '2026-05-01T10:00:00.000Z' } },
    } as never,
    new Date('2026-05-01T10:00:00Z'),
  );
  await store.putStatus({
    tenantId: 'umbrella',
    state: 'warning',
    since: '2026-05-01T10:00:00.000Z',
    evidence: null,
    awsVerdict: 'HEALTHY',
  });
});

afterAll(async () => {
  clients?.destroy();
  await ddb?.stop();
});

describe('tenant service over the DynamoDB repository (DynamoDB Local)', () => {
  it('lists profiled tenants as active and decided tenants with their state', async () => {
    const list = await store.listStatuses();
    expect(
      list
        .map((s) => [s.tenantId, s.state])
        .filter(([id]) => id !== 'newcomer')
        .sort(),
    ).toEqual([
      ['acme', 'active'],
      ['initech', 'warning'],
      ['umbrella', 'warning'],
    ]);
    expect(await store.getStatus('initech')).toMatchObject({
      state: 'warning',
      since: '2026-05-01T10:00:00.000Z',
      evidence: { summary: 'bounce rate 2.5 % over the warning threshold' },
    });
    expect(await store.getStatus('nobody')).toBeNull();
  });

  it('pauses and resumes with one audit entry each, newest first, and refuses a repeated pause', async () => {
    const paused = await store.setPaused(
      'acme',
      true,
      'k-officer',
      'complaints spike',
      new Date('2026-05-02T09:00:00Z'),
    );
    expect(paused.state).toBe('paused');
    expect((await store.getStatus('acme'))?.state).toBe('paused');
    await expect(store.setPaused('acme', true, 'k-officer', 'again', new Date())).rejects.toBeInstanceOf(
      TransitionRefusedError,
    );
    await store.setPaused('acme', false, 'k-officer', 'list cleaned', new Date('2026-05-02T10:00:00Z'));
    const audit = await store.listAudit('acme');
    expect(audit.map((a) => [a.action, a.fromState, a.toState, a.note])).toEqual([
      ['resume', 'paused', 'active', 'list cleaned'],
      ['pause', 'active', 'paused', 'complaints spike'],
    ]);
    // A tenant the store has never seen (its mail is in the lake) starts from active.
    expect((await store.setPaused('newcomer', true, 'k', 'first pause', new Date())).state).toBe('paused');
    expect((await store.getStatus('newcomer'))?.state).toBe('paused');
  });

  it('lets only one of two simultaneous pauses win', async () => {
    const at = new Date('2026-05-03T00:00:00Z');
    const results = await Promise.allSettled([
      store.setPaused('umbrella', true, 'k-a', 'first', at),
      store.setPaused('umbrella', true, 'k-b', 'second', at),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await store.listAudit('umbrella')).filter((a) => a.action === 'pause')).toHaveLength(1);
  });

  it("is enforced by the send gate (enrich/'s status store reads the same profile) and switches SES sending", async () => {
    const gate = new DynamoDbTenantRepository(clients.documentClient!, TABLE);
    sesCalls.length = 0;
    await store.setPaused('hooli', true, 'k-officer', 'spam trap hits', new Date('2026-05-04T08:00:00Z'));
    await expect(assertTenantMaySend(gate, 'hooli')).rejects.toThrow(/paused/);
    // The officer's words stay internal: the gate (and so the tenant) sees the neutral reason.
    expect((await gate.getState('hooli')).statusReason).toBe(MANUAL_PAUSE_REASON);
    await expect(assertTenantMaySend(gate, 'hooli')).rejects.not.toThrow(/spam trap/);
    const resumedAt = new Date('2026-05-04T09:00:00Z');
    await store.setPaused('hooli', false, 'k-officer', 'list cleaned', resumedAt);
    await expect(assertTenantMaySend(gate, 'hooli')).resolves.toBeUndefined();
    // The resume re-arms the reputation window: only events after it count toward the next decision.
    expect((await gate.getState('hooli')).armedSince).toBe(resumedAt.getTime());
    expect(sesCalls).toEqual([
      ['hooli', false],
      ['hooli', true],
    ]);
    expect((await gate.listAudit('hooli')).map((a) => a.action).sort()).toEqual(['pause', 'resume']);
  });

  it('keeps the earlier evidence when an officer pauses by hand, and adds its own against the policy', async () => {
    // initech was warned by the engine (evidence recorded in beforeAll).
    const figures = {
      sent: 4000,
      delivered: 3900,
      hardBounces: 80,
      complaints: 2,
      bounceRate: 0.02,
      complaintRate: 0.0005,
    };
    await store.setPaused(
      'initech',
      true,
      'k-officer',
      'internal: client under review',
      new Date('2026-05-05T08:00:00Z'),
      {
        figures,
      },
    );
    const after = await store.getStatus('initech');
    expect(after?.state).toBe('paused');
    expect(after?.evidence).toMatchObject({
      kind: 'manual',
      actor: 'k-officer',
      counts: { sent: 4000, hardBounces: 80 },
      thresholds: { bouncePause: 0.05, complaintPause: 0.001 },
      earlier: { summary: 'bounce rate 2.5 % over the warning threshold' },
    });
    const [entry] = await store.listAudit('initech');
    expect(entry).toMatchObject({
      action: 'pause',
      note: 'internal: client under review',
      reason: MANUAL_PAUSE_REASON,
    });
    expect(entry?.evidence?.earlier?.summary).toBe('bounce rate 2.5 % over the warning threshold');
  });

  it('refuses to resume a suspended tenant (an operator lifts a suspension) and writes nothing', async () => {
    await clients.documentClient!.send(
      new PutCommand({
        TableName: TABLE,
        Item: { ...keys.tenantProfile('suspended-co'), gsi1pk: 'TENANTS', gsi1sk: 'suspended-co', status: 'suspended' },
      }),
    );
    await expect(store.setPaused('suspended-co', false, 'k-officer', 'please', new Date())).rejects.toThrow(
      /suspended: only an operator/,
    );
    expect((await store.getStatus('suspended-co'))?.state).toBe('suspended');
    expect(await store.listAudit('suspended-co')).toEqual([]);
  });
});
