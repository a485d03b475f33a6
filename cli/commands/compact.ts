import type { Command } from 'commander';
import { compactLake } from '../../ingest/compact';
import { UsageError } from '../../lib/errors';
import { formatProgressBar } from '../../local/ndjson-output';
import { DEFAULT_LAKE } from './ingest';

export function registerCompact(program: Command): void {
  program
    .command('compact')
    .description("merge each lake partition's small files into one and drop duplicate events")
    .option('--lake <dir>', 'lake directory', DEFAULT_LAKE)
    .option('--dt <day>', 'only this day (YYYY-MM-DD)')
    .option('--format <format>', 'summary format: text or json', 'text')
    .action(async (opts: { lake: string; dt?: string; format: string }) => {
      if (opts.dt && !/^\d{4}-\d{2}-\d{2}$/.test(opts.dt)) throw new UsageError('--dt must be YYYY-MM-DD');
      if (opts.format !== 'text' && opts.format !== 'json') throw new UsageError('--format must be text or json');
      const bar = process.stderr.isTTY === true;
      const s = await compactLake(opts.lake, {
        dt: opts.dt,
        onPartition: (done, total) => {
          if (bar) process.stderr.write(`\r${formatProgressBar(done, total, `${done}/${total} partitions`)}`);
        },
      });
      if (bar) process.stderr.write('\n');
      process.stdout.write(
        opts.format === 'json'
          ? `${JSON.stringify(s)}\n`
          : `${s.partitions} partitions: ${s.filesBefore} files -> ${s.filesAfter}, ${s.rowsBefore} rows -> ${s.rowsAfter} (${s.duplicatesDropped} duplicates dropped)\n`,
      );
    });
}
