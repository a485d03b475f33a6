import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESv2Client, type SendBulkEmailCommandOutput } from '@aws-sdk/client-sesv2';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { FsLakeStore } from '../ingest/fs-lake-store';
import { LakeWriter } from '../ingest/lake-writer';
import { sleep } from '../lib/retry';
import { startLocalFirehose } from '../local/firehose/server';
import { onboardDemoTenant } from '../local/pipeline/demo-tenants';
import { startLocalEmailApi } from '../local/services/email-api';
import { resolveSinks } from '../local/ses-simulator/event-sinks';
import { startSesSimulator } from '../local/ses-simulator/server';
import { createLocalClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/stack/clients';
import { startDynamoDbLocal } from '../local/stack/dynamodb-local';
import { startFauxqsServer } from '../local/stack/fauxqs';
import { openLake } from '../queries/duckdb-lake';
import type { JobRecord } from '../send/api/ports';
import { AccountSendRate, DynamoDbRateLimiter, type SendRateLimiter } from '../send/rate-limiter';
import type { Benchmark, BenchResult } from './index';

const TENANTS = 50;
const ACCOUNT = '123456789012';
const STREAM = 'sesflow-events';
/** The simulated account's MaxSendRate (recipients per second); SESFLOW_BENCH_MAX_SEND_RATE overrides it. */
const DEFAULT_MAX_SEND_RATE = 1000;
/** Recipient domains the simulator's per-domain model knows (deliveries, bounces, opens differ by domain). */
const DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'hotmail.com', 'icloud.com', 'aol.com', 'gmx.de', 'web.de'];

/** A run with no entry finished for this long is stuck (a chunk in the DLQ): it stops with what it knows. */
const STALL_MS = 120_000;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Records every grant of the sender's limiter: when, and how many recipients. */
class RecordingLimiter implements SendRateLimiter {
  readonly grants: { at: number; n: number }[] = [];
  constructor(public inner: SendRateLimiter) {}
  limit(): Promise<number> {
    return this.inner.limit();
  }
  async acquire(n: number): Promise<void> {
    await this.inner.acquire(n);
    this.grants.push({ at: Date.now(), n });
  }
  async acquireUpTo(n: number): Promise<number> {
    const granted = await this.inner.acquireUpTo(n);
    this.grants.push({ at: Date.now(), n: granted });
    return granted;
  }
}

/** The limiter's achieved rate: recipients granted from the first grant to the last (the last one's excluded). */
function achievedRate(grants: readonly { at: number; n: number }[]): number {
  if (grants.length < 2) return 0;
  const spanS = Math.max(0.001, (grants[grants.length - 1]!.at - grants[0]!.at) / 1000);
  return grants.slice(0, -1).reduce((n, g) => n + g.n, 0) / spanS;
}

/**
 * What the lake holds after the run: Send rows raw and deduplicated, distinct Send event ids and (message, recipient)
 * pairs, all rows, and how many jobs' accepted counts differ from the lake's Send rows for their tenant and campaign.
 */
async function countLake(
  lakeDir: string,
  jobs: readonly { tenant: string; jobId: string }[],
  records: ReadonlyMap<string, JobRecord>,
) {
  const lake = await openLake(lakeDir);
  try {
    const [c] = await lake.query<{ raw: bigint; ids: bigint; recips: bigint; all_rows: bigint }>(
      `SELECT count(*) FILTER (WHERE event_type = 'send') AS raw,
              count(DISTINCT event_id) FILTER (WHERE event_type = 'send') AS ids,
              count(DISTINCT (message_id, recipient)) FILTER (WHERE event_type = 'send') AS recips,
              count(*) AS all_rows
         FROM events_raw`,
    );
    const perJob = await lake.query<{ tenant_id: string; campaign_id: string; sent: bigint }>(
      `SELECT tenant_id, campaign_id, count(*) AS sent FROM events WHERE event_type = 'send' GROUP BY ALL`,
    );
    const lakeCount = new Map(perJob.map((r) => [`${r.tenant_id}/${r.campaign_id}`, Number(r.sent)]));
    const jobMismatches = jobs.filter((j) => {
      const rec = records.get(j.jobId)!;
      return (lakeCount.get(`${j.tenant}/${rec.campaign}`) ?? 0) !== rec.sent;
    }).length;
    return {
      rawSends: Number(c!.raw),
      sends: perJob.reduce((n, r) => n + Number(r.sent), 0),
      distinctIds: Number(c!.ids),
      distinctRecipients: Number(c!.recips),
      rawRows: Number(c!.all_rows),
      jobMismatches,
    };
  } finally {
    lake.close();
  }
}

/**
 * 100,000 messages (one recipient each) for 50 tenants through the Email API (`POST /v1/batches`, 2,000
 * destinations per tenant) -> SQS (fauxqs) -> the bulk worker -> SesSender (gate, suppression, DynamoDB rate
 * limiter at the account's MaxSendRate) -> SES simulator -> local Firehose -> transform -> Parquet lake; then the
 * lake is counted with DuckDB: Send rows = accepted recipients, no event id twice, every tenant's count equal to
 * its job's. `--quick`: 10,000 messages.
 */
export const sendLoadBenchmark: Benchmark = {
  name: 'send-load',
  description:
    '100,000 messages for 50 tenants: Email API -> SQS -> worker -> SES simulator -> Firehose -> lake; messages/s, rate limiter vs MaxSendRate, lake = accepted',
  async run({ quick, log }): Promise<BenchResult> {
    const perTenant = quick ? 200 : 2000;
    const total = perTenant * TENANTS;
    const maxSendRate = Number(process.env.SESFLOW_BENCH_MAX_SEND_RATE || DEFAULT_MAX_SEND_RATE);
    const dir = mkdtempSync(join(tmpdir(), 'sesflow-send-load-'));
    const lakeDir = join(dir, 'lake');
    const lines: string[] = [];
    const figures: Record<string, number | string> = {};
    const stops: (() => Promise<void>)[] = [];
    const load0 = loadavg()[0]!;
    try {
      const ddb = await startDynamoDbLocal();
      stops.push(() => ddb.stop());
      const fq = await startFauxqsServer({ port: 0 });
      stops.push(() => fq.stop());
      const fh = await startLocalFirehose({
        streams: [STREAM],
        sinkFor: (stream) => new LakeWriter({ store: new FsLakeStore(lakeDir), stream }),
        bufferIntervalMs: 1000,
        onProblem: (line) => log(`firehose: ${line}`),
      });
      stops.push(() => fh.close());
      const clients = createLocalClients({ dynamodb: ddb.endpoint, fauxqs: fq.endpoint, firehose: fh.endpoint });
      stops.push(async () => clients.destroy());
      const sim = await startSesSimulator({
        seed: 7,
        timeFactor: 0,
        maxSendRate,
        max24HourSend: 10 * total,
        accountId: ACCOUNT,
        sinks: resolveSinks({ firehose: clients.firehose }),
        onPublishError: (n, reason) => log(`ses-simulator: ${n} event records not published: ${reason}`),
      });
      stops.push(() => sim.close({ flush: true }));

      // The sender's SES client, counting the entries SES throttled (the limiter should leave almost none).
      let throttledEntries = 0;
      const ses = new SESv2Client({
        endpoint: sim.endpoint,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        maxAttempts: 1,
      });
      ses.middlewareStack.add(
        (next) => async (args) => {
          const out = await next(args);
          const results = (out.output as Partial<SendBulkEmailCommandOutput>).BulkEmailEntryResults;
          if (results) throttledEntries += results.filter((r) => r.Status === 'ACCOUNT_THROTTLED').length;
          return out;
        },
        { step: 'initialize', name: 'benchThrottleCount' },
      );
      stops.push(async () => ses.destroy());
      const rate = new AccountSendRate(ses);
      const limiter = new RecordingLimiter(
        new DynamoDbRateLimiter({
          doc: clients.documentClient!,
          tableName: 'sesflow',
          scope: 'bench',
          rate: () => rate.get(),
        }),
      );
      const api = await startLocalEmailApi({
        dynamodb: clients.dynamodb!,
        doc: clients.documentClient!,
        sqs: clients.sqs!,
        sesEndpoint: sim.endpoint,
        ses,
        tableName: 'sesflow',
        queueName: 'sesflow-send-jobs',
        port: 0,
        workerConcurrency: 4,
        limiter,
        onProblem: (line) => log(line),
      });
      stops.push(() => api.stop());

      log(`onboarding ${TENANTS} tenants (SES configuration set + tenant, registry profile, API key) ...`);
      const tenants: { name: string; key: string; domain: string }[] = [];
      for (let i = 0; i < TENANTS; i++) {
        const name = `tenant-${String(i + 1).padStart(2, '0')}`;
        const domain = `mail.${name}-example.com`;
        await onboardDemoTenant(ses, {
          tenant: name,
          configurationSet: `${name}-events`,
          deliveryStreamArn: `arn:aws:firehose:${LOCAL_REGION}:${ACCOUNT}:deliverystream/${STREAM}`,
          accountId: ACCOUNT,
          region: LOCAL_REGION,
        });
        await api.send.registry.registerTenant({
          tenantId: name,
          configurationSet: `${name}-events`,
          sesTenantName: name,
          sendingDomains: [domain],
        });
        tenants.push({ name, domain, key: (await api.send.registry.issueKey(name)).key });
      }

      /** Posts one bulk job per tenant, waits until every job is complete, returns the jobs and the times. */
      const runPhase = async (phase: { campaign: string; tenants: typeof tenants; perTenant: number }) => {
        const grants0 = limiter.grants.length;
        const throttled0 = throttledEntries;
        const t0 = performance.now();
        const jobs: { tenant: string; jobId: string }[] = [];
        await Promise.all(
          phase.tenants.map(async (t) => {
            const ti = tenants.indexOf(t);
            const destinations = Array.from({ length: phase.perTenant }, (_, i) => ({
              to: `${phase.campaign}-${ti}-${i}@${DOMAINS[(ti + i) % DOMAINS.length]}`,
              replacements: { name: `Reader ${i}` },
            }));
            const res = await fetch(`${api.url}/v1/batches`, {
              method: 'POST',
              headers: { 'x-api-key': t.key, 'content-type': 'application/json' },
              body: JSON.stringify({
                from: `News <news@${t.domain}>`,
                subject: 'Hello {{name}}',
                html: '<p>Hello {{name}}, here is our news.</p>',
                text: 'Hello {{name}}, here is our news.',
                campaign: phase.campaign,
                messageKind: 'marketing',
                destinations,
              }),
            });
            const body = (await res.json()) as { jobId?: string; error?: string };
            if (res.status !== 202 || !body.jobId)
              throw new Error(`POST /v1/batches answered ${res.status}: ${body.error}`);
            jobs.push({ tenant: t.name, jobId: body.jobId });
          }),
        );
        const queuedS = (performance.now() - t0) / 1000;
        log(`  ${jobs.length} jobs queued in ${queuedS.toFixed(1)} s; waiting for the worker ...`);
        const records = new Map<string, JobRecord>();
        let lastLog = performance.now();
        let progress = { finished: -1, at: performance.now() };
        for (;;) {
          // Only the jobs still running are read again (every 2 s: the reads share DynamoDB Local with the worker).
          for (const j of jobs) {
            const known = records.get(j.jobId);
            if (known && known.chunksDone >= known.chunks) continue;
            const rec = await api.send.store.getJob(j.jobId);
            if (rec) records.set(j.jobId, rec);
          }
          const recs = [...records.values()];
          const done = recs.filter((r) => r.chunksDone >= r.chunks).length;
          if (done === jobs.length) break;
          const finishedNow = recs.reduce((n, r) => n + r.sent + r.suppressed + r.failed, 0);
          if (finishedNow !== progress.finished) progress = { finished: finishedNow, at: performance.now() };
          else if (performance.now() - progress.at > STALL_MS) {
            const dlq = await clients.sqs!.send(
              new GetQueueAttributesCommand({ QueueUrl: api.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
            );
            throw new Error(
              `no progress for ${STALL_MS / 1000} s at ${fmt(finishedNow)} entries; DLQ holds ${dlq.Attributes?.ApproximateNumberOfMessages} chunks`,
            );
          }
          if (performance.now() - lastLog > 15_000) {
            lastLog = performance.now();
            const finished = recs.reduce((n, r) => n + r.sent + r.suppressed + r.failed, 0);
            log(`  ${fmt(finished)} of ${fmt(jobs.length * phase.perTenant)} entries done, ${done} jobs complete`);
          }
          await sleep(2000);
        }
        const sentS = (performance.now() - t0) / 1000;
        const recs = [...records.values()];
        return {
          jobs,
          records,
          queuedS,
          sentS,
          accepted: recs.reduce((n, r) => n + r.sent, 0),
          suppressed: recs.reduce((n, r) => n + r.suppressed, 0),
          failed: recs.reduce((n, r) => n + r.failed, 0),
          achieved: achievedRate(limiter.grants.slice(grants0)),
          throttled: throttledEntries - throttled0,
        };
      };

      // Phase 1, the load: every tenant at once, at the account's MaxSendRate.
      log(`load: ${fmt(total)} messages (${fmt(perTenant)} per tenant) at MaxSendRate ${fmt(maxSendRate)}/s ...`);
      const t0 = performance.now();
      const load = await runPhase({ campaign: 'load-test', tenants, perTenant });
      await sim.simulator.flushEvents({ all: true });
      await fh.flush();
      const lakeS = (performance.now() - t0) / 1000;

      // Phase 2, the limiter where it binds: a MaxSendRate below what the pipeline can do, read from GetAccount by
      // a fresh limiter (the sender's one caches the rate for 5 minutes).
      const limitedRate = quick ? 100 : 250;
      const limitedTenants = tenants.slice(0, 10);
      const limitedPerTenant = quick ? 100 : 500;
      sim.simulator.maxSendRate = limitedRate;
      const limitedAccount = new AccountSendRate(ses);
      limiter.inner = new DynamoDbRateLimiter({
        doc: clients.documentClient!,
        tableName: 'sesflow',
        scope: 'bench-limited',
        rate: () => limitedAccount.get(),
      });
      log(
        `limiter: ${fmt(limitedTenants.length * limitedPerTenant)} messages for ${limitedTenants.length} tenants at MaxSendRate ${limitedRate}/s ...`,
      );
      const limited = await runPhase({
        campaign: 'limiter-test',
        tenants: limitedTenants,
        perTenant: limitedPerTenant,
      });
      await sim.simulator.flushEvents({ all: true });
      await fh.flush();

      const jobs = [...load.jobs, ...limited.jobs];
      const records = new Map([...load.records, ...limited.records]);
      const accepted = load.accepted + limited.accepted;
      const { rawSends, sends, distinctIds, distinctRecipients, rawRows, jobMismatches } = await countLake(
        lakeDir,
        jobs,
        records,
      );

      const ok =
        sends === accepted && rawSends === distinctIds && distinctIds === distinctRecipients && jobMismatches === 0;
      Object.assign(figures, {
        messages: total,
        tenants: TENANTS,
        accepted: load.accepted,
        suppressed: load.suppressed,
        failed: load.failed,
        'queue 50 jobs s': Number(load.queuedS.toFixed(2)),
        'send s': Number(load.sentS.toFixed(1)),
        'to lake s': Number(lakeS.toFixed(1)),
        'messages/s (API to SES accepted)': Math.round(load.accepted / load.sentS),
        'messages/s (API to lake)': Math.round(load.accepted / lakeS),
        'MaxSendRate /s': maxSendRate,
        'limiter achieved /s': Math.round(load.achieved),
        'entries throttled by SES': load.throttled,
        'limiter phase messages': limited.accepted,
        'limiter phase MaxSendRate /s': limitedRate,
        'limiter phase achieved /s': Math.round(limited.achieved),
        'limiter phase entries throttled by SES': limited.throttled,
        'send rows in lake (events)': sends,
        'send rows in lake (events_raw)': rawSends,
        'distinct send event ids': distinctIds,
        'accepted recipients (both phases)': accepted,
        'jobs whose lake count differs': jobMismatches,
        'lake rows (all event types)': rawRows,
        'SQS deliveries reported failed': api.poller.stats().failed,
        'load average (1 min) at start': Number(load0.toFixed(2)),
      });
      lines.push(
        `${fmt(total)} messages for ${TENANTS} tenants: ${fmt(load.accepted)} accepted, ${fmt(load.suppressed)} suppressed, ${fmt(load.failed)} failed`,
        `  send (POST /v1/batches -> SQS -> worker -> SES accepted): ${load.sentS.toFixed(1)} s = ${fmt(load.accepted / load.sentS)} messages/s; to the lake (events flushed): ${lakeS.toFixed(1)} s = ${fmt(load.accepted / lakeS)} messages/s`,
        `  rate limiter: ${fmt(load.achieved)} recipients/s achieved vs MaxSendRate ${fmt(maxSendRate)}/s = ${(load.achieved / maxSendRate).toFixed(2)}x (the pipeline, not the limiter, bounds it); ${fmt(load.throttled)} entries throttled by SES`,
        `limiter where it binds: ${fmt(limited.accepted)} messages, ${fmt(limited.achieved)} recipients/s achieved vs MaxSendRate ${limitedRate}/s = ${(limited.achieved / limitedRate).toFixed(2)}x; ${fmt(limited.throttled)} entries throttled by SES`,
        `lake: ${fmt(sends)} Send rows (deduplicated view) vs ${fmt(accepted)} accepted recipients; raw ${fmt(rawSends)}, distinct event ids ${fmt(distinctIds)}, distinct (message, recipient) ${fmt(distinctRecipients)}; jobs off: ${jobMismatches} -> ${ok ? 'nothing lost, no duplicate' : 'MISMATCH'}`,
      );
      return { name: 'send-load', lines, figures };
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
