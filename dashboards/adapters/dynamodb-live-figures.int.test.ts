import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbCounterStore } from '../../enrich/reputation/dynamodb-counter-store';
import type { SequencedRows } from '../../enrich/reputation/ports';
import { tenantTraffic } from '../../enrich/reputation/test-traffic';
import type { NormalisedEvent } from '../../ingest/normalise';
import { encodeParquet } from '../../ingest/parquet-writer';
import { partitionOf, transformRecord } from '../../ingest/transform';
import { createTableInput, keys } from '../../lib/table-design';
import { createLocalClients, type LocalClients } from '../../local/stack/clients';
import { startDynamoDbLocal } from '../../local/stack/dynamodb-local';
import type { RunningStandIn } from '../../local/stack/stand-in';
import { generateTraffic } from '../../local/traffic-model';
import { type LakeDb, openLake } from '../../queries/duckdb-lake';
import { buildTestLake, type TestLake, testTenants } from '../test-lake';
import { createDuckDbLiveFigures } from './duckdb-live-figures';
import { DynamoDbLiveFigures } from './dynamodb-live-figures';

const hasJava = !spawnSync('java', ['-version'], { stdio: 'ignore' }).error;

const TABLE = 'sesflow-live-figures-test';
const HOUR = 3_600_000;
const START = Date.parse('2026-05-01T00:00:00Z');
const SPAN_HOURS = 40;
const MESSAGES = 1200;
const STREAM = 'arn:aws:kinesis:eu-west-1:123456789012:stream/sesflow-test-ses-events';

let ddb: RunningStandIn;
let clients: LocalClients;
let lake: TestLake;
let db: LakeDb;
let counters: DynamoDbCounterStore;
const rows: NormalisedEvent[] = [];
let armedTenant = '';
let armedSince = 0;

/**
 * The same traffic two ways: through the reputation path's counter store into DynamoDB Local (what the Lambda reads
 * in AWS), and through the Firehose transform into a Parquet lake read by the DuckDB live figures (what `sesflow
 * start` reads). Both must give the same figures.
 */
beforeAll(async () => {
  if (!hasJava) return;
  const ddbStarting = startDynamoDbLocal();
  // The lake: the traffic model through the real transform and Parquet writer (same seed and tenants as below).
  lake = buildTestLake({ messages: MESSAGES, start: new Date(START), spanHours: SPAN_HOURS });
  for (const record of generateTraffic({
    seed: 42,
    tenants: testTenants(),
    messages: MESSAGES,
    start: new Date(START),
    spanHours: SPAN_HOURS,
  })) {
    const out = transformRecord(`${JSON.stringify(record)}\n`);
    if (out.ok) rows.push(...out.rows);
  }
  // The model's complaints are rare: a burst of complaints and hard bounces of one tenant, in the lake and counted.
  const burst: NormalisedEvent[] = [];
  for (const record of tenantTraffic({
    tenant: 'umbrella',
    sent: 300,
    hard: 12,
    complaints: 6,
    time: new Date(START + 30 * HOUR + 25 * 60_000).toISOString(),
    label: 'burst',
  })) {
    const out = transformRecord(`${JSON.stringify(record)}\n`);
    if (!out.ok) throw new Error(`the transform refused a test record: ${out.reason}`);
    burst.push(...out.rows);
  }
  const { dt, hour } = partitionOf(burst[0]!.event_time);
  const dir = join(lake.dir, 'events', `dt=${dt}`, `hour=${hour}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'burst.parquet'), encodeParquet(burst));
  rows.push(...burst);
  db = await openLake(lake.dir);
  ddb = await ddbStarting;
  clients = createLocalClients({ dynamodb: ddb.endpoint });
  await clients.dynamodb!.send(new CreateTableCommand(createTableInput(TABLE)));
  counters = new DynamoDbCounterStore(clients.documentClient!, TABLE);

  // One stream record per normalised record, per tenant in order, as processStreamBatch hands them over.
  const byTenant = new Map<string, SequencedRows[]>();
  rows.forEach((r, i) => {
    const list = byTenant.get(r.tenant_id) ?? [];
    list.push({ sequenceNumber: String(1000 + i), rows: [r] });
    byTenant.set(r.tenant_id, list);
  });
  // One tenant was resumed mid-hour: its later batches also feed the armed bucket of that hour.
  // Half-way through its records, at half past the hour of the record there.
  armedTenant = [...byTenant.keys()].sort()[0]!;
  const armedRecords = byTenant.get(armedTenant)!;
  const armedFrom = Math.ceil(armedRecords.length / 2 / 250) * 250;
  armedSince = Math.floor(armedRecords[armedFrom]!.rows[0]!.event_time / HOUR) * HOUR + 30 * 60_000;
  for (const [tenantId, records] of byTenant) {
    for (let i = 0; i < records.length; i += 250) {
      const chunk = records.slice(i, i + 250);
      const armed = tenantId === armedTenant && i >= armedFrom ? armedSince : null;
      await counters.addRecords({
        streamArn: STREAM,
        shardId: 'shardId-000000000000',
        tenantId,
        records: chunk,
        armedSince: armed,
      });
    }
    // Registered as the send registry registers tenants (the profile, listed through gsi1 TENANTS).
    await clients.documentClient!.send(
      new PutCommand({
        TableName: TABLE,
        Item: { ...keys.tenantProfile(tenantId), gsi1pk: 'TENANTS', gsi1sk: tenantId, status: 'active' },
      }),
    );
  }
});

afterAll(async () => {
  db?.close();
  clients?.destroy();
  await ddb?.stop();
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

describe.skipIf(!hasJava)('DynamoDB live figures over the reputation counters (DynamoDB Local)', () => {
  const tenantIds = async () => [...new Set(rows.map((r) => r.tenant_id))];

  it('the traffic has what the comparison needs: several tenants, hard bounces, complaints, simulator mail', () => {
    expect(new Set(rows.map((r) => r.tenant_id)).size).toBeGreaterThanOrEqual(4);
    expect(rows.filter((r) => r.counts_toward_bounce_rate).length).toBeGreaterThan(12);
    expect(rows.filter((r) => r.counts_toward_complaint_rate)).toHaveLength(6);
    expect(rows.some((r) => r.is_simulator && r.event_type === 'send')).toBe(true);
  });

  it('equal the lake figures (DuckDB) with every hour in the window, armed bucket not counted twice', async () => {
    const live = new DynamoDbLiveFigures({ counters, tenantIds, cacheMs: 0 });
    const duck = createDuckDbLiveFigures(db, undefined, { cacheMs: 0 });
    const now = new Date(START + SPAN_HOURS * HOUR + 20 * 60_000);
    const got = await live.figures(now);
    expect(got).toEqual(await duck.figures(now));
    // And against the rows themselves: sends of the last 24 h and the week, simulator mail left out.
    const counted = rows.filter((r) => !r.is_simulator && r.event_type === 'send');
    const endMs = Math.floor(now.getTime() / HOUR + 1) * HOUR;
    expect(got.reduce((s, f) => s + f.sent7d, 0)).toBe(counted.length);
    expect(got.reduce((s, f) => s + f.sent24h, 0)).toBe(
      counted.filter((r) => r.event_time >= endMs - 24 * HOUR).length,
    );
    // The resume hour has its armed part in the table beside the full hour, with fewer sends; only the full counts.
    const hourKey = new Date(armedSince).toISOString().slice(0, 13);
    const stored = await counters.readHours(armedTenant, hourKey, hourKey);
    const armedPart = stored.find((h) => h.armedSince === armedSince)!;
    const fullHour = stored.find((h) => h.armedSince === undefined)!;
    expect(armedPart.sent).toBeGreaterThan(0);
    expect(armedPart.sent).toBeLessThan(fullHour.sent);
    const armed = got.find((f) => f.tenantId === armedTenant)!;
    const armedHour = `${hourKey}:00:00Z`;
    expect(armed.hourly.find((h) => h.hour === armedHour)!.sent).toBe(
      counted.filter(
        (r) =>
          r.tenant_id === armedTenant && new Date(r.event_time).toISOString().slice(0, 13) === armedHour.slice(0, 13),
      ).length,
    );
  });

  it('equal the lake figures when the week has moved past the first hours, which then count no more', async () => {
    const live = new DynamoDbLiveFigures({ counters, tenantIds, cacheMs: 0 });
    const duck = createDuckDbLiveFigures(db, undefined, { cacheMs: 0 });
    const now = new Date(START + 7 * 24 * HOUR + 12 * HOUR + 5 * 60_000);
    const got = await live.figures(now);
    expect(got).toEqual(await duck.figures(now));
    const all = await live.figures(new Date(START + SPAN_HOURS * HOUR));
    expect(got.reduce((s, f) => s + f.sent7d, 0)).toBeLessThan(all.reduce((s, f) => s + f.sent7d, 0));
    expect(got.every((f) => f.hourly.length === 168)).toBe(true);
  });

  it('a registered tenant without traffic in the week is not listed; an unknown tenant reads as nothing', async () => {
    const live = new DynamoDbLiveFigures({
      counters,
      tenantIds: async () => [...(await tenantIds()), 'dormant', 'no-such-tenant'],
      cacheMs: 0,
    });
    const got = await live.figures(new Date(START + SPAN_HOURS * HOUR));
    expect(got.map((f) => f.tenantId).sort()).toEqual((await tenantIds()).sort());
  });

  it('reuses an answer within cacheMs in the same hour, and reads again after it', async () => {
    let reads = 0;
    let clock = 0;
    const live = new DynamoDbLiveFigures({
      counters: {
        readHours: (...a) => {
          reads++;
          return counters.readHours(...a);
        },
      },
      tenantIds: async () => [armedTenant],
      cacheMs: 1000,
      clock: () => clock,
    });
    const now = new Date(START + SPAN_HOURS * HOUR);
    const first = await live.figures(now);
    await live.figures(now);
    expect(reads).toBe(1);
    clock = 1001;
    expect(await live.figures(now)).toEqual(first);
    expect(reads).toBe(2);
  });
});
