import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/**
 * A queue and its dead-letter queue, idempotently (CreateQueue returns an existing queue; the redrive policy, and the
 * visibility timeout when given, are set on whatever queue is there): a message received `maxReceiveCount` times
 * moves to the DLQ.
 */
export async function ensureQueueWithDlq(
  sqs: SQSClient,
  names: { queue: string; dlq: string },
  opts: { maxReceiveCount: number; visibilityTimeoutSeconds?: number },
): Promise<{ queueUrl: string; queueArn: string; dlqUrl: string }> {
  const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: names.dlq }))).QueueUrl!;
  const arnOf = async (url: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!
      .QueueArn!;
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: names.queue }))).QueueUrl!;
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: queueUrl,
      Attributes: {
        ...(opts.visibilityTimeoutSeconds === undefined
          ? {}
          : { VisibilityTimeout: String(opts.visibilityTimeoutSeconds) }),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: await arnOf(dlqUrl),
          maxReceiveCount: opts.maxReceiveCount,
        }),
      },
    }),
  );
  return { queueUrl, queueArn: await arnOf(queueUrl), dlqUrl };
}
