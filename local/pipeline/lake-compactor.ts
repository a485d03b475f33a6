import { type CompactSummary, compactLake } from '../../ingest/compact';

export interface LakeCompactorOptions {
  lakeDir: string;
  /** Time between the end of one run and the start of the next. */
  everyMs: number;
  /**
   * Only hours that ended at least this long ago are compacted: the local Firehose buffers for seconds, but events
   * of an hour keep coming later (opens and clicks, bounces after retries), and a partition compacted early is simply
   * compacted again at a later run.
   */
  settleMs: number;
  log?: (line: string) => void;
  /** The clock (tests). */
  now?: () => number;
}

export interface LakeCompactor {
  /** Runs one compaction now (after the one under way, if any). */
  runOnce(): Promise<CompactSummary>;
  /** Stops the schedule and waits for a run under way. */
  stop(): Promise<void>;
}

/**
 * Compacts the closed hours of a local lake on a schedule, as `sesflow compact` does by hand: each partition's files
 * merged into one, duplicates dropped (ingest/compact.ts, crash-safe). Without it a long `sesflow start` leaves one
 * file per partition per Firehose flush, and every query opens them all. Readers are safe meanwhile: the `events`
 * view hides rows a crash left twice, and the dashboards' cache lists again when a file it listed is gone.
 */
export function startLakeCompactor(opts: LakeCompactorOptions): LakeCompactor {
  const now = opts.now ?? Date.now;
  let running: Promise<CompactSummary> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const runOnce = (): Promise<CompactSummary> => {
    const previous = running ?? Promise.resolve(null);
    const run = previous
      .catch(() => null)
      .then(async () => {
        const summary = await compactLake(opts.lakeDir, { closedBefore: new Date(now() - opts.settleMs) });
        if (summary.filesBefore !== summary.filesAfter || summary.duplicatesDropped > 0) {
          opts.log?.(
            `compaction: ${summary.partitions} closed hours, files ${summary.filesBefore} -> ${summary.filesAfter}, ` +
              `${summary.duplicatesDropped} duplicates dropped`,
          );
        }
        return summary;
      });
    running = run;
    return run;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      runOnce()
        .catch((err) => opts.log?.(`compaction failed: ${err instanceof Error ? err.message : String(err)}`))
        .finally(schedule);
    }, opts.everyMs);
    timer.unref();
  };
  schedule();

  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
