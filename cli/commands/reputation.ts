import type { Command } from 'commander';
import { POLICIES } from '../../enrich/reputation/policy';
import { rebuildReputation } from '../../enrich/reputation/rebuild';
import { UsageError } from '../../lib/errors';
import { toTable } from '../../lib/tabular';
import { openLake } from '../../queries/duckdb-lake';
import { DEFAULT_LAKE } from './ingest';

export function registerReputation(program: Command): void {
  program
    .command('reputation')
    .description("rebuild every tenant's reputation and decision (active / warning / paused) from the lake alone")
    .option('--lake <dir>', 'lake directory', DEFAULT_LAKE)
    .option('--at <iso>', 'evaluation time (default: now); the window is the 7 days before it')
    .option('--policy <name>', `policy for every tenant: ${[...POLICIES.keys()].join(', ')}`, 'standard')
    .option('--format <format>', 'table or json (json adds the evidence)', 'table')
    .action(async (opts: { lake: string; at?: string; policy: string; format: string }) => {
      if (!POLICIES.has(opts.policy)) throw new UsageError(`unknown policy ${opts.policy}`);
      if (opts.format !== 'table' && opts.format !== 'json') throw new UsageError('--format must be table or json');
      const at = opts.at ? new Date(opts.at) : new Date();
      if (Number.isNaN(at.getTime())) throw new UsageError(`--at is not an ISO 8601 time: ${opts.at}`);
      const db = await openLake(opts.lake);
      try {
        const rows = await rebuildReputation(db, { at, policyOf: () => opts.policy });
        if (opts.format === 'json') {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        } else {
          process.stdout.write(
            toTable(rows.map(({ evidence: _e, reasons, ...r }) => ({ ...r, reasons: reasons.join('; ') || null }))),
          );
        }
      } finally {
        db.close();
      }
    });
}
