import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { z } from 'zod';
import { type BackfillSummary, CheckpointFile, runBackfill } from '../../enrich/push/backfill';
import { readBatchLimits, readRetryPolicy } from '../../enrich/push/config';
import { DeadLetterFile, type RefusedByTenant, redriveDeadLetterFile } from '../../enrich/push/dead-letter-file';
import { settleBatch } from '../../enrich/push/pusher';
import { createReportingApiClient } from '../../enrich/push/reporting-api-client';
import { redriveDeadLetters, SqsDeadLetterQueue } from '../../enrich/push/sqs-record-queue';
import { UsageError } from '../../lib/errors';
import { formatProgressBar } from '../../local/ndjson-output';
import { endpointsFilePath, readEndpointsFile } from '../../local/pipeline/endpoints-file';
import { LOCAL_REPORTING_KEY_FILE } from '../../local/services/push';
import { createLocalClients } from '../../local/stack/clients';
import { openLake } from '../../queries/duckdb-lake';
import { DEFAULT_LAKE } from './ingest';
import { parseOptions } from './parse-options';

const ISO = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?)?$/;

const isoTime = (flag: string) =>
  z
    .string({ error: `${flag} is required` })
    .refine((v) => ISO.test(v) && !Number.isNaN(Date.parse(v)), `${flag} must be an ISO 8601 time (2026-05-01T00:00Z)`)
    .transform((v) => new Date(/T.*(Z|[+-]\d\d:\d\d)$/.test(v) || !v.includes('T') ? v : `${v}Z`));

const PushOptionsSchema = z.object({
  from: z.string().optional(),
  to: z.string().optional(),
  tenant: z.string().min(1).optional(),
  dryRun: z.boolean(),
  redrive: z.boolean(),
  lake: z.string(),
  dataDir: z.string().optional(),
  checkpoint: z.string().optional(),
  deadLetterFile: z.string().optional(),
  restart: z.boolean(),
  concurrency: z.coerce
    .number({ error: '--concurrency must be a number' })
    .int('--concurrency must be a whole number')
    .min(1, '--concurrency must be at least 1')
    .max(64, '--concurrency must be at most 64'),
  format: z.enum(['text', 'json'], { error: '--format must be text or json' }),
  progress: z.boolean(),
});

/** Where records go: the External Reporting API, and (when known) the records queue and its DLQ. */
interface PushTarget {
  reportingUrl: string;
  apiKey: string;
  sqs: SQSClient | null;
  queueUrl: string | null;
  dlqUrl: string | null;
  source: string;
  close(): void;
}

/**
 * The target from the environment (`SESFLOW_REPORTING_URL` + `SESFLOW_REPORTING_API_KEY`, queues from
 * `SESFLOW_PUSH_QUEUE_URL` / `SESFLOW_PUSH_DLQ_URL` with the SDK's default SQS endpoint), else from the local
 * pipeline that `sesflow start` runs in the data directory (its endpoints.json and reporting-api-key).
 */
async function resolveTarget(dataDir: string): Promise<PushTarget> {
  const env = process.env;
  if (env.SESFLOW_REPORTING_URL) {
    if (!env.SESFLOW_REPORTING_API_KEY) throw new UsageError('SESFLOW_REPORTING_API_KEY is not set');
    const sqs = env.SESFLOW_PUSH_QUEUE_URL || env.SESFLOW_PUSH_DLQ_URL ? new SQSClient({}) : null;
    return {
      reportingUrl: env.SESFLOW_REPORTING_URL,
      apiKey: env.SESFLOW_REPORTING_API_KEY,
      sqs,
      queueUrl: env.SESFLOW_PUSH_QUEUE_URL || null,
      dlqUrl: env.SESFLOW_PUSH_DLQ_URL || null,
      source: 'SESFLOW_REPORTING_URL',
      close: () => sqs?.destroy(),
    };
  }
  const endpoints = readEndpointsFile(dataDir);
  if (!endpoints) {
    throw new UsageError(
      `no External Reporting target: set SESFLOW_REPORTING_URL and SESFLOW_REPORTING_API_KEY, or run \`sesflow start\` (no ${endpointsFilePath(dataDir)})`,
    );
  }
  const { reporting, fauxqs, resources } = endpoints;
  if (!reporting || !fauxqs || !resources?.reportingQueue || !resources.reportingDlq) {
    throw new UsageError(
      `${endpointsFilePath(dataDir)} names no local External Reporting receiver (is \`sesflow start\` up to date?)`,
    );
  }
  const keyFile = join(dataDir, LOCAL_REPORTING_KEY_FILE);
  const apiKey = env.SESFLOW_REPORTING_API_KEY || (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : '');
  if (!apiKey) throw new UsageError(`no local reporting key in ${keyFile}`);
  const clients = createLocalClients({ fauxqs });
  const sqs = clients.sqs!;
  const url = async (name: string) => {
    try {
      return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl ?? null;
    } catch (err) {
      clients.destroy();
      throw new UsageError(
        `the local pipeline in ${dataDir} does not answer (queue ${name}: ${(err as Error).message.split('\n')[0]}); is \`sesflow start\` running?`,
      );
    }
  };
  return {
    reportingUrl: reporting,
    apiKey,
    sqs,
    queueUrl: await url(resources.reportingQueue),
    dlqUrl: await url(resources.reportingDlq),
    source: `the local pipeline (${dataDir})`,
    close: () => clients.destroy(),
  };
}

const n = (x: number) => x.toLocaleString('en-US');

/** `--redrive` without a DLQ: the dead-letter file's batches sent again to External Reporting. */
async function redriveFile(
  target: PushTarget,
  file: DeadLetterFile,
  dryRun: boolean,
  format: 'text' | 'json',
  out: (text: string) => void,
): Promise<void> {
  const limits = readBatchLimits();
  const retry = readRetryPolicy();
  const api = dryRun ? null : createReportingApiClient({ baseUrl: target.reportingUrl, apiKey: target.apiKey });
  try {
    const r = await redriveDeadLetterFile(
      file,
      limits,
      (batch, again) => {
        const deadline = Date.now() + retry.maxAttempts * (retry.timeoutMs + retry.maxDelayMs);
        return settleBatch({ api: api!, deadLetters: again, limits, retry, maxReceiveCount: 1 }, batch, deadline);
      },
      { dryRun },
    );
    if (format === 'json') out(JSON.stringify({ ...r, dryRun, deadLetterFile: file.path }));
    else if (dryRun) out(`would send ${n(r.replayed)} dead-lettered batches of ${file.path} again`);
    else out(`sent ${n(r.replayed)} dead-lettered batches again: ${n(r.delivered)} records delivered`);
    if (!dryRun && r.remaining > 0) {
      throw new UsageError(refusedSummary(r.refused, file.path, 'refused again'));
    }
  } finally {
    api?.close();
  }
}

/** The backfill ran to its end, but records were refused: the command still fails, naming them. */
class RefusedRecordsError extends Error {}

function formatBackfill(s: BackfillSummary, dryRun: boolean, deadLettered: number, toFile = false): string {
  if (s.alreadyComplete) {
    return `already complete: ${n(s.total)} records were pushed by an earlier run (--restart pushes them again)`;
  }
  const verb = dryRun ? 'would push' : 'pushed';
  const lines = [
    `${verb} ${n(s.records)} records in ${n(s.batches)} batches${s.resumedAfter ? ` (resumed after ${n(s.resumedAfter)} already pushed)` : ''}`,
  ];
  const statuses = Object.entries(s.byStatus)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${n(v)}`);
  if (statuses.length) lines.push(`by status: ${statuses.join(', ')}`);
  if (deadLettered) {
    const where = toFile ? 'the dead-letter file' : 'the DLQ';
    lines.push(`${n(deadLettered)} refused batches are in ${where} with their reason (sesflow push --redrive)`);
  }
  return lines.join('\n');
}

/** `globex 1,234 (HTTP 422: ...), umbrella 12 (...)`: the refused tenants, most records first. */
function refusedLine(refused: RefusedByTenant): string {
  return Object.entries(refused)
    .sort((a, b) => b[1].records - a[1].records || a[0].localeCompare(b[0]))
    .map(([tenant, r]) => `${tenant} ${n(r.records)} (${r.reasons[0] ?? 'refused'})`)
    .join(', ');
}

/** The records kept in the dead-letter file, as one line for the error that ends the command. */
function refusedSummary(refused: RefusedByTenant, file: string, what: string): string {
  const records = Object.values(refused).reduce((sum, r) => sum + r.records, 0);
  const tenants = Object.keys(refused).length;
  return `${n(records)} records of ${tenants} tenant${tenants === 1 ? '' : 's'} ${what}: ${refusedLine(refused)}; kept in ${file} (sesflow push --redrive sends them again)`;
}

export function registerPush(program: Command): void {
  program
    .command('push')
    .description('push (backfill) delivery records to External Reporting from the lake, or redrive its DLQ')
    .option('--from <iso>', 'backfill the records of messages sent from this time (inclusive)')
    .option('--to <iso>', '... up to this time (exclusive)')
    .option('--tenant <id>', 'only this tenant')
    .option('--dry-run', 'build the records and batches, send nothing (with --redrive: list the DLQ)', false)
    .option('--redrive', 'move the dead-letter queue back to the records queue', false)
    .option('--lake <dir>', 'lake directory', DEFAULT_LAKE)
    .option('--data-dir <dir>', 'the local pipeline of `sesflow start` (default ./.sesflow, or SESFLOW_DATA_DIR)')
    .option('--checkpoint <file>', 'resumable checkpoint (default <data-dir>/push-backfill-checkpoint.json)')
    .option(
      '--dead-letter-file <file>',
      'refused records when there is no DLQ (default <data-dir>/push-dead-letters.ndjson)',
    )
    .option('--restart', 'ignore the checkpoint and start the window over', false)
    .option('--concurrency <n>', 'batches in flight', '4')
    .option('--format <format>', 'summary format: text or json', 'text')
    .option('--no-progress', 'no progress bar (it is shown only when stderr is a terminal)')
    .addHelpText(
      'after',
      `
A backfill rebuilds one record per message and recipient from every event of the messages sent in [--from, --to)
and posts them in batches (SESFLOW_PUSH_BATCH_RECORDS, default 500; SESFLOW_PUSH_BATCH_BYTES, default 1 MB), each
with its Idempotency-Key, retrying with backoff. A stopped run resumes from its checkpoint: run the same command
again. Batches the receiver refuses are split to isolate the refused records (by tenant, then in halves); those go
to the DLQ with the reason, or, without a DLQ (SESFLOW_REPORTING_URL only), to a local dead-letter file; every other
record is pushed, and the command exits 1 naming the refused tenants. --redrive sends them again (the DLQ back to the
records queue, or the file's batches straight to External Reporting).

Target: SESFLOW_REPORTING_URL + SESFLOW_REPORTING_API_KEY (+ SESFLOW_PUSH_QUEUE_URL, SESFLOW_PUSH_DLQ_URL), or else
the local pipeline that \`sesflow start\` runs.

Examples:
  sesflow push --from 2026-05-01 --to 2026-05-02 --tenant acme --dry-run
  sesflow push --from 2026-05-01T00:00Z --to 2026-05-08T00:00Z
  sesflow push --redrive`,
    )
    .action(async (raw: Record<string, unknown>) => {
      const o = parseOptions(PushOptionsSchema, raw);
      const dataDir = resolve(o.dataDir ?? process.env.SESFLOW_DATA_DIR ?? '.sesflow');
      const out = (text: string) => process.stdout.write(`${text}\n`);
      const deadLetterPath = resolve(o.deadLetterFile ?? join(dataDir, 'push-dead-letters.ndjson'));
      if (o.redrive) {
        if (o.from || o.to || o.tenant) throw new UsageError('--redrive takes no --from, --to or --tenant');
        const target = await resolveTarget(dataDir);
        try {
          if (!target.sqs || !target.queueUrl || !target.dlqUrl) {
            await redriveFile(target, new DeadLetterFile(deadLetterPath), o.dryRun, o.format, out);
            return;
          }
          const r = await redriveDeadLetters(target.sqs, {
            dlqUrl: target.dlqUrl,
            queueUrl: target.queueUrl,
            dryRun: o.dryRun,
          });
          if (o.format === 'json') {
            out(JSON.stringify({ moved: r.moved, dryRun: o.dryRun, reasons: Object.fromEntries(r.reasons) }));
            return;
          }
          out(`${o.dryRun ? 'would move' : 'moved'} ${n(r.moved)} dead-lettered batches back to the records queue`);
          for (const [reason, count] of r.reasons) out(`  ${n(count)} x ${reason}`);
        } finally {
          target.close();
        }
        return;
      }
      if (!o.from || !o.to) throw new UsageError('a backfill needs --from and --to (or use --redrive)');
      const fromParsed = isoTime('--from').safeParse(o.from);
      if (!fromParsed.success) throw new UsageError(fromParsed.error.issues[0]!.message);
      const toParsed = isoTime('--to').safeParse(o.to);
      if (!toParsed.success) throw new UsageError(toParsed.error.issues[0]!.message);
      const window = { from: fromParsed.data, to: toParsed.data, tenant: o.tenant ?? null };
      if (window.from >= window.to) throw new UsageError('--from must be before --to');
      if (!existsSync(o.lake)) throw new UsageError(`no such lake directory: ${o.lake}`);
      const limits = readBatchLimits();
      const retry = readRetryPolicy();
      const target = o.dryRun ? null : await resolveTarget(dataDir);
      const api = target ? createReportingApiClient({ baseUrl: target.reportingUrl, apiKey: target.apiKey }) : null;
      // Without a DLQ, refused records are kept in the local dead-letter file, so a refused tenant blocks nothing.
      const deadLetterFile = target && !(target.sqs && target.dlqUrl) ? new DeadLetterFile(deadLetterPath) : null;
      const deadLetters =
        target?.sqs && target.dlqUrl ? new SqsDeadLetterQueue(target.sqs, target.dlqUrl) : deadLetterFile;
      const lake = await openLake(o.lake);
      const showBar = o.progress && process.stderr.isTTY === true;
      const started = Date.now();
      let lastDraw = 0;
      let deadLettered = 0;
      try {
        const summary = await runBackfill(
          {
            lake,
            limits,
            concurrency: o.concurrency,
            restart: o.restart,
            checkpoint: new CheckpointFile(resolve(o.checkpoint ?? join(dataDir, 'push-backfill-checkpoint.json'))),
            push: api
              ? async (batch) => {
                  // Each batch gets the retry policy's worth of time: attempts x (timeout + the longest backoff).
                  const deadline = Date.now() + retry.maxAttempts * (retry.timeoutMs + retry.maxDelayMs);
                  const r = await settleBatch({ api, deadLetters, limits, retry, maxReceiveCount: 1 }, batch, deadline);
                  deadLettered += r.deadLettered;
                }
              : null,
            onProgress: ({ records, total }) => {
              if (!showBar) return;
              const now = Date.now();
              if (now - lastDraw < 200 && records < total) return;
              lastDraw = now;
              const rate = Math.round(records / Math.max(0.001, (now - started) / 1000));
              process.stderr.write(`\r${formatProgressBar(records, total, `${n(records)} records, ${n(rate)}/s`)}`);
            },
          },
          window,
        );
        if (showBar && summary.records > 0) process.stderr.write('\n');
        const refused = deadLetterFile?.refused ?? {};
        if (o.format === 'json') {
          out(
            JSON.stringify({
              ...summary,
              dryRun: o.dryRun,
              deadLettered,
              refused,
              ...(deadLetterFile ? { deadLetterFile: deadLetterFile.path } : {}),
              target: target?.source ?? null,
            }),
          );
        } else {
          out(formatBackfill(summary, o.dryRun, deadLettered, deadLetterFile !== null));
        }
        if (Object.keys(refused).length > 0) {
          throw new RefusedRecordsError(refusedSummary(refused, deadLetterFile!.path, 'refused by External Reporting'));
        }
      } catch (err) {
        if (err instanceof RefusedRecordsError) throw new UsageError(err.message);
        if (showBar) process.stderr.write('\n');
        throw new UsageError(
          `backfill stopped: ${(err as Error).message.split('\n')[0]}; run the same command again to resume`,
        );
      } finally {
        lake.close();
        api?.close();
        target?.close();
      }
    });
}
