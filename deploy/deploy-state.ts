import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { NewVersionErrors } from './deploy-judge';

/** The alias every function is published behind (serverless.yml, custom.deploymentSettings). */
export const LIVE_ALIAS = 'live';

/** Messages in each queue (visible, in flight and delayed): what a dead-letter queue holds. */
export async function queueDepths(sqs: SQSClient, names: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of names) {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    const { Attributes: a = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    out[name] =
      Number(a.ApproximateNumberOfMessages ?? 0) +
      Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
  }
  return out;
}

/**
 * Errors of each function's new version since `sinceMs`: the version the alias points at now (CodeDeploy has
 * finished shifting when the deploy returns), its `Errors` through the alias (dimension ExecutedVersion).
 */
export async function newVersionErrors(
  clients: { lambda: LambdaClient; cloudwatch: CloudWatchClient },
  functions: readonly string[],
  sinceMs: number,
  nowMs: number,
): Promise<NewVersionErrors[]> {
  const out: NewVersionErrors[] = [];
  for (const fn of functions) {
    const alias = await clients.lambda.send(new GetAliasCommand({ FunctionName: fn, Name: LIVE_ALIAS }));
    const version = alias.FunctionVersion ?? '$LATEST';
    const data = await clients.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(Math.floor(sinceMs / 60_000) * 60_000),
        EndTime: new Date(Math.ceil(nowMs / 60_000) * 60_000),
        MetricDataQueries: [
          {
            Id: 'errors',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/Lambda',
                MetricName: 'Errors',
                Dimensions: [
                  { Name: 'FunctionName', Value: fn },
                  { Name: 'Resource', Value: `${fn}:${LIVE_ALIAS}` },
                  { Name: 'ExecutedVersion', Value: version },
                ],
              },
              Period: 60,
              Stat: 'Sum',
            },
          },
        ],
      }),
    );
    const errors = (data.MetricDataResults?.[0]?.Values ?? []).reduce((a, b) => a + b, 0);
    out.push({ function: fn, version, errors });
  }
  return out;
}

/** The AWS clients the smoke test's deploy judgement uses. */
export function deployStateClients(region: string): { lambda: LambdaClient; cloudwatch: CloudWatchClient } {
  return { lambda: new LambdaClient({ region }), cloudwatch: new CloudWatchClient({ region }) };
}
