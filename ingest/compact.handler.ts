import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { readCompactConfig } from './config';
import { rollUpLake } from './rollups-writer';
import { S3LakeStore } from './s3-lake-store';
import { compactStoreLake } from './store-compaction';

const logger = new Logger({ serviceName: 'sesflow-compact' });
const config = readCompactConfig();
const store = new S3LakeStore(new S3Client({}), config.lakeBucket);

/**
 * Scheduled lake compaction (EventBridge schedule, one run at a time): each closed hour of the S3 lake that holds
 * more than one file, or a file not yet compacted, becomes one compacted file, by the code `sesflow compact` runs.
 * Hours that ended less than `SESFLOW_COMPACT_CLOSED_AFTER_MINUTES` ago are left to Firehose. Then each day whose hours
 * have all closed and that has no rollup, or whose raw files changed since (a late event, an erasure), is rolled up
 * (`rollups/<table>/dt=…/`, ingest/rollups-writer.ts), reading that day's files only.
 */
export const handler = async (): Promise<void> => {
  const closedBefore = new Date(Date.now() - config.closedAfterMinutes * 60_000);
  const summary = await compactStoreLake(store, {
    closedBefore,
    scratchDir: '/tmp',
    onPartition: (partition, s) =>
      logger.info('partition compacted', { partition, files: s.filesBefore, duplicates: s.duplicatesDropped }),
  });
  logger.info('lake compacted', { ...summary, closedBefore: closedBefore.toISOString() });
  const rollups = await rollUpLake(store, {
    closedBefore,
    scratchDir: '/tmp',
    onDay: (day, kind) => logger.info('day rolled up', { day, kind }),
  });
  logger.info('rollups written', { ...rollups });
};
