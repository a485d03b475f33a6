import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Command } from 'commander';
import { rebuildReputation } from '../../enrich/reputation/rebuild';
import { SesV2TenantControl } from '../../enrich/reputation/sesv2-tenant-control';
import { sesVerdictOf } from '../../enrich/reputation/tenant-reputation';
import { UsageError } from '../../lib/errors';
import { toTable } from '../../lib/tabular';
import { openLake } from '../../queries/duckdb-lake';
import { POLICIES } from '../../tenants/policy';
import { DEFAULT_LAKE } from './ingest';

export function registerReputation(program: Command): void {
  program
    .command('reputation')
    .description("rebuild every tenant's reputation and decision (active / warning / paused) from the lake alone")
    .option('--lake <dir>', 'lake directory', DEFAULT_LAKE)
    .option('--at <iso>', 'evaluation time (default: now); the window is the 7 days (168 hours) ending with it')
    .option('--policy <name>', `policy for every tenant: ${[...POLICIES.keys()].join(', ')}`, 'standard')
    .option('--format <format>', 'table or json (json adds the evidence)', 'table')
    .option('--ses-endpoint <url>', "SES endpoint (e.g. the local SES simulator): adds SES's own verdict per tenant")
    .action(async (opts: { lake: string; at?: string; policy: string; format: string; sesEndpoint?: string }) => {
      if (!POLICIES.has(opts.policy)) throw new UsageError(`unknown policy ${opts.policy}`);
      if (opts.format !== 'table' && opts.format !== 'json') throw new UsageError('--format must be table or json');
      const at = opts.at ? new Date(opts.at) : new Date();
      if (Number.isNaN(at.getTime())) throw new UsageError(`--at is not an ISO 8601 time: ${opts.at}`);
      if (opts.sesEndpoint && !/^https?:\/\//.test(opts.sesEndpoint)) {
        throw new UsageError(`--ses-endpoint must be an http(s) URL: ${opts.sesEndpoint}`);
      }
      const db = await openLake(opts.lake);
      let rows: Awaited<ReturnType<typeof rebuildReputation>>;
      try {
        rows = await rebuildReputation(db, { at, policyOf: () => opts.policy });
      } finally {
        db.close();
      }
      let withSes: Record<string, unknown>[] = rows.map((r) => ({ ...r }));
      if (opts.sesEndpoint) {
        const client = new SESv2Client({
          endpoint: opts.sesEndpoint,
          region: process.env.AWS_REGION ?? 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        });
        const ses = new SesV2TenantControl(client);
        withSes = [];
        for (const r of rows) withSes.push({ ...r, ses_verdict: await sesVerdictOf(ses, r.tenant_id) });
        client.destroy();
      }
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify(withSes, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        toTable(
          withSes.map(({ evidence: _e, reasons, ses_verdict, ...r }) => {
            const v = ses_verdict as Awaited<ReturnType<typeof sesVerdictOf>> | undefined;
            return {
              ...r,
              reasons: (reasons as string[]).join('; ') || null,
              ...(v
                ? {
                    ses_status: v.ses?.sendingStatusAggregate ?? v.sesError,
                    ses_impact: v.ses?.reputationImpact ?? null,
                    account: v.ses?.accountEnforcementStatus ?? null,
                  }
                : {}),
            };
          }),
        ),
      );
    });
}
