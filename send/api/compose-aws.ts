import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ComposeOptions, composeSend, type SendComposition } from './compose';
import { readEmailApiConfig, readUnsubscribeConfig } from './config';
import { createAccessTokenVerifier, readOAuthIssuerConfig } from './oauth';
import { unsubscribeSecretRefresh } from './unsubscribe-secret';

/**
 * The send area over the real AWS clients, configured from the environment (serverless.yml): what the Email API
 * and the bulk worker Lambdas both run. `logs` adds the function's own log lines. `refreshSecrets` is run before each
 * invocation: it reads the unsubscribe token key from Secrets Manager when its cached copy is older than the max age.
 */
export function composeSendForLambda(
  logs: Pick<ComposeOptions, 'apiLog' | 'workerLog'>,
): SendComposition & { refreshSecrets: () => Promise<void> } {
  const config = readEmailApiConfig();
  const unsubscribe = readUnsubscribeConfig();
  // OAuth 2.0 client credentials from the Cognito resource server, for the tenants that require it.
  const oauth = readOAuthIssuerConfig();
  const send = composeSend({
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
    sqs: new SQSClient({}),
    // One attempt per call: the sender retries throttling through the shared rate limiter.
    ses: new SESv2Client({ maxAttempts: 1 }),
    tableName: config.tableName,
    sendQueueUrl: config.sendQueueUrl,
    rateScope: `ses-${process.env.AWS_REGION ?? 'local'}`,
    ...(oauth ? { verifyAccessToken: createAccessTokenVerifier(oauth) } : {}),
    // One-click unsubscribe links on marketing mail (SESFLOW_UNSUBSCRIBE_URL and the key's _SECRET_ID).
    unsubscribe,
    ...logs,
  });
  return { ...send, refreshSecrets: unsubscribeSecretRefresh(unsubscribe) };
}
