import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NormalisedEvent } from '../ingest/normalise';
import { encodeParquet } from '../ingest/parquet-writer';
import { testEvent, testMail } from '../ingest/test-events';
import { partitionOf, transformRecord } from '../ingest/transform';
import { defaultTenants, generateTraffic } from '../local/traffic-model';
import { openLake } from './duckdb-lake';
import { type QueryRow, runNamedQuery } from './run-named-query';

/** The tenant of the hand-written edge cases below. */
export const EDGE_TENANT = 'edge-co';
/** The message that carries most edge cases (several recipients, a bounce, complaints). */
export const EDGE_MESSAGE_ID = '010001a0edge0001-00000000-0000-0000-0000-000000000001-000000';
const EDGE_PLAIN_ID = '010001a0edge0002-00000000-0000-0000-0000-000000000002-000000';
const EDGE_UNSUBSCRIBED_ID = '010001a0edge0003-00000000-0000-0000-0000-000000000003-000000';

function edgeMail(messageId: string, destination: string[], tags: Record<string, string[]>, at: string) {
  return testMail({
    messageId,
    timestamp: at,
    destination,
    commonHeaders: { from: ['news@mail.edge-co.test'], to: destination, subject: "Edge's <b>offer</b>" },
    tags: { 'ses:configuration-set': ['edge-co-events'], tenant: [EDGE_TENANT], ...tags },
  });
}

/**
 * SES records for what generated traffic rarely holds: suppression-list bounces and complaints, `not-spam`, a
 * complaint without feedback type, an Undetermined bounce, mail without a campaign tag, a subject with a quote.
 */
export function edgeRecords(): Record<string, unknown>[] {
  const to = ['ann@gmail.com', 'bob@hotmail.co.uk', 'cat@yahoo.fr', 'dan@me.com', 'eve@example.org'];
  const mail = edgeMail(EDGE_MESSAGE_ID, to, { campaign: ['edge-launch'] }, '2026-05-02T09:00:00.000Z');
  const plain = edgeMail(EDGE_PLAIN_ID, ['fay@outlook.de'], {}, '2026-05-03T23:30:00.000Z');
  const unsubscribed = edgeMail(
    EDGE_UNSUBSCRIBED_ID,
    ['gus@gmail.com'],
    { campaign: ['edge-launch'] },
    '2026-05-02T12:30:00.000Z',
  );
  // What SES publishes when a recipient uses List-Unsubscribe (aws-facts §1.3): an unsubscribe, and an opt-in that is not one.
  const subscription = (unsubscribeAll: boolean, at: string) =>
    testEvent(
      'Subscription',
      'subscription',
      {
        contactList: 'edge-news',
        timestamp: at,
        source: 'UnsubscribeHeader',
        newTopicPreferences: { unsubscribeAll, topicSubscriptionStatus: [] },
        oldTopicPreferences: { unsubscribeAll: !unsubscribeAll, topicSubscriptionStatus: [] },
      },
      unsubscribed,
    );
  const bounce = (type: string, subtype: string, email: string, status: string | undefined, at: string) =>
    testEvent(
      'Bounce',
      'bounce',
      {
        bounceType: type,
        bounceSubType: subtype,
        bouncedRecipients: [
          { emailAddress: email, ...(status ? { status, diagnosticCode: `smtp; ${status} ${email} said no` } : {}) },
        ],
        timestamp: at,
        feedbackId: `fb-${email}`,
      },
      mail,
    );
  const complaint = (email: string, fields: Record<string, unknown>, at: string) =>
    testEvent(
      'Complaint',
      'complaint',
      { complainedRecipients: [{ emailAddress: email }], timestamp: at, feedbackId: `fc-${email}`, ...fields },
      mail,
    );
  return [
    testEvent('Send', 'send', {}, mail),
    testEvent(
      'Delivery',
      'delivery',
      {
        timestamp: '2026-05-02T09:00:02.000Z',
        processingTimeMillis: 2000,
        recipients: ['cat@yahoo.fr', 'dan@me.com', 'eve@example.org'],
        smtpResponse: '250 ok',
        reportingMTA: 'a8-1.smtp-out.amazonses.com',
      },
      mail,
    ),
    bounce('Permanent', 'OnAccountSuppressionList', 'ann@gmail.com', undefined, '2026-05-02T09:00:01.000Z'),
    bounce('Permanent', 'General', 'bob@hotmail.co.uk', '5.1.1', '2026-05-02T09:00:03.000Z'),
    bounce('Undetermined', 'Undetermined', 'ann@gmail.com', undefined, '2026-05-02T09:00:04.000Z'),
    bounce('Transient', 'MailboxFull', 'dan@me.com', '4.2.2', '2026-05-02T09:00:05.000Z'),
    complaint('cat@yahoo.fr', { complaintFeedbackType: 'not-spam' }, '2026-05-02T10:00:00.000Z'),
    complaint('dan@me.com', { complaintSubType: 'OnAccountSuppressionList' }, '2026-05-02T10:00:01.000Z'),
    complaint('eve@example.org', { complaintFeedbackType: 'abuse' }, '2026-05-02T10:00:02.000Z'),
    complaint('eve@example.org', {}, '2026-05-02T11:00:03.000Z'),
    // Several recipients: opens carry no recipient (DESIGN.md), so they count once per message.
    testEvent('Open', 'open', { ipAddress: '198.51.100.7', timestamp: '2026-05-02T12:00:00.000Z' }, mail),
    subscription(true, '2026-05-02T13:00:00.000Z'),
    subscription(false, '2026-05-02T14:00:00.000Z'),
    testEvent('Send', 'send', {}, plain),
    testEvent(
      'Delivery',
      'delivery',
      { timestamp: '2026-05-03T23:30:01.000Z', processingTimeMillis: 900, recipients: ['fay@outlook.de'] },
      plain,
    ),
    testEvent(
      'Click',
      'click',
      {
        ipAddress: '198.51.100.9',
        timestamp: '2026-05-04T00:10:00.000Z',
        userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
        link: 'https://edge-co.test/a',
      },
      plain,
    ),
  ];
}

/** SES records through the real transform: every row they make, in record order. Throws on a refused record. */
export function transformedRows(records: Iterable<unknown>): NormalisedEvent[] {
  const rows: NormalisedEvent[] = [];
  for (const record of records) {
    const out = transformRecord(`${JSON.stringify(record)}\n`);
    if (!out.ok) throw new Error(`the transform refused a test record: ${out.reason}`);
    rows.push(...out.rows);
  }
  return rows;
}

/** SES records through the real transform, grouped by their lake partition (`dt=…/hour=…`). */
export function rowsByPartition(records: readonly unknown[]): Map<string, NormalisedEvent[]> {
  const byPartition = new Map<string, NormalisedEvent[]>();
  for (const record of records) addToPartitions(record, byPartition);
  return byPartition;
}

/**
 * One SES record through the real transform, its rows added to `byPartition` under their lake partition
 * (`dt=…/hour=…`); returns how many rows it made. Throws when the transform refuses the record.
 */
export function addToPartitions(record: unknown, byPartition: Map<string, NormalisedEvent[]>): number {
  const out = transformRecord(`${JSON.stringify(record)}\n`);
  if (!out.ok) throw new Error(`the transform refused a test record: ${out.reason}`);
  for (const r of out.rows) {
    const { dt, hour } = partitionOf(r.event_time);
    const key = `dt=${dt}/hour=${hour}`;
    const list = byPartition.get(key) ?? [];
    list.push(r);
    byPartition.set(key, list);
  }
  return out.rows.length;
}

export interface QueryTestLake {
  dir: string;
  /** One row per event_id (the first copy): what `events` must hold. */
  rows: NormalisedEvent[];
  /** Rows written twice (a redelivered file): every count must ignore them. */
  duplicates: number;
}

/**
 * A small lake the way production writes it: generated SES records (four tenants, over three days by default) and the edge
 * cases, through the real transform and Parquet writer into `events/dt=/hour=/`, plus one partition delivered twice.
 */
export function buildQueryTestLake(
  opts: { dir?: string; messages?: number; seed?: number; spanHours?: number } = {},
): QueryTestLake {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'sesflow-queries-lake-'));
  const records: unknown[] = [
    ...generateTraffic({
      seed: opts.seed ?? 11,
      tenants: defaultTenants(4),
      messages: opts.messages ?? 600,
      start: new Date('2026-05-01T00:00:00Z'),
      spanHours: opts.spanHours ?? 72,
    }),
    ...edgeRecords(),
  ];
  const byPartition = rowsByPartition(records);
  const unique = new Map<string, NormalisedEvent>();
  for (const list of byPartition.values()) for (const r of list) if (!unique.has(r.event_id)) unique.set(r.event_id, r);
  let duplicates = 0;
  for (const [key, list] of byPartition) {
    const p = join(dir, 'events', key);
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, 'events-1-2026-05-05-00-00-00-a.parquet'), encodeParquet(list));
    if (key === 'dt=2026-05-02/hour=09') {
      // Firehose delivers at least once: the same rows again in a later file.
      writeFileSync(join(p, 'events-1-2026-05-05-00-05-00-b.parquet'), encodeParquet(list));
      duplicates += list.length;
    }
  }
  return { dir, rows: [...unique.values()], duplicates };
}

/**
 * The address with the most events in the lake at `dir` (of `tenantId` when given; ties by address): the recipient
 * erasure tests forget.
 */
export async function busiestRecipient(dir: string, tenantId?: string): Promise<string> {
  const db = await openLake(dir);
  try {
    const [row] = await db.query<{ r: string }>(
      `SELECT recipient AS r FROM events WHERE recipient IS NOT NULL${tenantId ? ' AND tenant_id = ?' : ''}
       GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
      tenantId ? [tenantId] : [],
    );
    if (!row) throw new Error(`the lake at ${dir} has no recipient`);
    return row.r;
  } finally {
    db.close();
  }
}

/** The named query `name` over the lake at `dir`, unscoped (the lake opened for it and closed after). */
export async function queryLake(
  dir: string,
  name: string,
  params: Readonly<Record<string, string | undefined>> = {},
): Promise<QueryRow[]> {
  const db = await openLake(dir);
  try {
    return await runNamedQuery(db, name, params);
  } finally {
    db.close();
  }
}
