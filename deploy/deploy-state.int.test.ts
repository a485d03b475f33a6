import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { useFauxqsClients } from '../local/stack/fauxqs-clients.test-support';
import { judgeDeploy } from './deploy-judge';
import { queueDepths } from './deploy-state';

const clients = useFauxqsClients();

describe('dead-letter depths before and after a deploy (SQS on fauxqs)', () => {
  it('passes with an old message standing, fails when a message arrives after the baseline (in flight counts too)', async () => {
    const sqs: SQSClient = clients().sqs!;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'sesflow-test-reporting-dlq' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'old failure, waiting for a redrive' }));
    const baseline = {
      stage: 'test',
      startedAt: Date.now(),
      deadLetterDepths: await queueDepths(sqs, ['sesflow-test-reporting-dlq']),
    };
    expect(baseline.deadLetterDepths).toEqual({ 'sesflow-test-reporting-dlq': 1 });
    // Someone looks at the old message (it is in flight, not visible): still one, still nothing new.
    await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 30 }));
    expect(judgeDeploy(baseline, await queueDepths(sqs, ['sesflow-test-reporting-dlq']), [])).toEqual([]);
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'new failure' }));
    expect(judgeDeploy(baseline, await queueDepths(sqs, ['sesflow-test-reporting-dlq']), [])).toEqual([
      'dead letters: sesflow-test-reporting-dlq grew by 1 since the deploy began (1 -> 2)',
    ]);
  });
});
