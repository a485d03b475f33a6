import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../cli/commands/run-cli.test-support';
import type { NormalisedEvent } from '../../ingest/normalise';
import { encodeParquet } from '../../ingest/parquet-writer';
import { type ReportingReceiver, startReportingReceiver } from '../../local/reporting-receiver/server';
import { openLake } from '../../queries/duckdb-lake';
import { CheckpointFile, countBackfillRecords, runBackfill } from './backfill';
import { buildRecords, toReportingRecord } from './record';
import { createReportingApiClient } from './reporting-api-client';
import { messageEvents, normalisedRows, type TestOutcome } from './test-events';

const KEY = 'backfill-test-key-0123456789';
const DAY1 = '2026-05-01T00:00:00.000Z';
const DAY2 = '2026-05-02T00:00:00.000Z';

let dir: string;
let lakeDir: string;
let receiver: ReportingReceiver;
let events: NormalisedEvent[];

/** Messages sent on May 1st (two tenants) and on May 2nd; the 1st day's late events land in the 2nd day's files. */
function lakeEvents(): NormalisedEvent[] {
  const outcomes: TestOutcome[] = ['clicked', 'complained', 'bounced', 'opened', 'delivered', 'rejected', 'sent'];
  const raw: Record<string, unknown>[] = [];
  for (let i = 0; i < 700; i++) {
    const day = i < 600 ? '2026-05-01' : '2026-05-02';
    const hour = String(i % 24).padStart(2, '0');
    raw.push(
      ...messageEvents({
        messageId: `bf-${i}`,
        tenant: i % 2 === 0 ? 'acme' : 'globex',
        recipient: `r${i}@inbox${i % 5}.test`,
        outcome: outcomes[i % outcomes.length]!,
        time: `${day}T${hour}:30:00.000Z`,
      }),
    );
  }
  return normalisedRows(raw);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sesflow-backfill-'));
  lakeDir = join(dir, 'lake');
  events = lakeEvents();
  // Rows in files by event hour (as the lake writer does), each event twice in different files (Firehose redelivery).
  const byHour = new Map<string, NormalisedEvent[]>();
  for (const e of events) {
    const h = new Date(e.event_time).toISOString().slice(0, 13);
    byHour.set(h, [...(byHour.get(h) ?? []), e]);
  }
  for (const [h, rows] of byHour) {
    const sub = join(lakeDir, 'events', `dt=${h.slice(0, 10)}`, `hour=${h.slice(11, 13)}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'a.parquet'), encodeParquet(rows));
    writeFileSync(join(sub, 'b.parquet'), encodeParquet(rows.slice(0, 3)));
  }
  receiver = await startReportingReceiver({ apiKeys: [KEY] });
});

afterAll(async () => {
  await receiver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

const expectedRecords = (pred: (e: NormalisedEvent) => boolean) =>
  [...buildRecords(events.filter(pred)).values()].map(toReportingRecord);
const sentOnDay1 = (e: NormalisedEvent) => (e.mail_time ?? e.event_time) < Date.parse(DAY2);

/** Runs the CLI in process and captures what it prints. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, out, err } = await runCli(args);
  return { code, stdout: out, stderr: err };
}

describe('backfill from the lake', () => {
  it('a run stopped half way resumes from its checkpoint: every record of the window arrives once, complete', async () => {
    const lake = await openLake(lakeDir);
    const api = createReportingApiClient({ baseUrl: receiver.url, apiKey: KEY });
    const window = { from: new Date(DAY1), to: new Date(DAY2), tenant: null };
    const checkpoint = new CheckpointFile(join(dir, 'ckpt.json'));
    try {
      expect(await countBackfillRecords(lake, window)).toBe(600);
      let pushed = 0;
      const push = async (batch: { idempotencyKey: string; body: string }) => {
        const a = await api.postBatch(batch.idempotencyKey, batch.body, 5000);
        if (a.status !== 200) throw new Error(`HTTP ${a.status}`);
      };
      const limits = { maxRecords: 50, maxBytes: 1_000_000 };
      // First run: the 5th batch fails (the receiver being unreachable, say); the run stops.
      await expect(
        runBackfill(
          {
            lake,
            limits,
            concurrency: 2,
            checkpoint,
            push: async (b) => {
              if (++pushed === 5) throw new Error('connection refused');
              await push(b);
            },
          },
          window,
        ),
      ).rejects.toThrow('connection refused');
      const stopped = checkpoint.load(window)!;
      expect(stopped.done).toBe(false);
      expect(stopped.records).toBeGreaterThanOrEqual(150);
      expect(stopped.records).toBeLessThan(600);

      const second = await runBackfill({ lake, limits, concurrency: 2, checkpoint, push }, window);
      expect(second.resumedAfter).toBe(stopped.records);
      expect(second.records + second.resumedAfter).toBe(600);
      expect(checkpoint.load(window)?.done).toBe(true);

      const want = expectedRecords(sentOnDay1);
      expect(want).toHaveLength(600);
      for (const r of want) {
        const held = receiver.records().get(r.record_id);
        // Complete: built from the late events in the next day's files too, and from each event once.
        expect(held?.record).toEqual(r);
        expect(held?.deliveries).toBe(1);
      }
      expect(receiver.records().size).toBe(600);

      const third = await runBackfill({ lake, limits, checkpoint, push }, window);
      expect(third.alreadyComplete).toBe(true);
    } finally {
      api.close();
      lake.close();
    }
  });

  it('sesflow push: dry run counts one tenant, a real run pushes it, a bad window is a one-line error', async () => {
    const args = ['push', '--lake', lakeDir, '--from', '2026-05-02', '--to', '2026-05-03', '--tenant', 'acme'];
    const dry = await cli(...args, '--dry-run', '--format', 'json');
    expect(dry.code).toBe(0);
    const drySummary = JSON.parse(dry.stdout);
    expect(drySummary).toMatchObject({ records: 50, dryRun: true, alreadyComplete: false });
    const before = receiver.records().size;

    vi.stubEnv('SESFLOW_REPORTING_URL', receiver.url);
    vi.stubEnv('SESFLOW_REPORTING_API_KEY', KEY);
    vi.stubEnv('SESFLOW_PUSH_QUEUE_URL', '');
    vi.stubEnv('SESFLOW_PUSH_DLQ_URL', '');
    const ckpt = join(dir, 'cli-ckpt.json');
    const run = await cli(...args, '--checkpoint', ckpt);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^pushed 50 records in 1 batches\nby status: /);
    expect(receiver.records().size).toBe(before + 50);
    for (const r of expectedRecords((e) => !sentOnDay1(e) && e.tenant_id === 'acme')) {
      expect(receiver.records().get(r.record_id)?.record).toEqual(r);
    }
    expect(JSON.parse(readFileSync(ckpt, 'utf8'))).toMatchObject({ done: true, records: 50 });

    const bad = await cli('push', '--lake', lakeDir, '--from', '2026-05-03', '--to', '2026-05-02', '--dry-run');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('sesflow: --from must be before --to\n');
    vi.stubEnv('SESFLOW_REPORTING_API_KEY', 'wrong-key-0123456789');
    const refused = await cli(
      'push',
      '--lake',
      lakeDir,
      '--from',
      DAY1,
      '--to',
      DAY2,
      '--restart',
      '--checkpoint',
      ckpt,
      '--dead-letter-file',
      join(dir, 'wrong-key-dead-letters.ndjson'),
    );
    expect(refused.code).toBe(1);
    // A refusal of every record (a wrong key) stops the run: nothing is kept aside in the dead-letter file.
    expect(refused.stderr).toMatch(
      /^sesflow: backfill stopped: External Reporting refused a batch of \d+ records: HTTP 401: invalid x-api-key; run the same command again to resume\n$/,
    );
    expect(existsSync(join(dir, 'wrong-key-dead-letters.ndjson'))).toBe(false);
  });

  it('a refused tenant without a DLQ: every other record is pushed, the refused ones kept in a file for --redrive', async () => {
    // External Reporting that answers 422 to globex's records, reached by SESFLOW_REPORTING_URL only (no queues).
    const platform = await startReportingReceiver({ apiKeys: [KEY], rejectTenants: ['globex'] });
    try {
      vi.stubEnv('SESFLOW_REPORTING_URL', platform.url);
      vi.stubEnv('SESFLOW_REPORTING_API_KEY', KEY);
      vi.stubEnv('SESFLOW_PUSH_QUEUE_URL', '');
      vi.stubEnv('SESFLOW_PUSH_DLQ_URL', '');
      vi.stubEnv('SESFLOW_PUSH_BATCH_RECORDS', '50');
      const ckpt = join(dir, 'refused-ckpt.json');
      const deadLetters = join(dir, 'refused-dead-letters.ndjson');
      const args = ['push', '--lake', lakeDir, '--from', DAY1, '--to', DAY2, '--checkpoint', ckpt];
      const run = await cli(...args, '--dead-letter-file', deadLetters);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^pushed 600 records in \d+ batches\n/);
      expect(run.stderr).toBe(
        `sesflow: 300 records of 1 tenant refused by External Reporting: globex 300 (HTTP 422: records[0]: tenant globex is not enabled for External Reporting); kept in ${deadLetters} (sesflow push --redrive sends them again)\n`,
      );
      // Every acme record arrived, no globex one; the file holds the globex ones with their reason.
      const acme = expectedRecords((e) => sentOnDay1(e) && e.tenant_id === 'acme');
      expect(acme).toHaveLength(300);
      for (const r of acme) expect(platform.records().get(r.record_id)?.record).toEqual(r);
      expect(platform.records().size).toBe(300);
      const lines = readFileSync(deadLetters, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.reduce((sum, l) => sum + l.records, 0)).toBe(300);
      expect(new Set(lines.flatMap((l) => l.tenants))).toEqual(new Set(['globex']));
      expect(lines.every((l) => l.status === 422)).toBe(true);
      expect(statSync(deadLetters).mode & 0o777).toBe(0o600);

      // The next run is not refused at the same place: the window is settled.
      const again = await cli(...args, '--dead-letter-file', deadLetters);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/^already complete: 600 records/);

      // Still refused: the redrive keeps them and fails, naming them again.
      const still = await cli('push', '--redrive', '--dead-letter-file', deadLetters);
      expect(still.code).toBe(1);
      expect(still.stderr).toMatch(/^sesflow: 300 records of 1 tenant refused again: globex 300 \(HTTP 422/);

      // Once the platform takes globex, the redrive delivers them and empties the file.
      platform.setRejectTenants([]);
      const dry = await cli('push', '--redrive', '--dry-run', '--dead-letter-file', deadLetters);
      expect(dry.stdout).toMatch(/^would send \d+ dead-lettered batches/);
      const redrive = await cli('push', '--redrive', '--dead-letter-file', deadLetters);
      expect(redrive.stderr).toBe('');
      expect(redrive.code).toBe(0);
      expect(redrive.stdout).toMatch(/^sent \d+ dead-lettered batches again: 300 records delivered\n$/);
      for (const r of expectedRecords(sentOnDay1)) expect(platform.records().get(r.record_id)?.record).toEqual(r);
      expect(platform.records().size).toBe(600);
      expect(existsSync(deadLetters)).toBe(false);
    } finally {
      await platform.close();
    }
  });
});
