import { SenderAuthConfigError } from './errors';

/** The sender-auth checks' settings, read from the environment once (names come from serverless.yml). */
export interface SenderAuthConfig {
  /** `SESFLOW_TABLE`: the single DynamoDB table. */
  tableName: string;
  /** `AWS_REGION`: SES's region (its feedback MX is `feedback-smtp.<region>.amazonses.com`). */
  region: string;
  /**
   * `SESFLOW_DNS_SERVERS`: comma-separated `host[:port]` resolvers the checks ask (empty: the system's). Locally the
   * DNS server `sesflow start` runs.
   */
  dnsServers: string[];
  /** Whether marketing mail carries one-click unsubscribe: `SESFLOW_UNSUBSCRIBE_URL` is set (the Email API's link). */
  oneClickUnsubscribe: boolean;
}

const SERVER = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\]|[0-9a-f:]+)(:\d{1,5})?$/i;

export function readSenderAuthConfig(env: NodeJS.ProcessEnv = process.env): SenderAuthConfig {
  const tableName = env.SESFLOW_TABLE;
  if (!tableName) throw new SenderAuthConfigError('SESFLOW_TABLE is not set (the DynamoDB table name)');
  const dnsServers = (env.SESFLOW_DNS_SERVERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = dnsServers.find((s) => !SERVER.test(s));
  if (bad) throw new SenderAuthConfigError(`SESFLOW_DNS_SERVERS: "${bad.slice(0, 60)}" is not an IP address[:port]`);
  return {
    tableName,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    dnsServers,
    oneClickUnsubscribe: !!env.SESFLOW_UNSUBSCRIBE_URL,
  };
}
