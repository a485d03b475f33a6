import type { Command } from 'commander';
import { UsageError } from '../../lib/errors';
import { toCsv, toTable } from '../../lib/tabular';
import { openLake } from '../../queries/duckdb-lake';
import { NAMED_QUERIES } from '../../queries/named-queries';
import { getNamedQuery, runNamedQuery } from '../../queries/run-named-query';
import { DEFAULT_LAKE } from './ingest';

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
        opts: { lake: string; tenant?: string; from?: string; to?: string; param?: string[]; format: string },
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
        const db = await openLake(opts.lake);
        try {
          // The operator running the CLI is the server here: --tenant sets the scope.
          const rows = await runNamedQuery(db, name, params, { tenant: opts.tenant ?? null });
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
