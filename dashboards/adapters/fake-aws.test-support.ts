import { Readable } from 'node:stream';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Test support (no AWS here): real SDK clients (their serialisers, awsJson1_0/1_1, X-Amz-Target) whose HTTP handler
 * answers like the service, so adapters are tested against the SDK's real request and response shapes. Every
 * request is recorded as its operation and JSON body.
 */
export interface RecordedCall {
  op: string;
  body: Record<string, unknown>;
}

export interface Reply {
  status?: number;
  body: unknown;
  errorType?: string;
}

type Handler = (body: Record<string, unknown>, n: number) => Reply;

function fakeHandler(prefix: string, contentType: string, handlers: Record<string, Handler>, calls: RecordedCall[]) {
  const counts = new Map<string, number>();
  return {
    handle: async (req: { headers: Record<string, string>; body?: unknown }) => {
      const op = String(req.headers['x-amz-target']).replace(prefix, '');
      const body = JSON.parse(Buffer.from(req.body as Uint8Array | string).toString('utf8')) as Record<string, unknown>;
      calls.push({ op, body });
      const n = counts.get(op) ?? 0;
      counts.set(op, n + 1);
      const handler = handlers[op];
      const reply: Reply = handler
        ? handler(body, n)
        : { status: 400, errorType: 'UnknownOperationException', body: { __type: 'UnknownOperationException' } };
      return {
        response: {
          statusCode: reply.status ?? 200,
          headers: {
            'content-type': contentType,
            ...(reply.errorType ? { 'x-amzn-errortype': reply.errorType } : {}),
          },
          body: Readable.from([Buffer.from(JSON.stringify(reply.body))]),
        },
      };
    },
  } as never;
}

const TEST_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

/** An AthenaClient answered by `handlers` (StartQueryExecution, GetQueryExecution, GetQueryResults, …). */
export function fakeAthenaClient(handlers: Record<string, Handler>): { client: AthenaClient; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const client = new AthenaClient({
    region: 'eu-west-1',
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
    requestHandler: fakeHandler('AmazonAthena.', 'application/x-amz-json-1.1', handlers, calls),
  });
  return { client, calls };
}

/** A DynamoDBClient answered by `handlers` (Query, GetItem, …) in DynamoDB's JSON (`{"S": …}`). */
export function fakeDynamoDbClient(handlers: Record<string, Handler>): {
  client: DynamoDBClient;
  calls: RecordedCall[];
} {
  const calls: RecordedCall[] = [];
  const client = new DynamoDBClient({
    region: 'eu-west-1',
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
    // A fixed endpoint: no endpoint discovery, no account-based endpoint lookup.
    endpoint: 'https://dynamodb.eu-west-1.amazonaws.com',
    requestHandler: fakeHandler('DynamoDB_20120810.', 'application/x-amz-json-1.0', handlers, calls),
  });
  return { client, calls };
}

/** One GetQueryResults row: text values, `null` = a Datum without VarCharValue (SQL NULL). */
export const athenaRow = (...values: (string | null)[]) => ({
  Data: values.map((v) => (v === null ? {} : { VarCharValue: v })),
});

/** A GetQueryExecution answer in a state, with the bytes scanned. */
export function athenaExecution(id: string, State: string, extra: Record<string, unknown> = {}, bytes = 1024): Reply {
  return {
    body: {
      QueryExecution: {
        QueryExecutionId: id,
        StatementType: 'DML',
        Status: { State, ...extra },
        Statistics: { DataScannedInBytes: bytes, ResultReuseInformation: { ReusedPreviousResult: false } },
      },
    },
  };
}
