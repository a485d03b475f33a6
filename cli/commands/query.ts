import type { Command } from 'commander';
import { localRollupDays } from '../../ingest/rollups-writer';
import { UsageError } from '../../lib/errors';
import { toCsv, toTable } from '../../lib/tabular';
import { openLake } from '../../queries/duckdb-lake';
import { NAMED_QUERIES } from '../../queries/named-queries';
import { daysOf, pickWholeDays, usableRollupDays, type WholeDays } from '../../queries/rollup-split';
import { getNamedQuery, runNamedQuery, validateParams } from '../../queries/run-named-query';
import { DEFAULT_LAKE } from './ingest';

/**
 * The note on stderr saying where a report's days came from, for a lake that has rollups: the whole days read from
 * rollups, and the stale days of the period (rolled up, but changed since: read from raw events until the next
 * compaction rebuilds them).
 */
export function rollupNote(split: WholeDays | null, staleInPeriod: readonly string[], raw: boolean): string {
  const stale = staleInPeriod.length ? `; stale, read raw until the next compaction: ${staleInPeriod.join(', ')}` : '';
  if (raw) return 'rollups: not used (--raw): every day from raw events';
  if (!split) return `rollups: no rolled-up day lies wholly inside the period: every day from raw events${stale}`;
  const n = daysOf(split).length;
  const last = daysOf(split).at(-1)!;
  const span = n === 1 ? split.from : `${split.from} to ${last}`;
  return `rollups: ${span} (${n} whole day${n === 1 ? '' : 's'}) from rollups, the rest of the period from raw events${stale}`;
}

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('run a named query on the local lake (DuckDB; the same definitions run on Athena in AWS)')
    .argument('<name>', `query name: ${[...NAMED_QUERIES.keys()].join(', ')}`)
    .option('--lake <dir>', 'lake directory', DEFAULT_LAKE)
    .option('--tenant <id>', 'only this tenant (the scope: the server sets it, a query parameter cannot)')
    .option('--from <iso>', 'event time from (inclusive)')
    .option('--to <iso>', 'event time to (exclusive)')
    .option('--param <name=value...>', 'another parameter of the query (listed below), e.g. message_id=…')
    .option('--format <format>', 'json, csv or table', 'table')
    .option('--raw', 'read raw events only, even for days the lake has rolled up')
    .addHelpText(
      'after',
      `\nQueries:\n${[...NAMED_QUERIES.values()]
        .map(
          (q) =>
            `  ${q.name.padEnd(22)} ${q.description}\n${''.padEnd(25)}--param: ${
              q.params
                .filter((p) => !['tenant', 'from', 'to'].includes(p.name))
                .map((p) => `${p.name}${p.required ? ' (required)' : ''}`)
                .join(', ') || '(none besides --tenant --from --to)'
            }`,
        )
        .join('\n')}\nColumns and meanings: docs/queries.md\n`,
    )
    .action(
      async (
        name: string,
        opts: {
          lake: string;
          tenant?: string;
          from?: string;
          to?: string;
          param?: string[];
          format: string;
          raw?: boolean;
        },
      ) => {
        if (!['json', 'csv', 'table'].includes(opts.format))
          throw new UsageError('--format must be json, csv or table');
        const query = getNamedQuery(name);
        const params: Record<string, string | undefined> = { from: opts.from, to: opts.to };
        for (const p of opts.param ?? []) {
          const eq = p.indexOf('=');
          if (eq <= 0) throw new UsageError(`--param needs name=value, got ${p}`);
          params[p.slice(0, eq)] = p.slice(eq + 1);
        }
        // The operator running the CLI is the server here: --tenant sets the scope, and the whole days read from
        // rollups are the longest run of usable rolled-up days inside the period (an aggregate query on a lake
        // that has rollups); the rest comes from raw events. A note on stderr says which.
        const scope = { tenant: opts.tenant ?? null, wholeDays: null as WholeDays | null };
        let note: string | null = null;
        if (query.rollup) {
          const days = [...(await localRollupDays(opts.lake)).values()].filter((d) => d.build !== null);
          if (days.length > 0) {
            const values = validateParams(query, params, scope);
            const [from, to] = [values.from as string | null, values.to as string | null];
            const usable = usableRollupDays(days);
            if (!opts.raw) scope.wholeDays = pickWholeDays(from, to, usable);
            const stale = days
              .map((d) => d.day)
              .filter((d) => !usable.has(d) && pickWholeDays(from, to, [d]) !== null)
              .sort();
            note = rollupNote(scope.wholeDays, stale, opts.raw === true);
          }
        }
        const db = await openLake(opts.lake);
        try {
          const rows = await runNamedQuery(db, name, params, scope);
          if (note) process.stderr.write(`${note}\n`);
          const out =
            opts.format === 'json'
              ? `${JSON.stringify(rows, null, 2)}\n`
              : opts.format === 'csv'
                ? toCsv(
                    rows,
                    query.columns.map((c) => c.name),
                  )
                : toTable(rows);
          process.stdout.write(out);
        } finally {
          db.close();
        }
      },
    );
}
