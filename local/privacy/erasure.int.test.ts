import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactLake } from '../../ingest/compact';
import { FsLakeStore } from '../../ingest/fs-lake-store';
import { pairKeySql, recipientKeySql } from '../../ingest/rollups';
import { rollUpLake } from '../../ingest/rollups-writer';
import { expectRollupsEqualBuildSql } from '../../ingest/test-rollups';
import { hasSharedFixtures, loadSesEventFixtures } from '../../lib/shared-fixtures';
import type { ErasureReport } from '../../privacy/ports';
import { parseErasureRequest } from '../../privacy/request';
import { openLake } from '../../queries/duckdb-lake';
import { NAMED_QUERIES } from '../../queries/named-queries';
import { type QueryRow, runNamedQuery } from '../../queries/run-named-query';
import type { RunningPipeline } from '../pipeline/local-pipeline';
import { startTestPipeline } from '../pipeline/test-pipeline.test-support';
import { LOCAL_REPORTING_KEY_FILE, pushPipelineService } from '../services/push';
import { createLocalErasure, LOCAL_ERASURE_AUDIT_FILE } from './local-erasure';

// The acceptance test of erasure: one recipient, in events of every type (two tenants, a compacted hour and a raw
// Firehose hour, and a closed day already rolled up) and in error records, forgotten on the local pipeline; nothing of
// them left anywhere (the rollups derived from them rebuilt), every count the same.
const ADDRESS = 'Forget.Me_1@example.org';
const REQUESTED = 'forget.me_1@EXAMPLE.org';
const OTHER = 'stays.here@example.com';
const TENANTS = ['acme', 'globex'];
const dataDir = mkdtempSync(join(tmpdir(), 'sesflow-erasure-'));
const lakeDir = join(dataDir, 'lake');
let pipeline: RunningPipeline;
let previousPort: string | undefined;

const DETAIL_KEY: Record<string, string> = {
  Send: 'send',
  Delivery: 'delivery',
  DeliveryDelay: 'deliveryDelay',
  Open: 'open',
  Click: 'click',
  Bounce: 'bounce',
  Complaint: 'complaint',
  Reject: 'reject',
  RenderingFailure: 'failure',
  Subscription: 'subscription',
};

/** The fixture of each type as a record of `tenant` for message `messageId` at `at`, sent to `to` only. */
function recordsFor(tenant: string, messageId: string, at: number, to: string): string[] {
  const out: string[] = [];
  for (const [name, fixture] of Object.entries(loadSesEventFixtures())) {
    const text = JSON.stringify(fixture).replaceAll('jane.doe@example.net', to).replaceAll('"acme"', `"${tenant}"`);
    const ev = JSON.parse(text) as Record<string, Record<string, unknown>>;
    ev.mail!.messageId = messageId;
    ev.mail!.timestamp = new Date(at).toISOString();
    const detail = ev[DETAIL_KEY[name]!];
    if (detail && typeof detail === 'object' && 'timestamp' in detail)
      detail.timestamp = new Date(at + 60_000).toISOString();
    out.push(JSON.stringify(ev));
  }
  return out;
}

async function putRecords(records: string[]): Promise<void> {
  const firehose = pipeline.ctx.clients.firehose!;
  await firehose.send(
    new PutRecordBatchCommand({
      DeliveryStreamName: pipeline.ctx.resources.eventsStream,
      Records: records.map((r) => ({ Data: Buffer.from(r) })),
    }),
  );
}

async function settle(): Promise<void> {
  await pipeline.ctx.shared.firehose!.flush();
  await pipeline.ctx.shared.pushProducer!.drain(90_000);
  await pipeline.ctx.shared.pushPusher!.drain(90_000);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** Every file's path and digest: what a dry run must leave as it was. */
function snapshot(): Map<string, string> {
  return new Map(filesUnder(lakeDir).map((f) => [f, createHash('sha256').update(readFileSync(f)).digest('hex')]));
}

const forms = (a: string) => [a.toLowerCase(), encodeURIComponent(a).toLowerCase()];
const holds = (text: string) => forms(ADDRESS).some((f) => text.toLowerCase().includes(f));

/** Where the address is under the data directory: raw bytes of every file, decoded Parquet, decoded raw records. */
async function whereIsAddress(): Promise<string[]> {
  const found: string[] = [];
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    for (const f of filesUnder(dataDir)) {
      const bytes = readFileSync(f);
      if (holds(bytes.toString('latin1'))) found.push(`${f} (bytes)`);
      if (f.endsWith('.parquet')) {
        const rows = (await conn.runAndReadAll(`SELECT * FROM read_parquet('${f}')`)).getRowObjectsJS();
        if (holds(JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? String(v) : v)))) found.push(`${f} (rows)`);
      }
      if (f.includes(`${join('lake', 'errors')}`)) {
        for (const line of bytes.toString('utf8').split('\n').filter(Boolean)) {
          const raw = Buffer.from(String((JSON.parse(line) as { rawData: string }).rawData), 'base64').toString('utf8');
          if (holds(raw)) found.push(`${f} (raw record)`);
        }
      }
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return found;
}

async function dynamoItems(): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await pipeline.ctx.clients.documentClient!.send(
      new ScanCommand({ TableName: pipeline.ctx.resources.table, ExclusiveStartKey: start }),
    );
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

const receiver = () => pipeline.ctx.shared.reportingReceiver!;
const receiverText = () => JSON.stringify([...receiver().records().values()].map((r) => r.record));

/**
 * Every named query for every tenant and for all, over the whole lake; a text holding the address or its pseudonym
 * (a recipient, a diagnostic quoting it) shown as `<r>`, the erased columns (event id, IP, user agent) left out.
 */
async function allQueryResults(messageIds: string[]): Promise<Record<string, string[]>> {
  const db = await openLake(lakeDir);
  const out: Record<string, string[]> = {};
  try {
    for (const [name, q] of NAMED_QUERIES) {
      for (const tenant of [null, ...TENANTS]) {
        for (const messageId of q.params.some((p) => p.name === 'message_id') ? messageIds : [undefined]) {
          const raw: Record<string, string | undefined> = { message_id: messageId };
          if (q.params.some((p) => p.name === 'from')) {
            raw.from = new Date(Date.now() - 3 * 86_400_000).toISOString();
            raw.to = new Date(Date.now() + 86_400_000).toISOString();
          }
          const rows = await runNamedQuery(db, name, raw, { tenant });
          out[`${name} ${tenant ?? 'all'} ${messageId ?? ''}`] = rows
            .map((r: QueryRow) =>
              JSON.stringify(
                Object.fromEntries(
                  Object.entries(r)
                    .filter(([k]) => k !== 'event_id' && k !== 'ip' && k !== 'user_agent')
                    .map(([k, v]) => [k, typeof v === 'string' && (holds(v) || v.includes('erased:')) ? '<r>' : v]),
                ),
              ),
            )
            .sort();
        }
      }
    }
  } finally {
    db.close();
  }
  return out;
}

const request = parseErasureRequest({
  address: REQUESTED,
  reason: 'GDPR art. 17 request #4711',
  requestedBy: 'compliance-officer',
});
const messageA = '010001a0b1c2d3e4-aaaaaaaa-0000-0000-0000-00000000000a-000000';
const messageB = '010001a0b1c2d3e4-bbbbbbbb-0000-0000-0000-00000000000b-000000';
const messageC = '010001a0b1c2d3e4-cccccccc-0000-0000-0000-00000000000c-000000';
const messageD = '010001a0b1c2d3e4-dddddddd-0000-0000-0000-00000000000d-000000';
let derivedKeys: { recipient: string[]; pair: string[] } = { recipient: [], pair: [] };
let heldBefore: string[] = [];

/** The recipient and pair keys of the rows of the address (what the rollups hold of it), as text. */
async function keysOfAddress(): Promise<{ recipient: string[]; pair: string[] }> {
  const db = await openLake(lakeDir);
  try {
    const mine = `lower(recipient) = '${ADDRESS.toLowerCase()}'`;
    const r = await db.query<{ k: bigint }>(
      `SELECT DISTINCT ${recipientKeySql('duckdb')} AS k FROM events WHERE ${mine}`,
    );
    const p = await db.query<{ k: bigint }>(
      `SELECT DISTINCT ${pairKeySql('duckdb')} AS k FROM events WHERE ${mine} AND event_type IN ('open', 'click')`,
    );
    return { recipient: r.map((x) => String(x.k)), pair: p.map((x) => String(x.k)) };
  } finally {
    db.close();
  }
}

/** Which of the keys the rollup files hold (`<table>:<key>`). */
async function rollupRowsOf(keys: { recipient: string[]; pair: string[] }): Promise<string[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const found: string[] = [];
  try {
    for (const [table, column, list] of [
      ['bounces', 'recipient_key', keys.recipient],
      ['complaints', 'recipient_key', keys.recipient],
      ['pairs', 'pair_key', keys.pair],
    ] as const) {
      if (list.length === 0) continue;
      const glob = join(lakeDir, 'rollups', table, '*', '*.parquet');
      const rows = (
        await conn.runAndReadAll(
          `SELECT DISTINCT CAST(${column} AS VARCHAR) AS k FROM read_parquet('${glob}', hive_partitioning = false)
           WHERE CAST(${column} AS VARCHAR) IN (${list.map((k) => `'${k}'`).join(', ')})`,
        )
      ).getRowObjectsJS() as { k: string }[];
      found.push(...rows.map((x) => `${table}:${x.k}`));
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return found;
}
let erasure: ReturnType<typeof createLocalErasure>;
let before: Record<string, string[]>;
let dryRun: ErasureReport;
let report: ErasureReport;
let second: ErasureReport;
let untouchedByDryRun = false;
let foundBefore: string[] = [];

describe.skipIf(!hasSharedFixtures)(
  'forgetting a recipient on the local pipeline (skipped: ../shared/ses-events absent)',
  () => {
    beforeAll(async () => {
      previousPort = process.env.SESFLOW_PORT_REPORTING;
      process.env.SESFLOW_PORT_REPORTING = '0';
      pipeline = await startTestPipeline(dataDir, {
        lakeDir,
        tenants: TENANTS.map((name) => ({ name })),
        historyMessages: 150,
        compactEveryMs: 0,
        extensions: [pushPipelineService()],
      });
      const hour = 3_600_000;
      const now = Date.now();
      // acme: every type, three hours ago (an hour compaction merges); globex: every type ten minutes ago (Firehose
      // files); another recipient beside ours on a third message, and records the transform refuses.
      await putRecords([
        ...recordsFor('acme', messageA, now - 3 * hour, ADDRESS),
        ...recordsFor('globex', messageB, now - 10 * 60_000, ADDRESS.toLowerCase()),
        ...recordsFor('acme', messageC, now - 3 * hour, OTHER).slice(0, 3),
        // Yesterday noon: a closed day, rolled up before the erasure.
        ...recordsFor('acme', messageD, Math.floor(now / 86_400_000) * 86_400_000 - 12 * hour, ADDRESS),
        JSON.stringify({ eventType: 'Bounce', mail: { destination: [ADDRESS] } }),
        `not json, but it names ${encodeURIComponent(ADDRESS)} and ${ADDRESS}`,
      ]);
      await settle();
      await compactLake(lakeDir, { closedBefore: new Date(now - hour) });
      await rollUpLake(new FsLakeStore(lakeDir), { closedBefore: new Date(now) });
      derivedKeys = await keysOfAddress();
      heldBefore = await rollupRowsOf(derivedKeys);
      before = await allQueryResults([messageA, messageB, messageC, messageD]);
      foundBefore = await whereIsAddress();
      const key = readFileSync(join(dataDir, LOCAL_REPORTING_KEY_FILE), 'utf8').trim();
      erasure = createLocalErasure({
        dataDir,
        lakeDir,
        endpoints: { ...pipeline.ctx.endpoints, reporting: receiver().url },
        table: pipeline.ctx.resources.table,
        reportingKey: key,
      });
      const preDry = snapshot();
      const receiverBefore = receiverText();
      dryRun = await erasure.forget(request, true);
      untouchedByDryRun =
        JSON.stringify([...snapshot()]) === JSON.stringify([...preDry]) && receiverText() === receiverBefore;
      report = await erasure.forget(request, false);
      second = await erasure.forget(request, false);
    }, 300_000);

    afterAll(async () => {
      erasure?.close();
      await pipeline?.stop();
      if (previousPort === undefined) delete process.env.SESFLOW_PORT_REPORTING;
      else process.env.SESFLOW_PORT_REPORTING = previousPort;
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('before: the address is in compacted and Firehose files, rollups, error records, DynamoDB and at the receiver', () => {
      // The search that must come back empty afterwards finds it before, in each form it looks at.
      expect(foundBefore.some((f) => f.endsWith('.parquet (rows)') && f.includes('sesflow~compacted'))).toBe(true);
      expect(foundBefore.some((f) => f.endsWith('.parquet (rows)') && !f.includes('sesflow~compacted'))).toBe(true);
      expect(foundBefore.some((f) => f.endsWith('(raw record)'))).toBe(true);
      expect(foundBefore.some((f) => f.includes('reporting-received.ndjson'))).toBe(true);
      const lake = dryRun.stores.find((s) => s.store.startsWith('lake events'))!;
      expect(lake.found).toBeGreaterThanOrEqual(19);
      expect(lake.items!.some((i) => i.includes('sesflow~compacted'))).toBe(true);
      expect(lake.items!.some((i) => !i.includes('sesflow~compacted'))).toBe(true);
      expect(dryRun.stores.find((s) => s.store === 'lake error records')!.found).toBe(2);
      expect(dryRun.stores.find((s) => s.store.startsWith('DynamoDB'))!.found).toBeGreaterThan(0);
      expect(dryRun.stores.find((s) => s.store.startsWith('External Reporting'))!.found).toBe(3);
      // Yesterday's rollups: the bounce diagnostic quotes the address, the keys derive from it.
      expect(foundBefore.some((f) => f.includes(join('rollups', 'bounces')) && f.endsWith('(rows)'))).toBe(true);
      expect(derivedKeys.recipient.length).toBeGreaterThan(0);
      expect(derivedKeys.pair.length).toBeGreaterThan(0);
      for (const table of ['bounces', 'complaints', 'pairs'])
        expect(
          heldBefore.some((k) => k.startsWith(`${table}:`)),
          table,
        ).toBe(true);
      const rollups = dryRun.stores.find((s) => s.store === 'lake rollups')!;
      expect(rollups.found).toBe(1);
      expect(rollups.action).toMatch(/^would rebuild 1 days/);
    });

    it('--dry-run changes nothing and lists what would change', () => {
      expect(untouchedByDryRun).toBe(true);
      expect(dryRun.dryRun).toBe(true);
      expect(dryRun.stores.every((s) => s.changed === 0)).toBe(true);
      expect(dryRun.stores.find((s) => s.store.startsWith('lake events'))!.action).toMatch(/^would rewrite/);
    });

    it('afterwards the address is nowhere under the data directory (bytes, Parquet rows, raw error records)', async () => {
      expect(await whereIsAddress()).toEqual([]);
      // The other recipient of the lake is untouched.
      const db = await openLake(lakeDir);
      try {
        const rows = await db.query<{ n: bigint }>('SELECT count(*) AS n FROM events WHERE recipient = ?', [OTHER]);
        expect(Number(rows[0]!.n)).toBe(3);
      } finally {
        db.close();
      }
    });

    it('afterwards no rollup row derives from the address; each rollup is its build SQL over the rewritten events', async () => {
      expect(await rollupRowsOf(derivedKeys)).toEqual([]);
      const rollups = report.stores.find((s) => s.store === 'lake rollups')!;
      expect([rollups.found, rollups.changed]).toEqual([1, 1]);
      const totals = await expectRollupsEqualBuildSql(lakeDir);
      expect(totals.size).toBeGreaterThan(0);
    });

    it('afterwards the address is nowhere in DynamoDB', async () => {
      const items = await dynamoItems();
      expect(items.length).toBeGreaterThan(0);
      expect(items.filter((i) => holds(JSON.stringify(i)))).toEqual([]);
    });

    it('afterwards the receiver holds no record of the address, in memory or in its NDJSON file', async () => {
      expect(holds(receiverText())).toBe(false);
      expect(receiver().records().size).toBeGreaterThan(100);
      expect(holds(readFileSync(join(dataDir, 'reporting-received.ndjson'), 'utf8'))).toBe(false);
      const ext = report.stores.find((s) => s.store.startsWith('External Reporting'))!;
      expect(ext.changed).toBe(3);
    });

    it('every named query for every tenant gives the same answers as before', async () => {
      const after = await allQueryResults([messageA, messageB, messageC, messageD]);
      expect(Object.keys(after).length).toBe(NAMED_QUERIES.size * 3 + 3 * 3);
      expect(after).toEqual(before);
      expect(before['tenant-summary all ']!.length).toBeGreaterThan(0);
    });

    it('the report lists each store, and the audit keeps a digest of the address, never the address', () => {
      expect(report.stores.map((s) => s.store)).toEqual([
        'External Reporting (delivery records)',
        'OpenSearch (event documents)',
        'DynamoDB (push record states, message items, job outcomes)',
        'SES suppression lists',
        'lake error records',
        'lake events (Parquet)',
        'lake rollups',
      ]);
      expect(report.complete).toBe(true);
      expect(report.addressDigest).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
      const audit = readFileSync(join(dataDir, LOCAL_ERASURE_AUDIT_FILE), 'utf8');
      expect(audit.trim().split('\n')).toHaveLength(3);
      expect(audit).toContain(report.addressDigest);
      expect(holds(audit)).toBe(false);
    });

    it('running it again is harmless: nothing found, nothing changed', () => {
      for (const s of second.stores.filter((x) => x.store !== 'SES suppression lists')) {
        expect(s.found, s.store).toBe(0);
        expect(s.changed, s.store).toBe(0);
      }
      expect(second.addressDigest).toBe(report.addressDigest);
    });
  },
);
