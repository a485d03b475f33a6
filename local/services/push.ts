import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { readBatchLimits, readRetryPolicy } from '../../enrich/push/config';
import { DynamoDbRecordStateStore } from '../../enrich/push/dynamodb-record-state-store';
import { startLocalPusher } from '../../enrich/push/local-pusher';
import { processProducerBatch } from '../../enrich/push/producer';
import { createReportingApiClient } from '../../enrich/push/reporting-api-client';
import { enqueueBatches, SqsDeadLetterQueue } from '../../enrich/push/sqs-record-queue';
import { ensureTable } from '../../lib/table-design';
import { startKinesisPoller } from '../kinesis-poller';
import { type PipelineService, serviceNeeding } from '../pipeline/service';
import { readReceiverConfig } from '../reporting-receiver/config';
import { startReportingReceiver } from '../reporting-receiver/server';

/** The local External Reporting key: `<dataDir>/reporting-api-key` (mode 0600), made once and kept. */
export const LOCAL_REPORTING_KEY_FILE = 'reporting-api-key';

/** Reads (or creates) the local receiver's API key; `SESFLOW_REPORTING_API_KEY` wins when set. */
export function ensureLocalReportingKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.SESFLOW_REPORTING_API_KEY) return env.SESFLOW_REPORTING_API_KEY;
  const file = join(dataDir, LOCAL_REPORTING_KEY_FILE);
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (key.length >= 16) return key;
  }
  const key = `srk_${randomBytes(18).toString('base64url')}`;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/**
 * External Reporting in `sesflow start`: the local receiver (the contract, on `SESFLOW_PORT_REPORTING`, default
 * 4590, records also appended to `<dataDir>/reporting-received.ndjson`, fault mode from `SESFLOW_REPORTING_FAULT_*`),
 * the record producer on the SES events stream (the same `processProducerBatch` as the Lambda, fed by the local
 * Kinesis poller; state in the shared table) and the pusher loop on the reporting queue on fauxqs (the same
 * `pushQueuedBatch` as the Lambda). The receiver's URL is `reporting` in endpoints.json, its key in
 * `<dataDir>/reporting-api-key`, which `sesflow push` reads.
 */
export function pushPipelineService(): PipelineService {
  return serviceNeeding(
    'push',
    { clients: ['dynamodb', 'documentClient', 'kinesis', 'sqs'] },
    async (ctx, { dynamodb, documentClient, kinesis, sqs }) => {
      const apiKey = ensureLocalReportingKey(ctx.dataDir);
      const rc = readReceiverConfig();
      const receiverOptions = {
        apiKeys: [apiKey],
        ndjsonFile: join(ctx.dataDir, 'reporting-received.ndjson'),
        faults: rc.faults,
        rejectTenants: rc.rejectTenants,
      };
      // A busy preferred port falls back to a free one, as for the other stand-ins.
      const receiver = await startReportingReceiver({ ...receiverOptions, port: rc.port }).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
        return startReportingReceiver({ ...receiverOptions, port: 0 });
      });
      ctx.endpoints.reporting = receiver.url;
      ctx.shared.reportingReceiver = receiver;
      const res = ctx.resources;
      const queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: res.reportingQueue }))).QueueUrl!;
      const dlqUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: res.reportingDlq }))).QueueUrl!;
      await ensureTable(dynamodb, res.table);
      const limits = readBatchLimits();
      const api = createReportingApiClient({ baseUrl: receiver.url, apiKey });
      const pusher = startLocalPusher({
        sqs,
        queueUrl,
        deps: {
          api,
          deadLetters: new SqsDeadLetterQueue(sqs, dlqUrl),
          limits,
          retry: readRetryPolicy(),
          maxReceiveCount: 5,
          log: (level, message, keys) => {
            if (level === 'error') ctx.log(JSON.stringify({ level, msg: `push: ${message}`, ...keys }));
          },
        },
        concurrency: 2,
        onProblem: (line) => ctx.log(line),
      });
      const producer = await startKinesisPoller({
        kinesis,
        streamName: res.reputationStream,
        consumer: 'push-producer',
        checkpointFile: join(ctx.dataDir, 'push-producer-consumer.json'),
        idleMs: 200,
        handler: (batch) =>
          processProducerBatch(
            {
              state: new DynamoDbRecordStateStore(documentClient, res.table),
              queue: { enqueue: (batches) => enqueueBatches(sqs, queueUrl, batches) },
              limits,
              log: (level, message, keys) => {
                if (level !== 'info') ctx.log(JSON.stringify({ level, msg: `push producer: ${message}`, ...keys }));
              },
            },
            batch,
          ),
        onProblem: (line) => ctx.log(line),
      });
      ctx.shared.pushPusher = pusher;
      ctx.shared.pushProducer = producer;
      const faults = rc.faults.rate > 0 ? ` (fault mode: ${Math.round(rc.faults.rate * 100)} % failures)` : '';
      ctx.links.push({ label: 'External Reporting (local receiver)', url: receiver.url });
      ctx.log(`push: records of ${res.reputationStream} -> ${res.reportingQueue} -> ${receiver.url}${faults}`);
      return {
        async stop() {
          await producer.stop();
          await pusher.stop();
          api.close();
          await receiver.close();
        },
      };
    },
  );
}
