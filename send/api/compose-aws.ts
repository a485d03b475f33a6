import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ComposeOptions, composeSend, type SendComposition } from './compose';
import { readEmailApiConfig, readUnsubscribeConfig } from './config';
import { createAccessTokenVerifier, readOAuthIssuerConfig } from './oauth';

/**
 * The send area over the real AWS clients, configured from the environment (serverless.yml): what the Email API
 * and the bulk worker Lambdas both run. `logs` adds the function's own log lines.
 */
export function composeSendForLambda(logs: Pick<ComposeOptions, 'apiLog' | 'workerLog'>): SendComposition {
  const config = readEmailApiConfig();
  // OAuth 2.0 client credentials from the Cognito resource server, for the tenants that require it.
  const oauth = readOAuthIssuerConfig();
  return composeSend({
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
    sqs: new SQSClient({}),
    // One attempt per call: the sender retries throttling through the shared rate limiter.
    ses: new SESv2Client({ maxAttempts: 1 }),
    tableName: config.tableName,
    sendQueueUrl: config.sendQueueUrl,
    rateScope: `ses-${process.env.AWS_REGION ?? 'local'}`,
    ...(oauth ? { verifyAccessToken: createAccessTokenVerifier(oauth) } : {}),
    // One-click unsubscribe links on marketing mail (SESFLOW_UNSUBSCRIBE_URL and _SECRET).
    unsubscribe: readUnsubscribeConfig(),
    ...logs,
  });
}
