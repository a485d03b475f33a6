import type { Command } from 'commander';
import { compactLake } from '../../ingest/compact';
import { FsLakeStore } from '../../ingest/fs-lake-store';
import { rollUpLake } from '../../ingest/rollups-writer';
import { UsageError } from '../../lib/errors';
import { formatProgressBar } from '../../local/ndjson-output';
import { readPrivacyConfig } from '../../privacy/config';
import { applyRetention, type RetentionSummary } from '../../privacy/retention';
import { DEFAULT_LAKE } from './ingest';

export function registerCompact(program: Command): void {
  program
    .command('compact')
    .description(
      "merge each lake partition's small files into one and drop duplicate events, then roll up each closed day not yet rolled up or changed since",
    )
    .option('--lake <dir>', 'lake directory', DEFAULT_LAKE)
    .option('--dt <day>', 'only this day (YYYY-MM-DD)')
    .option('--format <format>', 'summary format: text or json', 'text')
    .option(
      '--retention',
      'then delete the partitions past their retention (each day rolled up first): raw events SESFLOW_RAW_RETENTION_DAYS (400), error records SESFLOW_ERROR_RETENTION_DAYS (90), rollups SESFLOW_ROLLUP_RETENTION_DAYS (1825) days after their day',
    )
    .option('--raw-days <n>', 'raw event retention in days (with --retention)')
    .option('--error-days <n>', 'error record retention in days (with --retention)')
    .action(
      async (opts: {
        lake: string;
        dt?: string;
        format: string;
        retention?: boolean;
        rawDays?: string;
        errorDays?: string;
      }) => {
        if (opts.dt && !/^\d{4}-\d{2}-\d{2}$/.test(opts.dt)) throw new UsageError('--dt must be YYYY-MM-DD');
        if (opts.format !== 'text' && opts.format !== 'json') throw new UsageError('--format must be text or json');
        if ((opts.rawDays || opts.errorDays) && !opts.retention)
          throw new UsageError('--raw-days and --error-days go with --retention');
        let policy: ReturnType<typeof readPrivacyConfig>['retention'] | null = null;
        if (opts.retention) {
          const env = { ...process.env };
          if (opts.rawDays) env.SESFLOW_RAW_RETENTION_DAYS = opts.rawDays;
          if (opts.errorDays) env.SESFLOW_ERROR_RETENTION_DAYS = opts.errorDays;
          try {
            policy = readPrivacyConfig(env).retention;
          } catch (err) {
            throw new UsageError(
              err instanceof Error
                ? err.message
                    .replace('SESFLOW_RAW_RETENTION_DAYS', '--raw-days')
                    .replace('SESFLOW_ERROR_RETENTION_DAYS', '--error-days')
                : String(err),
            );
          }
        }
        const bar = process.stderr.isTTY === true;
        const s = await compactLake(opts.lake, {
          dt: opts.dt,
          onPartition: (done, total) => {
            if (bar) process.stderr.write(`\r${formatProgressBar(done, total, `${done}/${total} partitions`)}`);
          },
        });
        if (bar) process.stderr.write('\n');
        // Every day whose 24 hours have ended: built if new, built again if its raw files changed since. Before
        // retention deletes raw days, every day is (a rollup outlives its raw events).
        const store = new FsLakeStore(opts.lake);
        const rollups = await rollUpLake(store, { dt: policy ? undefined : opts.dt, closedBefore: new Date() });
        const retention: RetentionSummary | null = policy ? await applyRetention(store, policy) : null;
        const kept = retention
          ? `retention: ${retention.eventFilesDeleted} event files before ${retention.keptFrom.events}, ${retention.errorFilesDeleted} error files before ${retention.keptFrom.errors}, ${retention.rollupFilesDeleted} rollup files before ${retention.keptFrom.rollups} deleted\n`
          : '';
        process.stdout.write(
          opts.format === 'json'
            ? `${JSON.stringify(retention ? { ...s, rollups, retention } : { ...s, rollups })}\n`
            : `${kept}${s.partitions} partitions: ${s.filesBefore} files -> ${s.filesAfter}, ${s.rowsBefore} rows -> ${s.rowsAfter} (${s.duplicatesDropped} duplicates dropped)\n` +
                `rollups: ${rollups.built} days rolled up, ${rollups.rebuilt} rebuilt (changed since), ${rollups.fresh} up to date\n`,
        );
      },
    );
}
