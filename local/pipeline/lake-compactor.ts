import { type CompactSummary, compactLake } from '../../ingest/compact';
import { FsLakeStore } from '../../ingest/fs-lake-store';
import { type RollupSummary, rollUpLake } from '../../ingest/rollups-writer';

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

/** What one scheduled run did: the compaction, then the rollups of the days it closed or changed. */
export interface LakeCompactorRun extends CompactSummary {
  rollups: RollupSummary;
}

export interface LakeCompactor {
  /** Runs one compaction now (after the one under way, if any). */
  runOnce(): Promise<LakeCompactorRun>;
  /** Stops the schedule and waits for a run under way. */
  stop(): Promise<void>;
}

/**
 * Compacts the closed hours of a local lake on a schedule, as `sesflow compact` does by hand: each partition's files
 * merged into one, duplicates dropped (ingest/compact.ts, crash-safe), then each closed day not yet rolled up, or
 * changed since (a late event), rolled up (ingest/rollups-writer.ts). Without it a long `sesflow start` leaves one
 * file per partition per Firehose flush, and every query opens them all. Readers are safe meanwhile: the `events`
 * view hides rows a crash left twice, and the dashboards' cache lists again when a file it listed is gone.
 */
export function startLakeCompactor(opts: LakeCompactorOptions): LakeCompactor {
  const now = opts.now ?? Date.now;
  let running: Promise<LakeCompactorRun> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const runOnce = (): Promise<LakeCompactorRun> => {
    const previous = running ?? Promise.resolve(null);
    const run = previous
      .catch(() => null)
      .then(async () => {
        const closedBefore = new Date(now() - opts.settleMs);
        const summary = await compactLake(opts.lakeDir, { closedBefore });
        if (summary.filesBefore !== summary.filesAfter || summary.duplicatesDropped > 0) {
          opts.log?.(
            `compaction: ${summary.partitions} closed hours, files ${summary.filesBefore} -> ${summary.filesAfter}, ` +
              `${summary.duplicatesDropped} duplicates dropped`,
          );
        }
        const rollups = await rollUpLake(new FsLakeStore(opts.lakeDir), { closedBefore, now: () => new Date(now()) });
        if (rollups.built + rollups.rebuilt > 0) {
          opts.log?.(`rollups: ${rollups.built} days rolled up, ${rollups.rebuilt} rebuilt (changed since)`);
        }
        return { ...summary, rollups };
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
