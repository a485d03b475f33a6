import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { packRecords } from '../enrich/push/batches';
import { type BatchLimits, DEFAULT_BATCH_LIMITS, type RetryPolicy } from '../enrich/push/config';
import { startLocalPusher } from '../enrich/push/local-pusher';
import { deliverBatch, type PusherDeps } from '../enrich/push/pusher';
import type { ReportingRecord } from '../enrich/push/record';
import { createReportingApiClient, type ReportingApi } from '../enrich/push/reporting-api-client';
import { enqueueBatches, SqsDeadLetterQueue } from '../enrich/push/sqs-record-queue';
import { syntheticRecords } from '../enrich/push/test-events';
import { NO_FAULTS, type ReceiverFaults, type ReceiverStats } from '../local/reporting-receiver/server';
import { createLocalClients } from '../local/stack/clients';
import { startFauxqsServer } from '../local/stack/fauxqs';
import type { Benchmark, BenchResult } from './index';

const KEY = 'bench-reporting-key-0123456789';
const TARGET_RATIO = 20;
/** Requests in flight, the same for both ways of pushing: 2 receive loops x 10 messages, or 20 single requests. */
const IN_FLIGHT = 20;
const RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 2000, timeoutMs: 5000 };
/** 30 % of requests fail: 500, 429 with Retry-After: 1, answers after 6 s (the pusher times out at 5 s), drops. */
const FAULTS: Partial<ReceiverFaults> = { rate: 0.3, retryAfterSeconds: 1, slowMs: 6000, seed: 7 };
/** Records sent before the clock starts, so that neither side is measured while its code is still being compiled. */
const WARM_UP = 1000;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Run {
  records: number;
  seconds: number;
  perSecond: number;
  requests: number;
  replays: number;
  /** CPU time of both processes (this one: pusher and queue; the receiver) per record, microseconds. */
  cpuPerRecordUs: number;
  /** The receiver's share of {@link cpuPerRecordUs}. */
  receiverCpuPerRecordUs: number;
}

/** Stats of the receiver, with the CPU time its process has used so far. */
type ReceiverProcessStats = ReceiverStats & { cpuMs: number };

/** CPU time used by this process so far, milliseconds. */
const ownCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface ReceiverProcess {
  url: string;
  stats(): Promise<ReceiverProcessStats>;
  stop(): Promise<void>;
}

/** The local receiver as its own process (the real platform is another service): it does not share our CPU time. */
async function startReceiverProcess(faults: Partial<ReceiverFaults> | null): Promise<ReceiverProcess> {
  const main = fileURLToPath(new URL('../local/reporting-receiver/main.ts', import.meta.url));
  const f = { ...NO_FAULTS, ...(faults ?? { rate: 0 }) };
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    // The IPC channel ties the receiver's life to ours: it stops when we exit, however we exit.
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: {
      ...process.env,
      SESFLOW_REPORTING_API_KEY: KEY,
      SESFLOW_PORT_REPORTING: '0',
      SESFLOW_REPORTING_FAULT_RATE: String(f.rate),
      SESFLOW_REPORTING_FAULTS: f.kinds.join(','),
      SESFLOW_REPORTING_RETRY_AFTER: String(f.retryAfterSeconds),
      SESFLOW_REPORTING_SLOW_MS: String(f.slowMs),
      SESFLOW_REPORTING_FAULT_SEED: String(f.seed),
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const line = buf.split('\n')[0];
      if (buf.includes('\n') && line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`the receiver exited (${code}) before listening`)));
  });
  return {
    url,
    async stats() {
      const r = await fetch(`${url}/_local/stats`, { headers: { 'x-api-key': KEY } });
      return (await r.json()) as ReceiverProcessStats;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Every record arrived, each under exactly one accepted key (the receiver counts a record accepted twice). */
function verify(stats: ReceiverStats, records: number) {
  records += WARM_UP;
  if (stats.recordsStored !== records)
    throw new Error(`receiver holds ${stats.recordsStored} records, ${records} were sent`);
  if (stats.repeatedDeliveries !== 0) throw new Error(`${stats.repeatedDeliveries} records arrived more than once`);
}

/** Sends {@link WARM_UP} records both ways (batches of 100 and single records), retried through any fault. */
async function warmUp(api: ReportingApi): Promise<void> {
  const deps = { api, retry: RETRY, limits: DEFAULT_BATCH_LIMITS, maxReceiveCount: 5 } as PusherDeps;
  const records = syntheticRecords(WARM_UP, { prefix: 'warm-up' });
  const batches = [
    ...packRecords(records.slice(0, WARM_UP - 200), { maxRecords: 100, maxBytes: 1e6 }),
    ...records.slice(WARM_UP - 200).map((r) => packRecords([r], DEFAULT_BATCH_LIMITS)[0]!),
  ];
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const out = await deliverBatch(deps, batches[next++]!, Date.now() + 600_000);
      if (out.kind !== 'delivered') throw new Error(`warm-up batch not delivered (${out.kind})`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

/** The batched pusher: records packed into queue messages on fauxqs, drained by the local pusher loop. */
export async function runBatched(
  records: ReportingRecord[],
  faults: Partial<ReceiverFaults> | null,
  limits: BatchLimits,
) {
  const fauxqs = await startFauxqsServer();
  const clients = createLocalClients({ fauxqs: fauxqs.endpoint });
  const sqs = clients.sqs!;
  const receiver = await startReceiverProcess(faults);
  const api = createReportingApiClient({ baseUrl: receiver.url, apiKey: KEY, maxSockets: IN_FLIGHT });
  try {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'bench-dlq' }));
    const q = await sqs.send(new CreateQueueCommand({ QueueName: 'bench', Attributes: { VisibilityTimeout: '120' } }));
    const deps: PusherDeps = {
      api,
      deadLetters: new SqsDeadLetterQueue(sqs, dlq.QueueUrl!),
      limits,
      retry: RETRY,
      maxReceiveCount: 5,
    };
    // Warm-up through a queue, the way the measured records go (batches of 100, then the pusher drains them). Its
    // own queue: a long poll the stopped warm-up pusher left open would take measured messages out of sight.
    const warm = syntheticRecords(WARM_UP, { prefix: 'warm-up' });
    const wq = await sqs.send(new CreateQueueCommand({ QueueName: 'bench-warm-up' }));
    await enqueueBatches(sqs, wq.QueueUrl!, packRecords(warm, { maxRecords: 100, maxBytes: limits.maxBytes }));
    const warmPusher = startLocalPusher({ sqs, queueUrl: wq.QueueUrl!, deps, concurrency: IN_FLIGHT / 10 });
    await warmPusher.drain(600_000);
    await warmPusher.stop();
    // The stats request itself is counted by the receiver: the later one is taken off below.
    const before = await receiver.stats();
    const e0 = performance.now();
    const batches = packRecords(records, limits);
    await enqueueBatches(sqs, q.QueueUrl!, batches);
    const enqueueS = (performance.now() - e0) / 1000;
    const cpu0 = ownCpuMs();
    const recvCpu0 = (await receiver.stats()).cpuMs;
    const t0 = performance.now();
    const problems: string[] = [];
    const pusher = startLocalPusher({
      sqs,
      queueUrl: q.QueueUrl!,
      deps,
      concurrency: IN_FLIGHT / 10,
      onProblem: (line) => problems.push(line),
    });
    await pusher.drain(1_800_000);
    const seconds = (performance.now() - t0) / 1000;
    const cpuMs = ownCpuMs() - cpu0;
    const pushed = pusher.stats();
    await pusher.stop();
    const dead = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    if (Number(dead.Attributes?.ApproximateNumberOfMessages ?? 0) > 0) throw new Error('batches were dead-lettered');
    const s = await receiver.stats();
    verify(s, records.length);
    const run: Run = {
      records: records.length,
      seconds,
      perSecond: records.length / seconds,
      // The two stats requests after the first (one before the clock, one after) are not the pusher's.
      requests: s.requests - before.requests - 2,
      replays: s.replays - before.replays,
      cpuPerRecordUs: ((cpuMs + s.cpuMs - recvCpu0) * 1000) / records.length,
      receiverCpuPerRecordUs: ((s.cpuMs - recvCpu0) * 1000) / records.length,
    };
    return { run, batches: batches.length, enqueueS, retriedLater: pushed.retriedLater, problems };
  } finally {
    api.close();
    await receiver.stop();
    clients.destroy();
    await fauxqs.stop();
  }
}

/** The naive way: one request per record (its own key), the same in-flight limit and retry policy. */
export async function runNaive(
  records: ReportingRecord[],
  faults: Partial<ReceiverFaults> | null,
  inFlight = IN_FLIGHT,
): Promise<Run> {
  const receiver = await startReceiverProcess(faults);
  const api = createReportingApiClient({ baseUrl: receiver.url, apiKey: KEY, maxSockets: IN_FLIGHT });
  try {
    await warmUp(api);
    // The stats request itself is counted by the receiver: the later one is taken off below.
    const before = await receiver.stats();
    const deps = { api, retry: RETRY, limits: DEFAULT_BATCH_LIMITS, maxReceiveCount: 5 } as PusherDeps;
    const cpu0 = ownCpuMs();
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const [batch] = packRecords([records[next++]!], DEFAULT_BATCH_LIMITS);
        // Out of attempts, a record is tried again, up to the queue's maxReceiveCount rounds, as a batch's queue
        // message comes back (at 30 % faults, 8 failures in a row happen to about one record in 15,000).
        let out = await deliverBatch(deps, batch!, Date.now() + 600_000);
        for (let round = 2; out.kind === 'unfinished' && round <= deps.maxReceiveCount; round++) {
          out = await deliverBatch(deps, batch!, Date.now() + 600_000);
        }
        if (out.kind !== 'delivered') throw new Error(`naive push: a record was not delivered (${out.kind})`);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const seconds = (performance.now() - t0) / 1000;
    const cpuMs = ownCpuMs() - cpu0;
    const s = await receiver.stats();
    verify(s, records.length);
    return {
      records: records.length,
      seconds,
      perSecond: records.length / seconds,
      requests: s.requests - before.requests - 1,
      replays: s.replays - before.replays,
      cpuPerRecordUs: ((cpuMs + s.cpuMs - before.cpuMs) * 1000) / records.length,
      receiverCpuPerRecordUs: ((s.cpuMs - before.cpuMs) * 1000) / records.length,
    };
  } finally {
    api.close();
    await receiver.stop();
  }
}

/**
 * Records/s pushed to the local receiver (its own process, as the real platform is another service) by the batched pusher (fauxqs queue, local pusher
 * loop, batches of 500 records / 1 MB) and by a naive one-request-per-record push, with no faults and at 30 %
 * faults. Every run checks that each record arrived once. The naive push at 30 % faults runs on a sample (each
 * failed request waits up to a second), its records/s is comparable, its time is not.
 */
export const pushBenchmark: Benchmark = {
  name: 'push',
  description:
    'records/s to the local External Reporting receiver: batched vs one request per record, 0 and 30 % faults',
  async run({ quick, log }): Promise<BenchResult> {
    const n = quick ? 10_000 : 100_000;
    const naiveFaultSample = quick ? 500 : 2_000;
    const records = syntheticRecords(n, { tenants: 20, prefix: 'bench' });
    const figures: Record<string, number | string> = { cpus: cpus().length, records: n };
    const load = () => loadavg()[0]!.toFixed(2);
    figures['load average before'] = load();

    log(`batched, no faults: ${fmt(n)} records ...`);
    const clean = await runBatched(records, null, DEFAULT_BATCH_LIMITS);
    log(`batched, 30 % faults: ${fmt(n)} records ...`);
    const faulty = await runBatched(records, FAULTS, DEFAULT_BATCH_LIMITS);
    log(`naive, no faults: ${fmt(n)} records ...`);
    const naive = await runNaive(records, null);
    log(`naive, 30 % faults: ${fmt(naiveFaultSample)} records (sample) ...`);
    const naiveFaulty = await runNaive(records.slice(0, naiveFaultSample), FAULTS);
    log(`naive, one request at a time, no faults: ${fmt(naiveFaultSample)} records (sample) ...`);
    const naiveSerial = await runNaive(records.slice(0, naiveFaultSample), null, 1);
    figures['load average after'] = load();

    const ratio = clean.run.perSecond / naive.perSecond;
    const ratioFaulty = faulty.run.perSecond / naiveFaulty.perSecond;
    Object.assign(figures, {
      'batched records/s': Math.round(clean.run.perSecond),
      'batched s': Number(clean.run.seconds.toFixed(2)),
      'batched requests': clean.run.requests,
      'batched enqueue s': Number(clean.enqueueS.toFixed(2)),
      'batched 30% records/s': Math.round(faulty.run.perSecond),
      'batched 30% s': Number(faulty.run.seconds.toFixed(2)),
      'batched 30% requests': faulty.run.requests,
      'batched 30% replays': faulty.run.replays,
      'naive records/s': Math.round(naive.perSecond),
      'naive s': Number(naive.seconds.toFixed(2)),
      'naive 30% records/s': Math.round(naiveFaulty.perSecond),
      'naive 30% records': naiveFaultSample,
      'naive 30% s': Number(naiveFaulty.seconds.toFixed(2)),
      'naive one at a time records/s': Math.round(naiveSerial.perSecond),
      'batched CPU µs/record': Number(clean.run.cpuPerRecordUs.toFixed(1)),
      'naive CPU µs/record': Number(naive.cpuPerRecordUs.toFixed(1)),
      'batched receiver CPU µs/record': Number(clean.run.receiverCpuPerRecordUs.toFixed(1)),
      'naive receiver CPU µs/record': Number(naive.receiverCpuPerRecordUs.toFixed(1)),
      'batched retried later': clean.retriedLater + faulty.retriedLater,
      ratio: Number(ratio.toFixed(1)),
      'ratio 30%': Number(ratioFaulty.toFixed(1)),
    });
    const verdict = (r: number) => (r >= TARGET_RATIO ? 'met' : 'MISSED');
    const lines = [
      `records: ${fmt(n)} (${clean.batches} queue messages of up to ${DEFAULT_BATCH_LIMITS.maxRecords} records; ${IN_FLIGHT} requests in flight at most; every record checked to arrive exactly once)`,
      `no faults:  batched ${fmt(clean.run.perSecond)} records/s (${clean.run.seconds.toFixed(1)} s, ${fmt(clean.run.requests)} requests) vs naive ${fmt(naive.perSecond)} records/s (${naive.seconds.toFixed(1)} s, ${fmt(naive.requests)} requests) = ${ratio.toFixed(1)}x (target >= ${TARGET_RATIO}x: ${verdict(ratio)})`,
      `30 % faults: batched ${fmt(faulty.run.perSecond)} records/s (${faulty.run.seconds.toFixed(1)} s, ${fmt(faulty.run.requests)} requests, ${fmt(faulty.run.replays)} replays recognised by key) vs naive ${fmt(naiveFaulty.perSecond)} records/s (sample of ${fmt(naiveFaultSample)}: ${naiveFaulty.seconds.toFixed(1)} s) = ${ratioFaulty.toFixed(1)}x (target >= ${TARGET_RATIO}x: ${verdict(ratioFaulty)})`,
      `CPU time per record, no faults (both processes; less sensitive to other load than records/s): batched ${clean.run.cpuPerRecordUs.toFixed(1)} µs vs naive ${naive.cpuPerRecordUs.toFixed(1)} µs = ${(naive.cpuPerRecordUs / clean.run.cpuPerRecordUs).toFixed(1)}x (the receiver's part: ${clean.run.receiverCpuPerRecordUs.toFixed(1)} µs vs ${naive.receiverCpuPerRecordUs.toFixed(1)} µs)`,
      `naive one request at a time (no concurrency), no faults: ${fmt(naiveSerial.perSecond)} records/s (sample of ${fmt(naiveFaultSample)}); batched is ${(clean.run.perSecond / naiveSerial.perSecond).toFixed(0)}x that`,
      `enqueue (pack + SendMessageBatch to fauxqs, not in the figures above): ${clean.enqueueS.toFixed(2)} s; load average ${figures['load average before']} -> ${figures['load average after']} on ${cpus().length} CPUs`,
    ];
    return { name: 'push', lines, figures };
  },
};
