import type { SQSRecord } from 'aws-lambda';

/** One SQS message as Lambda hands it to a handler, from the queue named `queue` (account 0, us-east-1). */
export function sqsRecord(messageId: string, receiptHandle: string, body: string, queue: string): SQSRecord {
  return {
    messageId,
    receiptHandle,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queue}`,
    awsRegion: 'us-east-1',
  };
}
