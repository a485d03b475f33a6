import { POLICIES } from '../../tenants/policy';
import { ReputationConfigError } from './errors';

/** Configuration of the reputation area, read once from the environment (names come from serverless.yml). */
export interface ReputationConfig {
  /** `SESFLOW_TABLE`: the single DynamoDB table. */
  tableName: string;
  /** `SESFLOW_ALERT_TOPIC_ARN`: SNS topic for pause alerts; absent locally (alerts are log lines). */
  alertTopicArn: string | null;
  /** `SESFLOW_REPUTATION_POLICY`: default policy of tenants without one on their profile (`standard`). */
  defaultPolicy: string;
}

export function readReputationConfig(env: NodeJS.ProcessEnv = process.env): ReputationConfig {
  const tableName = env.SESFLOW_TABLE;
  if (!tableName) throw new ReputationConfigError('SESFLOW_TABLE is not set (the DynamoDB table name)');
  const defaultPolicy = env.SESFLOW_REPUTATION_POLICY ?? 'standard';
  if (!POLICIES.has(defaultPolicy)) {
    throw new ReputationConfigError(
      `SESFLOW_REPUTATION_POLICY must be one of ${[...POLICIES.keys()].join(', ')}, not ${defaultPolicy}`,
    );
  }
  return { tableName, alertTopicArn: env.SESFLOW_ALERT_TOPIC_ARN || null, defaultPolicy };
}
