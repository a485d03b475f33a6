import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { FsLakeStore } from '../../ingest/fs-lake-store';
import type { RollupStore } from '../../ingest/rollups-writer';
import { S3LakeStore } from '../../ingest/s3-lake-store';
import { DuckDbLakeFileFinder } from '../../privacy/duckdb-lake-file-finder';
import { DynamoDbEraser } from '../../privacy/dynamodb-eraser';
import { DynamoDbErasureAudit } from '../../privacy/dynamodb-erasure-audit';
import { forgetRecipient, skippedStore } from '../../privacy/erase';
import { allAudits, FileErasureAudit } from '../../privacy/file-erasure-audit';
import { LakeErrorsEraser } from '../../privacy/lake-errors-eraser';
import { LakeEventsEraser } from '../../privacy/lake-events-eraser';
import { LakeRollupsEraser } from '../../privacy/lake-rollups-eraser';
import { OpenSearchEraser } from '../../privacy/opensearch-eraser';
import type { ErasureAudit, ErasureReport, ErasureTarget } from '../../privacy/ports';
import { ReportingEraser } from '../../privacy/reporting-eraser';
import type { ErasureRequest } from '../../privacy/request';
import { SesV2SuppressionLookup } from '../../privacy/sesv2-suppression-lookup';
import { StoreScanFileFinder } from '../../privacy/store-scan-file-finder';
import { SuppressionNote } from '../../privacy/suppression-note';
import { createOpenSearchClient } from '../../queries/opensearch/client';
import { createLocalClients, type LocalEndpoints } from '../stack/clients';

/** The local erasure key's file in the data directory (created on first use, readable by its owner only). */
export const LOCAL_ERASURE_KEY_FILE = 'erasure-key';
/** The local erasure audit (one JSON report a line, no address). */
export const LOCAL_ERASURE_AUDIT_FILE = 'erasure-audit.ndjson';

/** `SESFLOW_ERASURE_KEY`, else the data directory's key file, made on first use. */
export function localErasureKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.SESFLOW_ERASURE_KEY) return env.SESFLOW_ERASURE_KEY;
  const file = join(dataDir, LOCAL_ERASURE_KEY_FILE);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}

export interface LocalErasureOptions {
  dataDir: string;
  lakeDir: string;
  /** The stand-ins (from `<data dir>/endpoints.json` or a running pipeline); a missing one is reported as skipped. */
  endpoints: LocalEndpoints & { reporting?: string };
  table: string;
  /** The lake in the fauxqs bucket instead of `lakeDir` (`sesflow start --lake-store s3`). */
  lakeBucket?: string;
  reportingKey?: string;
  /** An OpenSearch endpoint (`SESFLOW_OPENSEARCH_URL`); none locally by default. */
  openSearchUrl?: string;
  openSearchIndex?: string;
}

/**
 * The local composition of an erasure: every store the local stack has, in erase order (External Reporting,
 * OpenSearch, DynamoDB, the suppression lists, the error records, the lake's events, then the rollups derived from
 * them), and the audit (the table's audit entries and `<data dir>/erasure-audit.ndjson`).
 */
export function createLocalErasure(opts: LocalErasureOptions): {
  forget(request: ErasureRequest, dryRun: boolean): Promise<ErasureReport>;
  close(): void;
} {
  const clients = createLocalClients(opts.endpoints);
  const lake: RollupStore =
    opts.lakeBucket && clients.s3 ? new S3LakeStore(clients.s3, opts.lakeBucket) : new FsLakeStore(opts.lakeDir);
  const finder = lake instanceof FsLakeStore ? new DuckDbLakeFileFinder(opts.lakeDir) : new StoreScanFileFinder(lake);
  const doc: DynamoDBDocumentClient | undefined = clients.documentClient;
  const events = new LakeEventsEraser(lake, finder);
  const targets: ErasureTarget[] = [
    new ReportingEraser(
      opts.endpoints.reporting && opts.reportingKey
        ? { baseUrl: opts.endpoints.reporting, apiKey: opts.reportingKey }
        : null,
    ),
    new OpenSearchEraser(
      opts.openSearchUrl ? createOpenSearchClient({ node: opts.openSearchUrl }) : null,
      opts.openSearchIndex ? `${opts.openSearchIndex}*` : undefined,
    ),
    doc
      ? new DynamoDbEraser(doc, opts.table)
      : skippedStore(
          'DynamoDB (push record states, message items, job outcomes)',
          'no DynamoDB endpoint: is `sesflow start` running?',
        ),
    new SuppressionNote(clients.ses ? new SesV2SuppressionLookup(clients.ses) : null),
    new LakeErrorsEraser(lake),
    events,
    new LakeRollupsEraser(lake, events),
  ];
  const audits: ErasureAudit[] = [new FileErasureAudit(join(opts.dataDir, LOCAL_ERASURE_AUDIT_FILE))];
  if (doc) audits.push(new DynamoDbErasureAudit(doc, opts.table));
  const key = localErasureKey(opts.dataDir);
  return {
    forget: (request, dryRun) => forgetRecipient(request, { key, targets, audit: allAudits(...audits), dryRun }),
    close: () => clients.destroy(),
  };
}
