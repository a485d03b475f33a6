import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../lib/errors';
import { readEndpointsFile } from '../../local/pipeline/endpoints-file';
import { createLocalErasure } from '../../local/privacy/local-erasure';
import { LOCAL_REPORTING_KEY_FILE } from '../../local/services/push';
import { formatErasureReport } from '../../privacy/erase';
import { ErasureRequestError } from '../../privacy/errors';
import { parseErasureRequest } from '../../privacy/request';
import { DEFAULT_LAKE } from './ingest';

interface ForgetOptions {
  tenant?: string;
  dryRun?: boolean;
  reason?: string;
  by?: string;
  lake?: string;
  dataDir?: string;
  lakeStore: string;
  format: string;
}

export function registerForget(program: Command): void {
  program
    .command('forget')
    .description(
      'erase a recipient everywhere (GDPR/CCPA erasure request): lake, error records, DynamoDB, External Reporting, OpenSearch',
    )
    .argument('<address>', 'the email address to forget')
    .option('--tenant <id>', "only this tenant's data (default: every tenant)")
    .option('--dry-run', 'change nothing: list where the address is and what would change')
    .requiredOption('--reason <text>', 'why (ticket, request reference): kept in the audit')
    .option('--by <name>', 'who asks (default: the user running the command)')
    .option('--lake <dir>', `lake directory (default: the running stack's, else ${DEFAULT_LAKE})`)
    .option('--data-dir <dir>', 'the local stack data directory (default SESFLOW_DATA_DIR or .sesflow)')
    .option('--lake-store <store>', 'fs (the lake directory) or s3 (the lake bucket on fauxqs)', 'fs')
    .option('--format <format>', 'report format: text or json', 'text')
    .addHelpText(
      'after',
      `
Stores: the lake's events (rewritten: recipient, event id, IP and user agent replaced by keyed pseudonyms, so every
count stays the same), the error records' raw data, DynamoDB (push record states deleted, the address replaced in
message and job items), External Reporting (a deletion notice by record id), OpenSearch (SESFLOW_OPENSEARCH_URL,
delete by query). The SES suppression lists are kept on purpose (the person's own protection; see
docs/OPERATIONS.md). The audit (the table and <data dir>/erasure-audit.ndjson) keeps a keyed digest of the address,
never the address. The key: SESFLOW_ERASURE_KEY, else <data dir>/erasure-key (made on first use). Running it again
finds nothing and changes nothing.`,
    )
    .action(async (address: string, opts: ForgetOptions) => {
      if (opts.format !== 'text' && opts.format !== 'json') throw new UsageError('--format must be text or json');
      if (opts.lakeStore !== 'fs' && opts.lakeStore !== 's3') throw new UsageError('--lake-store must be fs or s3');
      let request: ReturnType<typeof parseErasureRequest>;
      try {
        request = parseErasureRequest({
          address,
          tenant: opts.tenant,
          reason: opts.reason,
          requestedBy: opts.by ?? process.env.USER ?? 'cli',
        });
      } catch (err) {
        if (err instanceof ErasureRequestError) throw new UsageError(err.message);
        throw err;
      }
      const dataDir = resolve(opts.dataDir ?? process.env.SESFLOW_DATA_DIR ?? '.sesflow');
      // The stores an erasure reaches in the local stack `sesflow start` runs there (none: the lake alone).
      const endpoints = readEndpointsFile(dataDir) ?? {};
      const keyFile = join(dataDir, LOCAL_REPORTING_KEY_FILE);
      const reportingKey =
        process.env.SESFLOW_REPORTING_API_KEY ||
        (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined);
      if (opts.lakeStore === 's3' && !endpoints.fauxqs)
        throw new UsageError('--lake-store s3 needs the running local stack');
      const erasure = createLocalErasure({
        dataDir,
        lakeDir: resolve(opts.lake ?? endpoints.lakeDir ?? DEFAULT_LAKE),
        endpoints: {
          dynamodb: endpoints.dynamodb,
          fauxqs: endpoints.fauxqs,
          ses: endpoints.ses,
          reporting: process.env.SESFLOW_REPORTING_URL || endpoints.reporting,
        },
        table: process.env.SESFLOW_TABLE ?? endpoints.resources?.table ?? 'sesflow',
        lakeBucket: opts.lakeStore === 's3' ? (endpoints.resources?.lakeBucket ?? 'sesflow-lake') : undefined,
        reportingKey,
        openSearchUrl: process.env.SESFLOW_OPENSEARCH_URL || undefined,
        openSearchIndex: process.env.SESFLOW_OPENSEARCH_INDEX || undefined,
      });
      try {
        const report = await erasure.forget(request, opts.dryRun === true);
        process.stdout.write(
          opts.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : `${formatErasureReport(report)}\n`,
        );
        if (!report.complete && !report.dryRun) process.exitCode = 1;
      } finally {
        erasure.close();
      }
    });
}
