import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Endpoints of the local stand-ins (`http://127.0.0.1:<port>`); a missing one gives no client. */
export interface LocalEndpoints {
  dynamodb?: string;
  /** fauxqs: SQS, SNS and S3 share it. */
  fauxqs?: string;
  kinesis?: string;
  ses?: string;
  firehose?: string;
}

export interface LocalClients {
  dynamodb?: DynamoDBClient;
  documentClient?: DynamoDBDocumentClient;
  sqs?: SQSClient;
  sns?: SNSClient;
  s3?: S3Client;
  kinesis?: KinesisClient;
  ses?: SESv2Client;
  firehose?: FirehoseClient;
  /** Closes every client's sockets. */
  destroy(): void;
}

/** Dummy credentials: the stand-ins accept any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';

/**
 * Real AWS SDK v3 clients pointed at the local stand-ins: region us-east-1, dummy credentials, path-style S3, and
 * HTTP/1.1 for Kinesis (kinesalite cannot speak the client's default HTTP/2).
 */
export function createLocalClients(endpoints: LocalEndpoints): LocalClients {
  const base = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const c: Omit<LocalClients, 'destroy'> = {};
  if (endpoints.dynamodb) {
    c.dynamodb = new DynamoDBClient({ ...base, endpoint: endpoints.dynamodb });
    c.documentClient = DynamoDBDocumentClient.from(c.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  }
  if (endpoints.fauxqs) {
    c.sqs = new SQSClient({ ...base, endpoint: endpoints.fauxqs });
    c.sns = new SNSClient({ ...base, endpoint: endpoints.fauxqs });
    c.s3 = new S3Client({ ...base, endpoint: endpoints.fauxqs, forcePathStyle: true });
  }
  if (endpoints.kinesis) {
    c.kinesis = new KinesisClient({ ...base, endpoint: endpoints.kinesis, requestHandler: new NodeHttpHandler() });
  }
  if (endpoints.ses) c.ses = new SESv2Client({ ...base, endpoint: endpoints.ses });
  if (endpoints.firehose) c.firehose = new FirehoseClient({ ...base, endpoint: endpoints.firehose });
  return {
    ...c,
    destroy() {
      for (const client of [c.dynamodb, c.sqs, c.sns, c.s3, c.kinesis, c.ses, c.firehose]) client?.destroy();
    },
  };
}
