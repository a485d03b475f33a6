import { Logger } from '@aws-lambda-powertools/logger';
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { readIngestConfig } from './config';
import { transformFirehoseBatch } from './firehose-transform';

const logger = new Logger({ serviceName: 'sesflow-ingest' });
const config = readIngestConfig();

/**
 * Firehose transformation Lambda: unwraps the batch, runs the shared transform, logs once per batch (record ids and
 * reasons only: never whole events, addresses or subjects) and returns every recordId.
 */
export const handler = async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
  const { result, stats } = transformFirehoseBatch(event, { configSetTenants: config.configSetTenants });
  logger.info('transformed batch', {
    invocationId: event.invocationId,
    records: stats.records,
    ok: stats.ok,
    failed: stats.failed,
    rows: stats.rows,
  });
  for (const f of stats.failures.slice(0, 50)) logger.warn('record failed', f);
  return result;
};
