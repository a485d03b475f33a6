import { Logger } from '@aws-lambda-powertools/logger';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { secretTargetSource } from '../enrich/push/reporting-target';
import { describeError } from '../lib/errors';
import { secretSource } from '../lib/secret-source';
import { AthenaRunner } from '../queries/athena/runner';
import { createOpenSearchClient } from '../queries/opensearch/client';
import { AthenaLakeFileFinder } from './athena-lake-file-finder';
import { MIN_ERASURE_KEY_LENGTH, readEraseFunctionConfig } from './config';
import { DynamoDbEraser } from './dynamodb-eraser';
import { DynamoDbErasureAudit } from './dynamodb-erasure-audit';
import { forgetRecipient } from './erase';
import { ErasureRequestError } from './errors';
import { LakeErrorsEraser } from './lake-errors-eraser';
import { LakeEventsEraser } from './lake-events-eraser';
import { LakeRollupsEraser } from './lake-rollups-eraser';
import { OpenSearchEraser, rawRecordErasureQuery } from './opensearch-eraser';
import type { ErasureReport } from './ports';
import { ReportingEraser } from './reporting-eraser';
import { parseErasureRequest } from './request';
import { SesV2SuppressionLookup } from './sesv2-suppression-lookup';
import { SuppressionNote } from './suppression-note';
import { VersionedS3LakeStore } from './versioned-s3-lake-store';

const config = readEraseFunctionConfig();
const maxAgeSeconds = config.secretMaxAgeSeconds;
const keySource =
  'secretId' in config.erasureKey
    ? secretSource({ secretId: config.erasureKey.secretId, maxAgeSeconds })
    : async () => (config.erasureKey as { key: string }).key;
const reportingSource = config.reportingSecretId
  ? secretTargetSource({ secretId: config.reportingSecretId, maxAgeSeconds })
  : null;

/** The erasure key and the External Reporting target now: from Secrets Manager (cached) in AWS, else the environment. */
async function currentSecrets(): Promise<{ key: string; reporting: { baseUrl: string; apiKey: string } | null }> {
  const key = await keySource();
  if (key.length < MIN_ERASURE_KEY_LENGTH) {
    throw new ErasureRequestError(`the erasure key must be at least ${MIN_ERASURE_KEY_LENGTH} characters`);
  }
  if (!reportingSource) return { key, reporting: config.reporting };
  const target = await reportingSource();
  return { key, reporting: { baseUrl: target.url, apiKey: target.apiKey } };
}
const logger = new Logger({ serviceName: 'sesflow-erase' });
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const lake = new VersionedS3LakeStore(new S3Client({}), config.lakeBucket);
const search = config.openSearch ? createOpenSearchClient({ node: config.openSearch.url }) : null;
const athena = new AthenaRunner({
  client: new AthenaClient({}),
  workGroup: config.athena.workGroup,
  database: config.athena.database,
  // The query reads two columns of every file; erasure requests are rare.
  timeoutMs: 600_000,
  resultReuseMinutes: 0,
});

/**
 * The erasure function (invoked by an operator or the compliance API, never by an event source): forgets one
 * recipient in every store of the stage with the lake code the local stack runs (privacy/), the affected lake files
 * found through Athena's `"$path"`, and returns the erasure report. Input `{address, reason, requestedBy, tenant?,
 * dryRun?}`; a bad one is answered `{error}` in one line. Only ids and counts are logged, never the address.
 */
export const handler = async (event: unknown): Promise<ErasureReport | { error: string }> => {
  const input = (event ?? {}) as Record<string, unknown>;
  let request: ReturnType<typeof parseErasureRequest>;
  try {
    request = parseErasureRequest(input);
  } catch (err) {
    if (err instanceof ErasureRequestError) return { error: err.message };
    throw err;
  }
  try {
    const secrets = await currentSecrets();
    const events = new LakeEventsEraser(
      lake,
      new AthenaLakeFileFinder(athena, config.athena.lakeTable, `s3://${config.lakeBucket}/`),
    );
    const report = await forgetRecipient(request, {
      key: secrets.key,
      dryRun: input.dryRun === true,
      targets: [
        new ReportingEraser(secrets.reporting),
        new OpenSearchEraser(search, config.openSearch ? `${config.openSearch.index}*` : undefined),
        ...(search && config.openSearch?.rawIndex
          ? [
              new OpenSearchEraser(
                search,
                `${config.openSearch.rawIndex}*`,
                'OpenSearch (raw SES records)',
                rawRecordErasureQuery,
              ),
            ]
          : []),
        new DynamoDbEraser(doc, config.table),
        new SuppressionNote(new SesV2SuppressionLookup(new SESv2Client({}))),
        new LakeErrorsEraser(lake),
        events,
        // The days of the rewritten files: their rollups built again (DuckDB, /tmp).
        new LakeRollupsEraser(lake, events, { scratchDir: '/tmp' }),
      ],
      audit: new DynamoDbErasureAudit(doc, config.table),
    });
    logger.info('erasure done', {
      erasureId: report.id,
      dryRun: report.dryRun,
      complete: report.complete,
      stores: report.stores.map((s) => ({ store: s.store, found: s.found, changed: s.changed })),
    });
    return report;
  } catch (err) {
    logger.error('erasure failed', { error: describeError(err) });
    throw err;
  }
};
