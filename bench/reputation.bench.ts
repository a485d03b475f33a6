import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateStreamCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { assertTenantMaySend } from '../enrich/reputation/actuate';
import { TenantPausedError } from '../enrich/reputation/errors';
import { processStreamBatch, type StreamRecord } from '../enrich/reputation/live';
import { rebuildReputation } from '../enrich/reputation/rebuild';
import { tenantTraffic } from '../enrich/reputation/test-traffic';
import type { NormalisedEvent } from '../ingest/normalise';
import { encodeParquet } from '../ingest/parquet-writer';
import { transformRecord } from '../ingest/transform';
import { startKinesisPoller } from '../local/kinesis-poller';
import { startReputationHarness } from '../local/services/reputation-harness';
import { createLocalClients } from '../local/stack/clients';
import { startKinesalite } from '../local/stack/kinesis-local';
import { openLake } from '../queries/duckdb-lake';
import type { Benchmark, BenchResult } from './index';

const STREAM = 'arn:aws:kinesis:us-east-1:111122223333:stream/bench';
const BATCH = 500;
const SHARDS = 4;
const TARGET_GATE_MS = 2000;
const TARGET_REBUILD_EVENTS = 1_000_000;
const TARGET_REBUILD_S = 10;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Rows of a lake for the rebuild: 50 tenants over 7 days, 2 % hard bounces, 0.05 % complaints, unique event ids. */
function writeLake(dir: string, events: number, at: Date): void {
  const template = (record: Record<string, unknown>): NormalisedEvent => {
    const t = transformRecord(JSON.stringify(record));
    if (!t.ok || !t.rows[0]) throw new Error('bench template did not transform');
    return t.rows[0];
  };
  const [send, delivery, bounce, complaint] = tenantTraffic({
    tenant: 't',
    sent: 1,
    hard: 0,
    complaints: 1,
    time: at.toISOString(),
  })
    .concat(tenantTraffic({ tenant: 't', sent: 1, hard: 1, time: at.toISOString() }).slice(1))
    .map(template);
  const kinds = [send!, delivery!, complaint!, bounce!];
  const perFile = 100_000;
  const span = 7 * 24 * 3_600_000;
  for (let f = 0; f * perFile < events; f++) {
    const rows: NormalisedEvent[] = [];
    for (let i = f * perFile; i < Math.min(events, (f + 1) * perFile); i++) {
      const r = i % 1000;
      const kind = r < 490 ? 0 : r < 980 ? 1 : r < 990 ? 3 : r === 990 ? 2 : 1;
      const time = at.getTime() - Math.floor((i * 7919) % span);
      rows.push({
        ...kinds[kind]!,
        event_id: `bench-${i}`,
        tenant_id: `tenant-${i % 50}`,
        event_time: time,
        mail_time: time,
        recipient_domain: `d${i % 37}.test`,
      });
    }
    const sub = join(dir, 'events', `dt=bench`, `hour=${f}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `bench-${f}.parquet`), encodeParquet(rows));
  }
}

/**
 * The reputation live path and rebuild: events/s through transform + idempotent counters + policy into DynamoDB Local
 * (4 shards in parallel, batches of 500), time from the threshold-crossing batch entering the path to the send gate
 * refusing (target < 2 s), and the rebuild from a 1 M-event lake (target < 10 s).
 */
export const reputationBenchmark: Benchmark = {
  name: 'reputation',
  description: 'live path events/s into DynamoDB Local; crossing -> gate refusal (< 2 s); rebuild 1 M events (< 10 s)',
  async run({ quick, log }): Promise<BenchResult> {
    const figures: Record<string, number | string> = { cpus: cpus().length };
    const lines: string[] = [];
    const now = new Date('2026-06-08T00:00:00Z');
    const h = await startReputationHarness(() => now);
    try {
      // 1. Live path throughput.
      const tenants = quick ? 8 : 40;
      const perTenant = quick ? 500 : 2500;
      const shardRecords: StreamRecord[][] = Array.from({ length: SHARDS }, () => []);
      let seq = 0n;
      let rows = 0;
      for (let t = 0; t < tenants; t++) {
        await h.addTenant(`b${t}`);
        const raw = tenantTraffic({
          tenant: `b${t}`,
          sent: perTenant,
          hard: perTenant / 100,
          time: '2026-06-07T10:00:00.000Z',
        });
        for (const r of raw) {
          seq += 1n;
          shardRecords[t % SHARDS]!.push({
            sequenceNumber: `49${seq.toString().padStart(50, '0')}`,
            data: JSON.stringify(r),
          });
        }
      }
      // Interleave tenants in each shard as a stream would.
      for (const s of shardRecords) s.sort((a, b) => (a.sequenceNumber < b.sequenceNumber ? -1 : 1));
      const records = shardRecords.reduce((n, s) => n + s.length, 0);
      const t0 = performance.now();
      let counted = 0;
      await Promise.all(
        shardRecords.map(async (s, i) => {
          for (let b = 0; b < s.length; b += BATCH) {
            const out = await processStreamBatch(h.deps, {
              streamArn: STREAM,
              shardId: `shardId-${i}`,
              records: s.slice(b, b + BATCH),
            });
            if (out.failed.length) throw new Error(`${out.failed.length} records failed in the bench`);
            counted += out.counted;
          }
        }),
      );
      const liveS = (performance.now() - t0) / 1000;
      for (let t = 0; t < tenants; t++)
        rows += (await h.counters.readHours(`b${t}`, '2026-06-07T10', '2026-06-07T10'))[0]?.sent ?? 0;
      figures['live records'] = records;
      figures['live records/s'] = Math.round(records / liveS);
      lines.push(
        `live path: ${fmt(records)} SES records (${tenants} tenants, ${SHARDS} shards, batches of ${BATCH}) in ${liveS.toFixed(1)} s = ${fmt(records / liveS)} records/s into DynamoDB Local (counted ${fmt(counted)}, sends in counters ${fmt(rows)})`,
      );

      // 2. Crossing -> gate refusal, through the stream: the threshold-crossing records are put on a kinesalite
      // stream read by the local event source stand-in (as in `sesflow start`); the clock starts at PutRecords.
      await h.addTenant('gate');
      const clean = tenantTraffic({ tenant: 'gate', sent: 1000, hard: 10, time: '2026-06-07T11:00:00.000Z' });
      const bad = tenantTraffic({
        tenant: 'gate',
        sent: 300,
        hard: 150,
        time: '2026-06-07T11:30:00.000Z',
        label: 'bad',
      });
      const kinesalite = await startKinesalite();
      const kc = createLocalClients({ kinesis: kinesalite.endpoint });
      const kinesis = kc.kinesis!;
      try {
        await kinesis.send(new CreateStreamCommand({ StreamName: 'gate', ShardCount: 1 }));
        const putAll = async (raw: Record<string, unknown>[]) => {
          for (let i = 0; i < raw.length; i += 500) {
            const out = await kinesis.send(
              new PutRecordsCommand({
                StreamName: 'gate',
                Records: raw
                  .slice(i, i + 500)
                  .map((r) => ({ Data: Buffer.from(JSON.stringify(r)), PartitionKey: 'gate' })),
              }),
            );
            if (out.FailedRecordCount) throw new Error('kinesalite refused records in the bench');
          }
        };
        const poller = await startKinesisPoller({
          kinesis,
          streamName: 'gate',
          consumer: 'bench',
          idleMs: 100,
          handler: (batch) => processStreamBatch(h.deps, batch),
        });
        try {
          await putAll(clean);
          await poller.drain();
          await assertTenantMaySend(h.status, 'gate');
          const g0 = performance.now();
          await putAll(bad);
          let refusedAt = 0;
          while (!refusedAt && performance.now() - g0 < 30_000) {
            try {
              await assertTenantMaySend(h.status, 'gate');
            } catch (err) {
              if (!(err instanceof TenantPausedError)) throw err;
              refusedAt = performance.now();
            }
          }
          if (!refusedAt) throw new Error('the gate did not refuse within 30 s');
          const gateMs = refusedAt - g0;
          figures['crossing to gate refusal ms'] = Math.round(gateMs);
          lines.push(
            `crossing -> gate refusal: ${gateMs.toFixed(0)} ms from PutRecords of ${bad.length} records (kinesalite, consumer polling every 100 ms when idle) vs target < ${TARGET_GATE_MS} ms: ${gateMs < TARGET_GATE_MS ? 'met' : 'MISSED'}`,
          );
        } finally {
          await poller.stop();
        }
      } finally {
        kc.destroy();
        await kinesalite.stop();
      }
    } finally {
      await h.stop();
    }

    // 3. Rebuild from the lake.
    const events = quick ? 100_000 : TARGET_REBUILD_EVENTS;
    const dir = mkdtempSync(join(tmpdir(), 'sesflow-rep-bench-'));
    try {
      const w0 = performance.now();
      writeLake(dir, events, now);
      log(`lake: ${fmt(events)} events written in ${((performance.now() - w0) / 1000).toFixed(1)} s`);
      const r0 = performance.now();
      const db = await openLake(dir);
      const rep = await rebuildReputation(db, { at: now });
      db.close();
      const rebuildS = (performance.now() - r0) / 1000;
      const total = rep.reduce((n, r) => n + r.sent + r.delivered + r.hard_bounces + r.complaints, 0);
      figures['rebuild events'] = events;
      figures['rebuild s'] = Number(rebuildS.toFixed(2));
      lines.push(
        `rebuild: ${fmt(events)} events, ${rep.length} tenants (${fmt(total)} counted) in ${rebuildS.toFixed(2)} s = ${fmt(events / rebuildS)} events/s; target 1 M in < ${TARGET_REBUILD_S} s: ${events >= TARGET_REBUILD_EVENTS ? (rebuildS < TARGET_REBUILD_S ? 'met' : 'MISSED') : 'not measured (quick)'}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return { name: 'reputation', lines, figures };
  },
};
