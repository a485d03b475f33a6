import { resolve } from 'node:path';
import { LocalConfigError } from './errors';

/**
 * Configuration of the local stack (`sesflow start`), read once from the environment. Resource names mirror the
 * deployed stack's; each can be overridden, and a bad port names its variable.
 */
export interface LocalConfig {
  /** Everything the local stack keeps: DynamoDB Local's files, kinesalite's, the simulator's state, the lake. */
  dataDir: string;
  resources: {
    /** Firehose delivery stream SES publishes to (→ transform → lake). */
    eventsStream: string;
    /** Kinesis stream the reputation consumer reads (partition key = tenant). */
    reputationStream: string;
    /** S3 bucket of the lake on fauxqs (`sesflow start --lake-s3`, and adapters that read the lake from S3). */
    lakeBucket: string;
    reportingQueue: string;
    reportingDlq: string;
    sendQueue: string;
    /** The single DynamoDB table (lib/table-design.ts) on DynamoDB Local. */
    table: string;
  };
  /** Preferred ports; a busy one falls back to a free port. */
  ports: { dynamodb: number; fauxqs: number; kinesis: number; ses: number; firehose: number; dns: number };
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new LocalConfigError(`${name} must be a port number (0-65535)`);
  return n;
}

export function readLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  return {
    dataDir: resolve(env.SESFLOW_DATA_DIR || '.sesflow'),
    resources: {
      eventsStream: env.SESFLOW_EVENTS_STREAM || 'sesflow-events',
      reputationStream: env.SESFLOW_REPUTATION_STREAM || 'sesflow-ses-events',
      lakeBucket: env.SESFLOW_LAKE_BUCKET || 'sesflow-lake',
      reportingQueue: env.SESFLOW_REPORTING_QUEUE || 'sesflow-reporting',
      reportingDlq: env.SESFLOW_REPORTING_DLQ || 'sesflow-reporting-dlq',
      sendQueue: env.SESFLOW_SEND_QUEUE || 'sesflow-send-jobs',
      table: env.SESFLOW_TABLE || 'sesflow',
    },
    ports: {
      dynamodb: port(env, 'SESFLOW_PORT_DYNAMODB', 8000),
      fauxqs: port(env, 'SESFLOW_PORT_FAUXQS', 4566),
      kinesis: port(env, 'SESFLOW_PORT_KINESIS', 4568),
      ses: port(env, 'SESFLOW_PORT_SES', 4579),
      firehose: port(env, 'SESFLOW_PORT_FIREHOSE', 4573),
      // UDP; 0: a free port (the sender-auth checks are told where it is).
      dns: port(env, 'SESFLOW_PORT_DNS', 0),
    },
  };
}
