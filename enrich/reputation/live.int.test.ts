import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetReputationEntityCommand,
  GetSuppressedDestinationCommand,
  GetTenantCommand,
  SendEmailCommand,
} from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsLakeStore } from '../../ingest/fs-lake-store';
import { LakeWriter } from '../../ingest/lake-writer';
import { transformRecord } from '../../ingest/transform';
import { type ReputationHarness, startReputationHarness } from '../../local/services/reputation-harness';
import { openLake } from '../../queries/duckdb-lake';
import { assertTenantMaySend, resumeTenant } from './actuate';
import { TenantPausedError } from './errors';
import { processStreamBatch, type StreamRecord } from './live';
import type { CounterStore } from './ports';
import { rebuildReputation } from './rebuild';
import { tenantTraffic } from './test-traffic';

const STREAM = 'arn:aws:kinesis:us-east-1:111122223333:stream/ses-events';
const NOW = new Date('2026-06-08T00:00:00Z');
let h: ReputationHarness;
let seq = 1000n;
const dirs: string[] = [];

beforeAll(async () => {
  h = await startReputationHarness(() => NOW);
});
afterAll(async () => {
  await h?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Raw SES records as one shard's Kinesis records, with increasing sequence numbers. */
function asStream(records: Record<string, unknown>[]): StreamRecord[] {
  return records.map((r) => {
    seq += 1n;
    return { sequenceNumber: `4960${seq.toString().padStart(40, '0')}`, data: `${JSON.stringify(r)}\n` };
  });
}

function firstBounced(raw: Record<string, unknown>[]): string {
  const b = raw.find((r) => r.eventType === 'Bounce') as { bounce: { bouncedRecipients: { emailAddress: string }[] } };
  return b.bounce.bouncedRecipients[0]!.emailAddress;
}

async function hourTotals(tenant: string) {
  const hours = await h.counters.readHours(tenant, '2026-06-01T00', '2026-06-08T23');
  const full = hours.filter((b) => b.armedSince === undefined);
  return {
    sent: full.reduce((s, b) => s + b.sent, 0),
    delivered: full.reduce((s, b) => s + b.delivered, 0),
    hard: full.reduce((s, b) => s + b.hardBounces, 0),
    complaints: full.reduce((s, b) => s + b.complaints, 0),
  };
}

describe('live path on DynamoDB Local and the SES simulator', () => {
  it('pauses a tenant bouncing at 8 %, refuses its next send, never pauses a clean tenant; resume is audited', async () => {
    await h.addTenant('bad');
    await h.addTenant('clean');
    const badRaw = tenantTraffic({
      tenant: 'bad',
      sent: 1000,
      hard: 80,
      time: '2026-06-07T10:00:00.000Z',
      domain: 'typo.test',
    });
    const records = asStream([
      ...badRaw,
      ...tenantTraffic({ tenant: 'clean', sent: 1000, hard: 5, time: '2026-06-07T10:00:00.000Z' }),
    ]);
    const out = await processStreamBatch(h.deps, { streamArn: STREAM, shardId: 'shardId-000000000000', records });
    expect(out.failed).toEqual([]);
    expect(out.paused).toEqual(['bad']);
    expect(out.decisions.get('clean')?.state).toBe('active');

    // The gate refuses at once, with the reason; so does SES (tenant DISABLED, configuration set paused).
    await expect(assertTenantMaySend(h.status, 'bad')).rejects.toThrow(TenantPausedError);
    await expect(assertTenantMaySend(h.status, 'bad')).rejects.toThrow(
      /bad is paused since 2026-06-08T00:00:00.000Z: bounce rate 8.00 %/,
    );
    await expect(assertTenantMaySend(h.status, 'clean')).resolves.toBeUndefined();
    const sendAs = (tenant: string) =>
      h.ses.send(
        new SendEmailCommand({
          FromEmailAddress: 'news@mail.test',
          Destination: { ToAddresses: ['success@simulator.amazonses.com'] },
          Content: { Simple: { Subject: { Data: 'hi' }, Body: { Text: { Data: 'hi' } } } },
          TenantName: tenant,
          ConfigurationSetName: `${tenant}-set`,
        }),
      );
    await expect(sendAs('bad')).rejects.toMatchObject({ name: 'SendingPausedException' });
    await expect(sendAs('clean')).resolves.toMatchObject({ MessageId: expect.any(String) });

    const audit = await h.status.listAudit('bad');
    expect(audit.map((a) => a.action)).toEqual(['auto-pause']);
    expect(audit[0]!.evidence?.topDomains?.[0]).toEqual({ name: 'typo.test', count: 80 });
    expect(h.alerts).toEqual(['sesflow paused tenant bad']);
    // Hard bounces are on the tenant's suppression list.
    const sup = await h.ses.send(
      new GetSuppressedDestinationCommand({ EmailAddress: firstBounced(badRaw), TenantName: 'bad' }),
    );
    expect(sup.SuppressedDestination?.Reason).toBe('BOUNCE');

    // A redelivery of the same batch changes nothing: no second pause, no second audit or alert.
    const again = await processStreamBatch(h.deps, { streamArn: STREAM, shardId: 'shardId-000000000000', records });
    expect([again.counted, again.failed.length]).toEqual([0, 0]);
    expect(await h.status.listAudit('bad')).toHaveLength(1);
    expect(h.alerts).toHaveLength(1);

    // Resume: a human act with a reason; SES sending back on, window re-armed, audited.
    await expect(resumeTenant(h.deps, 'bad', 'officer@example.test', '  ', NOW)).rejects.toThrow(/reason/);
    await resumeTenant(h.deps, 'bad', 'officer@example.test', 'list cleaned', new Date('2026-06-07T12:00:00Z'));
    await expect(assertTenantMaySend(h.status, 'bad')).resolves.toBeUndefined();
    await expect(sendAs('bad')).resolves.toMatchObject({ MessageId: expect.any(String) });
    const arn = (await h.ses.send(new GetTenantCommand({ TenantName: 'bad' }))).Tenant!.TenantArn!;
    const entity = await h.ses.send(
      new GetReputationEntityCommand({ ReputationEntityType: 'RESOURCE', ReputationEntityReference: arn }),
    );
    expect(entity.ReputationEntity?.CustomerManagedStatus?.Status).toBe('ENABLED');
    const audit2 = await h.status.listAudit('bad');
    expect(audit2.map((a) => [a.action, a.actor, a.note])).toContainEqual([
      'resume',
      'officer@example.test',
      'list cleaned',
    ]);

    // Re-armed: the old bounces no longer count; clean traffic after the resume keeps it active.
    const after = asStream(
      tenantTraffic({ tenant: 'bad', sent: 200, hard: 1, time: '2026-06-07T13:00:00.000Z', label: 'after' }),
    );
    const out3 = await processStreamBatch(h.deps, {
      streamArn: STREAM,
      shardId: 'shardId-000000000000',
      records: after,
    });
    expect(out3.decisions.get('bad')?.state).toBe('active');
    expect(out3.decisions.get('bad')?.evidence.counts).toEqual({
      sent: 200,
      delivered: 199,
      hardBounces: 1,
      complaints: 0,
    });
  });

  it('a crash mid-batch and the batch redelivered three times leave the counters exact', async () => {
    await h.addTenant('f1');
    await h.addTenant('f2');
    const records = asStream([
      ...tenantTraffic({ tenant: 'f1', sent: 300, hard: 3, time: '2026-06-06T09:30:00.000Z' }),
      ...tenantTraffic({ tenant: 'f2', sent: 200, hard: 2, complaints: 1, time: '2026-06-06T23:59:59.000Z' }),
      ...tenantTraffic({ tenant: 'f1', sent: 100, time: '2026-06-06T10:00:00.000Z', label: 'late' }),
    ]);
    const shard = { streamArn: STREAM, shardId: 'shardId-000000000001' };
    // The Lambda crashes after counting the first 400 records: the invocation fails, nothing is acknowledged.
    await processStreamBatch(h.deps, { ...shard, records: records.slice(0, 400) });
    // A store that fails every tenant's second write: partial failure, reported, never acknowledged.
    let calls = 0;
    const flaky: CounterStore = {
      readHours: (t, f, to) => h.counters.readHours(t, f, to),
      addRecords: async (input) => {
        calls++;
        if (calls % 2 === 0) throw new Error('DynamoDB throttled');
        return h.counters.addRecords(input);
      },
    };
    const partial = await processStreamBatch({ ...h.deps, counters: flaky }, { ...shard, records });
    expect(partial.failed.length).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) await processStreamBatch(h.deps, { ...shard, records });
    expect(await hourTotals('f1')).toEqual({ sent: 400, delivered: 397, hard: 3, complaints: 0 });
    expect(await hourTotals('f2')).toEqual({ sent: 200, delivered: 198, hard: 2, complaints: 1 });
  });

  it('a record that cannot be transformed is reported as failed, never acknowledged', async () => {
    const records: StreamRecord[] = [
      { sequenceNumber: '49600000000000000000000000000000000000000000099', data: '{"eventType":' },
    ];
    const out = await processStreamBatch(h.deps, { streamArn: STREAM, shardId: 'shardId-000000000002', records });
    expect(out.failed).toEqual([records[0]!.sequenceNumber]);
  });

  it('the live path and the rebuild from the lake agree on the same events', async () => {
    const tenants = ['a1', 'a2', 'a3', 'a4'];
    for (const t of tenants) await h.addTenant(t);
    const raw = [
      ...tenantTraffic({ tenant: 'a1', sent: 1000, hard: 70, time: '2026-06-05T08:00:00.000Z' }),
      ...tenantTraffic({ tenant: 'a2', sent: 1000, hard: 60, time: '2026-06-05T08:00:00.000Z' }),
      ...tenantTraffic({ tenant: 'a3', sent: 3000, complaints: 2, time: '2026-06-07T23:10:00.000Z' }),
      ...tenantTraffic({ tenant: 'a4', sent: 500, hard: 4, time: '2026-05-31T23:00:00.000Z', label: 'old' }),
      ...tenantTraffic({ tenant: 'a4', sent: 150, hard: 4, time: '2026-06-03T01:00:00.000Z' }),
      ...tenantTraffic({ tenant: 'a4', sent: 20, hard: 20, time: '2026-06-01T00:30:00.000Z', label: 'edge' }),
    ];
    const records = asStream(raw);
    // Live: in batches of 500, each delivered twice (at-least-once), across two shards.
    for (let i = 0; i < records.length; i += 500) {
      const batch = records.slice(i, i + 500);
      const shardId = `shardId-00000000000${(i / 500) % 2}`;
      await processStreamBatch(h.deps, { streamArn: STREAM, shardId: `${shardId}-agree`, records: batch });
      await processStreamBatch(h.deps, { streamArn: STREAM, shardId: `${shardId}-agree`, records: batch });
    }
    const live = new Map<string, { state: string; counts: unknown; reasons: string[] }>();
    for (const t of tenants) {
      const state = await h.status.getState(t);
      const hours = await h.counters.readHours(t, '2026-05-01T00', '2026-06-08T23');
      const { evaluateHours } = await import('./buckets');
      const { STANDARD_POLICY } = await import('../../tenants/policy');
      const d = evaluateHours(hours, STANDARD_POLICY, NOW, state.armedSince);
      live.set(t, { state: d.state, counts: d.evidence.counts, reasons: d.reasons });
      expect(state.status === 'paused').toBe(d.state === 'paused');
    }
    // Rebuild: the same records through the transform into a lake, then DuckDB and the same engine.
    const dir = mkdtempSync(join(tmpdir(), 'sesflow-agree-'));
    dirs.push(dir);
    const w = new LakeWriter({ store: new FsLakeStore(dir), stream: 'test' });
    for (const r of raw) {
      const t = transformRecord(JSON.stringify(r));
      if (t.ok) w.addRows(t.rows);
    }
    await w.close();
    const db = await openLake(dir);
    const rebuilt = await rebuildReputation(db, { at: NOW });
    db.close();
    expect(rebuilt.map((r) => r.tenant_id)).toEqual(tenants);
    for (const r of rebuilt) {
      const l = live.get(r.tenant_id)!;
      expect({ state: r.state, counts: r.evidence.counts, reasons: r.reasons }).toEqual(l);
    }
    expect(rebuilt.map((r) => r.state)).toEqual(['paused', 'warning', 'warning', 'warning']);
  });
});
