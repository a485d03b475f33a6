import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { NormaliseOptions } from '../../ingest/normalise';
import { writeAwsJson } from '../aws-json-reply';
import type { EventSink } from '../ses-simulator/event-sinks';
import { DeliveryStream } from './delivery-stream';
import { FirehoseApiError } from './errors';
import type { RowSink } from './row-sink';

/**
 * A local Amazon Data Firehose endpoint for `@aws-sdk/client-firehose` (awsJson1_1: `POST /`, header
 * `X-Amz-Target: Firehose_20150804.<Operation>`). PutRecordBatch and PutRecord with the real limits
 * (aws-facts §4.8), CreateDeliveryStream, DescribeDeliveryStream, ListDeliveryStreams, DeleteDeliveryStream.
 */

/** PutRecordBatch limits: 500 records, 1,000 KiB per record (before base64), 4 MiB per request. */
export const FIREHOSE_LIMITS = { maxRecords: 500, maxRecordBytes: 1000 * 1024, maxRequestBytes: 4 * 1024 * 1024 };

const RecordSchema = z.object({ Data: z.string() });
const PutRecordBatchSchema = z.object({
  DeliveryStreamName: z.string().min(1),
  Records: z.array(RecordSchema).min(1),
});
const PutRecordSchema = z.object({ DeliveryStreamName: z.string().min(1), Record: RecordSchema });
const StreamNameSchema = z.looseObject({ DeliveryStreamName: z.string().min(1) });

/** A per-entry failure to inject (tests): return an error code for some records, null for the rest. */
export type FailureInjector = (
  streamName: string,
  index: number,
) => 'ServiceUnavailableException' | 'InternalFailure' | null;

export interface LocalFirehoseOptions {
  port?: number;
  host?: string;
  region?: string;
  accountId?: string;
  /** Where each stream delivers rows and errors. */
  sinkFor: (streamName: string) => RowSink;
  /** Fan-out of accepted raw records (Kinesis), per stream; none by default. */
  fanOutFor?: (streamName: string) => EventSink | undefined;
  /** Streams that exist from the start (others need CreateDeliveryStream, or `autoCreate`). */
  streams?: string[];
  autoCreate?: boolean;
  bufferBytes?: number;
  bufferIntervalMs?: number;
  normaliseOptions?: NormaliseOptions;
  injectFailures?: FailureInjector;
  onProblem?: (message: string) => void;
}

export interface LocalFirehose {
  endpoint: string;
  port: number;
  server: Server;
  streams: Map<string, DeliveryStream>;
  /** Delivers every buffered record of every stream. */
  flush(): Promise<void>;
  /** Flushes, then stops listening. */
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new FirehoseApiError(
      'InvalidArgumentException',
      `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return r.data;
}

/** Decodes and checks records against the API limits; a violation rejects the whole call, as Firehose does. */
function decodeRecords(records: readonly { Data: string }[]): Buffer[] {
  if (records.length > FIREHOSE_LIMITS.maxRecords) {
    throw new FirehoseApiError(
      'InvalidArgumentException',
      `1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length less than or equal to ${FIREHOSE_LIMITS.maxRecords}`,
    );
  }
  let total = 0;
  const out = records.map((r, i) => {
    const data = Buffer.from(r.Data, 'base64');
    if (data.byteLength > FIREHOSE_LIMITS.maxRecordBytes) {
      throw new FirehoseApiError(
        'InvalidArgumentException',
        `Record ${i} is ${data.byteLength} bytes, over the 1,000 KiB record limit`,
      );
    }
    total += data.byteLength;
    return data;
  });
  if (total > FIREHOSE_LIMITS.maxRequestBytes) {
    throw new FirehoseApiError('InvalidArgumentException', `Request is ${total} bytes, over the 4 MiB request limit`);
  }
  return out;
}

/** Starts a local Firehose; resolves once it listens. */
export async function startLocalFirehose(opts: LocalFirehoseOptions): Promise<LocalFirehose> {
  const region = opts.region ?? 'us-east-1';
  const accountId = opts.accountId ?? '123456789012';
  const streams = new Map<string, DeliveryStream>();
  const create = (name: string): DeliveryStream => {
    const s = new DeliveryStream({
      name,
      arn: `arn:aws:firehose:${region}:${accountId}:deliverystream/${name}`,
      region,
      sink: opts.sinkFor(name),
      fanOut: opts.fanOutFor?.(name),
      bufferBytes: opts.bufferBytes,
      bufferIntervalMs: opts.bufferIntervalMs,
      normaliseOptions: opts.normaliseOptions,
      onProblem: opts.onProblem,
    });
    streams.set(name, s);
    return s;
  };
  for (const name of opts.streams ?? []) create(name);
  const stream = (name: string): DeliveryStream => {
    const s = streams.get(name) ?? (opts.autoCreate ? create(name) : undefined);
    if (!s) {
      throw new FirehoseApiError('ResourceNotFoundException', `Firehose ${name} under account ${accountId} not found.`);
    }
    return s;
  };

  const operations: Record<string, (body: unknown) => Json> = {
    PutRecordBatch: (body) => {
      const b = parse(PutRecordBatchSchema, body);
      const s = stream(b.DeliveryStreamName);
      const data = decodeRecords(b.Records);
      const accepted: Buffer[] = [];
      const failures = data.map((_, i) => opts.injectFailures?.(b.DeliveryStreamName, i) ?? null);
      for (let i = 0; i < data.length; i++) if (!failures[i]) accepted.push(data[i]!);
      const ids = s.put(accepted);
      let next = 0;
      const responses = failures.map((code) =>
        code
          ? {
              ErrorCode: code,
              ErrorMessage: code === 'ServiceUnavailableException' ? 'Slow down.' : 'Internal failure.',
            }
          : { RecordId: ids[next++]! },
      );
      return {
        FailedPutCount: failures.filter(Boolean).length,
        Encrypted: false,
        RequestResponses: responses,
      };
    },
    PutRecord: (body) => {
      const b = parse(PutRecordSchema, body);
      const s = stream(b.DeliveryStreamName);
      const [id] = s.put(decodeRecords([b.Record]));
      return { RecordId: id, Encrypted: false };
    },
    CreateDeliveryStream: (body) => {
      const b = parse(StreamNameSchema, body);
      if (streams.has(b.DeliveryStreamName)) {
        throw new FirehoseApiError('ResourceInUseException', `Firehose ${b.DeliveryStreamName} already exists.`);
      }
      return { DeliveryStreamARN: create(b.DeliveryStreamName).arn };
    },
    DescribeDeliveryStream: (body) => {
      const s = stream(parse(StreamNameSchema, body).DeliveryStreamName);
      return {
        DeliveryStreamDescription: {
          DeliveryStreamName: s.name,
          DeliveryStreamARN: s.arn,
          DeliveryStreamStatus: 'ACTIVE',
          DeliveryStreamType: 'DirectPut',
          VersionId: '1',
          CreateTimestamp: s.createdAt / 1000,
          Destinations: [],
          HasMoreDestinations: false,
        },
      };
    },
    ListDeliveryStreams: () => ({ DeliveryStreamNames: [...streams.keys()].sort(), HasMoreDeliveryStreams: false }),
    DeleteDeliveryStream: (body) => {
      const s = stream(parse(StreamNameSchema, body).DeliveryStreamName);
      s.stop();
      streams.delete(s.name);
      return {};
    },
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const op = target.startsWith('Firehose_20150804.') ? target.slice('Firehose_20150804.'.length) : '';
      const fn = operations[op];
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      if (!fn || req.method !== 'POST') {
        throw new FirehoseApiError('InvalidArgumentException', `Unsupported operation ${op || target || req.method}`);
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        throw new FirehoseApiError('InvalidArgumentException', 'The request body is not valid JSON.');
      }
      reply(res, 200, fn(body));
    } catch (err) {
      if (err instanceof FirehoseApiError) reply(res, err.status, { __type: err.code, message: err.message }, err.code);
      else
        reply(
          res,
          500,
          { __type: 'InternalFailure', message: 'Internal error in the local Firehose.' },
          'InternalFailure',
        );
    }
  }

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const flush = async () => {
    await Promise.all([...streams.values()].map((s) => s.flush()));
  };
  return {
    endpoint: `http://${host}:${port}`,
    port,
    server,
    streams,
    flush,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await flush();
      for (const s of streams.values()) s.stop();
    },
  };
}

function reply(res: ServerResponse, status: number, body: Json, errorType?: string): void {
  writeAwsJson(res, 'application/x-amz-json-1.1', status, body, errorType);
}
