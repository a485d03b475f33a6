import { CreateTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEvent } from '../../ingest/test-events';
import { MemoryRowSink } from '../firehose/row-sink';
import { type LocalFirehose, startLocalFirehose } from '../firehose/server';
import { KinesisEventSink } from '../ses-simulator/event-sinks';
import { createLocalClients, type LocalClients } from './clients';
import { startDynamoDbLocal } from './dynamodb-local';
import { startFauxqsServer } from './fauxqs';
import { startKinesalite } from './kinesis-local';
import type { RunningStandIn } from './stand-in';

const standIns: RunningStandIn[] = [];
let clients: LocalClients;
let fh: LocalFirehose | undefined;

beforeAll(async () => {
  const [ddb, fq, kin] = await Promise.all([startDynamoDbLocal(), startFauxqsServer(), startKinesalite()]);
  standIns.push(ddb, fq, kin);
  clients = createLocalClients({ dynamodb: ddb.endpoint, fauxqs: fq.endpoint, kinesis: kin.endpoint });
});

afterAll(async () => {
  clients?.destroy();
  await fh?.close();
  await Promise.all(standIns.map((s) => s.stop()));
});

describe('local stand-in launchers and createLocalClients', () => {
  it('runs DynamoDB Local: create a table, put and get an item', async () => {
    await clients.dynamodb!.send(
      new CreateTableCommand({
        TableName: 'probe',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    const tables = await clients.dynamodb!.send(new ListTablesCommand({}));
    expect(tables.TableNames).toContain('probe');
    await clients.documentClient!.send(new PutCommand({ TableName: 'probe', Item: { pk: 'a', n: 1 } }));
    const got = await clients.documentClient!.send(new GetCommand({ TableName: 'probe', Key: { pk: 'a' } }));
    expect(got.Item?.n).toBe(1);
  });

  it('runs fauxqs: S3 with path-style keys and an SQS queue', async () => {
    await clients.s3!.send(new CreateBucketCommand({ Bucket: 'lake-probe' }));
    await clients.s3!.send(
      new PutObjectCommand({ Bucket: 'lake-probe', Key: 'events/dt=2026-11-25/hour=01/x.parquet', Body: 'x' }),
    );
    const list = await clients.s3!.send(new ListObjectsV2Command({ Bucket: 'lake-probe', Prefix: 'events/' }));
    expect(list.Contents?.map((o) => o.Key)).toEqual(['events/dt=2026-11-25/hour=01/x.parquet']);
    const q = await clients.sqs!.send(new CreateQueueCommand({ QueueName: 'probe' }));
    await clients.sqs!.send(new SendMessageCommand({ QueueUrl: q.QueueUrl, MessageBody: 'hi' }));
    const r = await clients.sqs!.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl, WaitTimeSeconds: 1 }));
    expect(r.Messages?.[0]?.Body).toBe('hi');
  });

  it('fans accepted Firehose records out to a kinesalite stream, partitioned by tenant', async () => {
    const k = clients.kinesis!;
    await k.send(new CreateStreamCommand({ StreamName: 'ses-events', ShardCount: 1 }));
    await waitUntilStreamExists({ client: k, maxWaitTime: 10, minDelay: 1 }, { StreamName: 'ses-events' });
    fh = await startLocalFirehose({
      port: 0,
      streams: ['events'],
      sinkFor: () => new MemoryRowSink(),
      fanOutFor: () => new KinesisEventSink(k, 'ses-events'),
    });
    const local = createLocalClients({ firehose: fh.endpoint });
    const record = testEvent('Send', 'send', {});
    await local.firehose!.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'events',
        Records: [{ Data: Buffer.from(`${JSON.stringify(record)}\n`) }, { Data: Buffer.from('garbage') }],
      }),
    );
    local.destroy();
    await fh.flush();
    const { Shards } = await k.send(new ListShardsCommand({ StreamName: 'ses-events' }));
    const { ShardIterator } = await k.send(
      new GetShardIteratorCommand({
        StreamName: 'ses-events',
        ShardId: Shards![0]!.ShardId!,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const { Records } = await k.send(new GetRecordsCommand({ ShardIterator }));
    expect(Records).toHaveLength(1);
    expect(Records![0]!.PartitionKey).toBe('tenant-a');
    expect(JSON.parse(Buffer.from(Records![0]!.Data!).toString()).eventType).toBe('Send');
  });
});
